/**
 * The graph duo-j1 delivers for a fixed Duo tenant, kept as a folder: for proving that a change
 * meant to leave the graph alone (a refactoring, speed work) leaves it byte for byte.
 *
 *   node -r tsx/cjs scripts/graph-snapshot.ts --users 20000 --seed 7 --out /tmp/graph-after
 *   node -r tsx/cjs scripts/graph-snapshot.ts --recorded --out /tmp/recorded-after
 *   diff -r /tmp/graph-before /tmp/graph-after
 *
 * It serves the tenant (generated from `--users` and `--seed`, or the recorded responses in
 * test/fixtures/duo-recorded) with the bundled Duo simulator, runs `duo-j1 start` against it in a
 * fresh data folder (embedded Temporal dev server, local graph directory, no JupiterOne), and
 * copies the instance's `.j1-integration` tree to `--out`. The tree's file names are random (as
 * `j1-integration collect` names them), so the copy names each file by the SHA-256 of its bytes,
 * and each link of the `index/` folders by the file it points at: two checkouts that build the same
 * graph then give identical folders. To compare with an older checkout, copy this file there and
 * run it in both.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { ALLOWED_ADMIN_AUTH_METHODS, generateTenant, type DuoTenant } from '../src/simulators/duo/tenant-generator';

const REPO = path.resolve(__dirname, '..');
const INSTANCE_ID = 'snapshot';

/** The recorded responses as one tenant (no tokens, WebAuthn credentials, bypass codes or endpoints were recorded). */
function recordedTenant(): DuoTenant {
  const folder = path.join(REPO, 'test', 'fixtures', 'duo-recorded');
  const response = (name: string) =>
    (JSON.parse(readFileSync(path.join(folder, `${name}.200.json`), 'utf8')) as { response: never }).response;
  return {
    siteId: '56cd46b9',
    apiHostname: 'api-56cd46b9.duosecurity.com',
    settings: response('admin_v1_settings'),
    infoSummary: { admin_count: 2, integration_count: 1, user_count: 1, user_pending_deletion_count: 0 },
    // Not recorded: the answer Duo documents.
    allowedAdminAuthMethods: ALLOWED_ADMIN_AUTH_METHODS,
    admins: response('admin_v1_admins'),
    groups: response('admin_v1_groups'),
    users: response('admin_v1_users'),
    phones: response('admin_v1_phones'),
    tokens: [],
    webauthncredentials: [],
    bypassCodes: [],
    endpoints: [],
    authenticationAttempts: {},
    integrations: response('admin_v1_integrations'),
    // Nothing recorded for these.
    policies: [],
    policySummary: { policies: [], policy_count: 0, response_is_truncated: false, warnings: [] },
    administrativeUnits: [],
  };
}

/** A file's name in the copy: the SHA-256 of its bytes, its extension kept. */
function contentName(file: string): string {
  return `${createHash('sha256').update(readFileSync(file)).digest('hex')}${path.extname(file)}`;
}

/**
 * Copies `from` to `to` with content names (see the module comment); a symbolic link becomes a
 * small text file naming the copy of its target, relative to `root`.
 */
function copyByContent(from: string, to: string, root: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const source = path.join(from, name);
    const stats = lstatSync(source);
    if (stats.isDirectory()) {
      copyByContent(source, path.join(to, name), root);
    } else if (stats.isSymbolicLink()) {
      const target = realpathSync(source);
      const named = path.join(path.relative(root, path.dirname(target)), contentName(target));
      writeFileSync(path.join(to, `${contentName(target)}.link`), `${named}\n`);
    } else {
      writeFileSync(path.join(to, contentName(source)), readFileSync(source));
    }
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      users: { type: 'string', default: '20000' },
      seed: { type: 'string', default: '7' },
      recorded: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  if (!values.out) throw new Error('--out <folder> is required');
  const tenant = values.recorded
    ? recordedTenant()
    : generateTenant({ users: Number(values.users), seed: Number(values.seed) });
  const duo = await startDuoSimulator({ tenant });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'duo-j1-snapshot-'));
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DUO_J1_DATA_DIR: dataDir,
      DUO_INSTANCE_ID: INSTANCE_ID,
      DUO_API_HOSTNAME: duo.apiHostname,
      DUO_INTEGRATION_KEY: duo.integrationKey,
      DUO_SECRET_KEY: duo.secretKey,
      DUO_J1_INSECURE_DUO_BASE_URL: duo.url,
      DUO_REQUESTS_PER_MINUTE: '600000',
      DUO_POLLING_INTERVAL: 'DISABLED',
    };
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(REPO, 'bin', 'duo-j1.js'), 'start'], {
        cwd: REPO,
        env,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`duo-j1 start exited with ${code}`);
    const out = path.resolve(values.out);
    rmSync(out, { recursive: true, force: true });
    const tree = realpathSync(path.join(dataDir, 'output', INSTANCE_ID, '.j1-integration'));
    copyByContent(tree, out, tree);
    process.stderr.write(`The graph is in ${out}\n`);
  } finally {
    await duo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
