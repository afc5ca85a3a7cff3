/**
 * Structured logs for worker processes: one JSON object per line (or readable text), on stdout.
 * The SDK's own log lines are routed through the same sink. Nothing here adds secrets: clients
 * redact their errors, and activity and workflow inputs hold none.
 */
import { DefaultLogger, makeTelemetryFilterString, type LogLevel, type RuntimeOptions } from '@temporalio/worker';
import type { Logger } from '../activities/dependencies';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

export type LogFormat = 'json' | 'text';

export function parseLogLevel(value: string): LogLevel {
  const upper = value.toUpperCase();
  if (!(LEVELS as readonly string[]).includes(upper))
    throw new Error(`--log-level must be one of ${LEVELS.join(', ')}`);
  return upper as LogLevel;
}

function write(
  out: NodeJS.WritableStream,
  format: LogFormat,
  level: string,
  message: string,
  fields: Record<string, unknown> = {},
): void {
  const time = new Date().toISOString();
  if (format === 'json') {
    out.write(JSON.stringify({ time, level: level.toLowerCase(), message, ...fields }, safeReplacer) + '\n');
  } else {
    const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields, safeReplacer)}` : '';
    out.write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extra}\n`);
  }
}

/**
 * Where the SDK's native core sends its own log lines (nondeterminism, a namespace not found, …):
 * forwarded to the runtime's logger, so they come out as lines of the same stream instead of the
 * core's colored text on stdout.
 */
export const CORE_LOG_FORWARDING: NonNullable<NonNullable<RuntimeOptions['telemetryOptions']>['logging']> = {
  filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }),
  forward: {},
};

/** Errors become their name and message; bigints become strings; nothing else is expanded. */
function safeReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Our log lines and the SDK's, on `out` (default stdout; commands whose stdout is their answer use stderr). */
export function createLoggers(
  format: LogFormat,
  level: LogLevel,
  out: NodeJS.WritableStream = process.stdout,
): { log: Logger; sdkLogger: DefaultLogger } {
  const threshold = LEVELS.indexOf(level as (typeof LEVELS)[number]);
  const log: Logger = (lineLevel, message, fields) => {
    if (LEVELS.indexOf(lineLevel.toUpperCase() as (typeof LEVELS)[number]) >= threshold)
      write(out, format, lineLevel, message, fields);
  };
  const sdkLogger = new DefaultLogger(level, (entry) =>
    write(out, format, entry.level, entry.message, entry.meta ?? {}),
  );
  return { log, sdkLogger };
}
