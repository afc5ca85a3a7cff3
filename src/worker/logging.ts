/**
 * Structured logs for worker processes: one JSON object per line (or readable text), on stdout.
 * The SDK's own log lines are routed through the same sink. Nothing here adds secrets: clients
 * redact their errors, and activity and workflow inputs hold none.
 */
import { DefaultLogger, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../activities/dependencies';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export type LogFormat = 'json' | 'text';

export function parseLogLevel(value: string): LogLevel {
  const upper = value.toUpperCase();
  if (!(LEVELS as readonly string[]).includes(upper))
    throw new Error(`--log-level must be one of ${LEVELS.join(', ')}`);
  return upper as LogLevel;
}

function write(format: LogFormat, level: string, message: string, fields: Record<string, unknown> = {}): void {
  const time = new Date().toISOString();
  if (format === 'json') {
    process.stdout.write(JSON.stringify({ time, level: level.toLowerCase(), message, ...fields }, safeReplacer) + '\n');
  } else {
    const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields, safeReplacer)}` : '';
    process.stdout.write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra}\n`);
  }
}

/** Errors become their name and message; bigints become strings; nothing else is expanded. */
function safeReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function createLoggers(format: LogFormat, level: LogLevel): { log: Logger; sdkLogger: DefaultLogger } {
  const threshold = LEVELS.indexOf(level as (typeof LEVELS)[number]);
  const log: Logger = (lineLevel, message, fields) => {
    if (LEVELS.indexOf(lineLevel.toUpperCase() as (typeof LEVELS)[number]) >= threshold)
      write(format, lineLevel, message, fields);
  };
  const sdkLogger = new DefaultLogger(level, (entry) => write(format, entry.level, entry.message, entry.meta ?? {}));
  return { log, sdkLogger };
}
