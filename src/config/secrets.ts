/**
 * Secrets in the configuration: only ever references — `{ "env": "VARIABLE" }` or
 * `{ "file": "path" }` — resolved by the worker when a client needs them (`resolveSecret`). No
 * message here contains a secret value: errors name the reference, never what it holds.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { unknownFields } from '../util/known-names';
import { describePath, describeValue } from '../util/redact';
import { ConfigurationError } from './errors';
import { jsonKind, LENGTH_LIMITS, type ProblemList, readText, shown } from './values';

/** Where a secret comes from. `value` exists only in-process (the bundled simulator's test keys). */
export type SecretReference = { env: string } | { file: string } | { value: string; description: string };

type Env = Record<string, string | undefined>;

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads a secret reference from the instances file. Relative file paths are relative to
 * `baseDir`, the instances file's folder. An inline string is refused without being quoted.
 */
export function readSecretReference(
  value: unknown,
  setting: string,
  baseDir: string,
  problems: ProblemList,
): SecretReference | undefined {
  if (value === undefined || value === null) {
    problems.add(setting, 'is required: {"env": "VARIABLE"} or {"file": "path"}');
    return undefined;
  }
  if (typeof value === 'string') {
    problems.add(
      setting,
      'must be a reference, {"env": "VARIABLE"} or {"file": "path"}; secrets are not accepted inline in the instances file',
    );
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.add(setting, `must be {"env": "VARIABLE"} or {"file": "path"}, not ${jsonKind(value)}`);
    return undefined;
  }
  const reference = value as Record<string, unknown>;
  for (const field of unknownFields(reference, ['env', 'file'])) {
    // The field's value is never shown: an unknown field may well hold the secret itself.
    problems.add(
      setting,
      `has an unknown field ${shown(field.name)}${field.suggestion ? ` (did you mean "${field.suggestion}"?)` : ''}; a secret reference is {"env": "VARIABLE"} or {"file": "path"}`,
    );
  }
  const hasEnv = reference.env !== undefined;
  const hasFile = reference.file !== undefined;
  if (hasEnv === hasFile) {
    problems.add(setting, 'must name either "env" or "file", exactly one of them');
    return undefined;
  }
  if (hasEnv) {
    const name = readText(reference.env, `${setting}.env`, LENGTH_LIMITS.variableName, problems);
    if (name === undefined) return undefined;
    if (!VARIABLE_NAME.test(name)) {
      problems.add(`${setting}.env`, `must name an environment variable (letters, digits and "_"), not ${shown(name)}`);
      return undefined;
    }
    return { env: name };
  }
  const file = readText(reference.file, `${setting}.file`, LENGTH_LIMITS.path, problems);
  return file === undefined ? undefined : { file: path.resolve(baseDir, file) };
}

/** The reference for a message: the variable's name or the file's path, as long as neither looks like a secret. */
export function describeReference(reference: SecretReference): string {
  if ('env' in reference) return `environment variable ${unquotedName(reference.env)}`;
  if ('file' in reference) return `file ${describePath(reference.file)}`;
  return reference.description;
}

function unquotedName(name: string): string {
  const text = describeValue(name);
  return text === JSON.stringify(name) ? name : text;
}

/**
 * Reads a secret from its reference. Errors name the reference, never a value. Surrounding white
 * space (a trailing newline in a secret file) is removed.
 */
export function resolveSecret(reference: SecretReference, env: Env = process.env): string {
  let value: string | undefined;
  if ('value' in reference) value = reference.value;
  else if ('env' in reference) value = env[reference.env];
  else {
    try {
      value = readFileSync(reference.file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigurationError([{ setting: describeReference(reference), message: `cannot be read (${code})` }]);
    }
  }
  const trimmed = value?.trim();
  if (!trimmed) {
    throw new ConfigurationError([{ setting: describeReference(reference), message: 'is empty or not set' }]);
  }
  if (trimmed.length > LENGTH_LIMITS.secret) {
    throw new ConfigurationError([
      {
        setting: describeReference(reference),
        message: `holds ${trimmed.length.toLocaleString('en-US')} characters; a key is at most ${LENGTH_LIMITS.secret.toLocaleString('en-US')} (is it the right ${'file' in reference ? 'file' : 'variable'}?)`,
      },
    ]);
  }
  return trimmed;
}

/**
 * Checks that a secret reference can be resolved, reporting the problem under `setting`, and
 * returns the value so that the caller can keep it out of every message (never to store it).
 */
export function checkSecretAvailable(
  reference: SecretReference,
  setting: string,
  env: Env,
  problems: ProblemList,
): string | undefined {
  try {
    return resolveSecret(reference, env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    for (const problem of error.problems) problems.add(setting, `${problem.setting} ${problem.message}`);
    return undefined;
  }
}
