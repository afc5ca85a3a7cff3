/**
 * The `User-Agent` duo-j1 sends to Duo and to JupiterOne: `duo-j1/<version>`, as Duo's own clients
 * name themselves (`duo_api_python/<version>`, …), so either side can tell duo-j1's requests and
 * its versions apart in their logs.
 *
 * The version is read from package.json once, when this module is first loaded. The file is found
 * relative to this module, which sits one folder below the package root both as source
 * (`src/util/`) and compiled (`dist/util/`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  if (manifest.name !== 'duo-j1' || typeof manifest.version !== 'string' || manifest.version === '') {
    throw new Error(`duo-j1 cannot read its own version from ${file}`);
  }
  return manifest.version;
}

/** duo-j1's version, from its package.json. */
export const DUO_J1_VERSION: string = packageVersion();

/** The `User-Agent` header of every request duo-j1 makes. */
export const DUO_J1_USER_AGENT = `duo-j1/${DUO_J1_VERSION}`;
