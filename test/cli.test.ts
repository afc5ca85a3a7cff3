import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startDuoSimulator } from '../src/simulators/duo/server';
import { startJupiterOneSimulator } from '../src/simulators/jupiterone/server';
import { stopAtEnd } from './harness/root-hooks';
import { DUO_J1_ARGS } from './harness/cli';
import { modulesLoaded } from './harness/inspect';

const exec = promisify(execFile);
const SECRET = 'a-secret-key-that-must-not-be-printed-0123456789';
const SENTINEL = 'Zq7sentinelSECRET0x9KpLmN4vB8aaaaaaaaaaaa';

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the duo-j1 command with only the given environment (plus PATH and HOME). */
async function duoJ1(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [...DUO_J1_ARGS, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the duo-j1 command', () => {
  it('has --help on every command of the tree', async () => {
    const top = await duoJ1(['--help']);
    assert.equal(top.code, 0);
    for (const command of [
      'start',
      'worker',
      'run',
      'schedule',
      'validate',
      'simulate',
      'document',
      'visualize',
      'bench',
    ]) {
      assert.match(top.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
    }
    const commands = [
      ['start'],
      ['worker'],
      ['run'],
      ['validate'],
      ['document'],
      ['visualize'],
      ['bench'],
      ['simulate', 'duo'],
      ['simulate', 'jupiterone'],
      ...['apply', 'describe', 'pause', 'unpause', 'trigger', 'delete', 'list'].map((verb) => ['schedule', verb]),
    ];
    const helps = await Promise.all(commands.map((command) => duoJ1([...command, '--help'])));
    helps.forEach((help, index) => {
      assert.equal(help.code, 0, commands[index].join(' '));
      assert.match(help.stdout, new RegExp(`Usage: duo-j1 ${commands[index].join(' ')}`), commands[index].join(' '));
    });
    const schedule = await duoJ1(['schedule', '--help']);
    for (const verb of ['apply', 'describe', 'pause', 'unpause', 'trigger', 'delete', 'list'])
      assert.match(schedule.stdout, new RegExp(`  ${verb}\\b`));
  });

  it('exits 2 on usage errors and on bad configuration, naming every setting and never a secret', async () => {
    const unknown = await duoJ1(['no-such-command']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command/);
    const bad = await duoJ1(['validate'], {
      DUO_API_HOSTNAME: 'example.com',
      DUO_SECRET_KEY: SECRET,
      DUO_POLLING_INTERVAL: 'SOMETIMES',
    });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /DUO_API_HOSTNAME "example.com" is not a Duo API hostname/);
    assert.match(bad.stderr, /DUO_INTEGRATION_KEY is required/);
    assert.match(bad.stderr, /DUO_POLLING_INTERVAL must be one of/);
    assert.ok(!`${bad.stdout}${bad.stderr}`.includes(SECRET));
  });

  it('validate reports every problem of a strict instances file, exit 2, and never a secret', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'duo-j1-cli-'));
    const file = path.join(dir, 'instances.json');
    writeFileSync(
      file,
      JSON.stringify([
        {
          id: 'corp',
          apiHostname: SENTINEL,
          integrationKey: 'DIWJ8X6AEYOR5OMC6TQ1',
          secretKey: { env: 'CORP_DUO_SKEY' },
          pollingIntervall: 'ONE_HOUR',
          jupiterOne: { account: 'acct', apiKey: { env: 'CORP_J1_KEY' }, integrationInstanceId: 'inst' },
          token: SENTINEL,
          accountName: 'a'.repeat(1_000_000),
        },
      ]),
    );
    const outcome = await duoJ1(['validate', '--instances', file], { CORP_DUO_SKEY: SENTINEL, CORP_J1_KEY: SENTINEL });
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.match(outcome.stderr, /5 configuration problems/);
    assert.match(
      outcome.stderr,
      /instances\[0\] \(corp\)\.jupiterOne is not a known field; did you mean "jupiterone"\?/,
    );
    assert.match(
      outcome.stderr,
      /instances\[0\] \(corp\)\.pollingIntervall is not a known field; did you mean "pollingInterval"\?/,
    );
    assert.match(outcome.stderr, /instances\[0\] \(corp\)\.token is not a known field/);
    assert.match(outcome.stderr, /instances\[0\] \(corp\)\.accountName is 1,000,000 characters long/);
    assert.match(
      outcome.stderr,
      /instances\[0\] \(corp\)\.apiHostname \(a 41-character value that looks like a key or secret, not shown\)/,
    );
    assert.ok(!`${outcome.stdout}${outcome.stderr}`.includes(SENTINEL), 'no secret is printed');
  });

  it('validate reports the credentials and each grant, present or missing (exit 1 when one is missing)', async () => {
    const duo = await startDuoSimulator({ users: 5 });
    stopAtEnd(() => duo.close());
    const env = {
      DUO_API_HOSTNAME: duo.apiHostname,
      DUO_INTEGRATION_KEY: duo.integrationKey,
      DUO_SECRET_KEY: duo.secretKey,
      DUO_J1_INSECURE_DUO_BASE_URL: duo.url,
    };
    const ok = await duoJ1(['validate', '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    const [report] = JSON.parse(ok.stdout) as { credentials: string; grants: { grant: string; status: string }[] }[];
    assert.equal(report.credentials, 'valid');
    assert.ok(report.grants.every((g) => g.status === 'present'));

    duo.setFaults({ endpointErrors: { '/admin/v1/admins': { status: 403, code: 40301 } } });
    const missing = await duoJ1(['validate'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /MISSING Grant administrators/);
    assert.match(missing.stdout, /credentials: valid/);

    const wrong = await duoJ1(['validate'], { ...env, DUO_SECRET_KEY: SECRET });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stdout, /credentials: invalid/);
    assert.ok(!`${wrong.stdout}${wrong.stderr}`.includes(SECRET), 'the secret is never printed');
  });

  it('validate checks JupiterOne first: key, account and integration instance, leaving no job open', async () => {
    const duo = await startDuoSimulator({ users: 5 });
    stopAtEnd(() => duo.close());
    const j1 = await startJupiterOneSimulator({ integrationInstanceIds: ['the-instance'] });
    stopAtEnd(() => j1.close());
    const env = {
      DUO_API_HOSTNAME: duo.apiHostname,
      DUO_INTEGRATION_KEY: duo.integrationKey,
      DUO_SECRET_KEY: duo.secretKey,
      DUO_J1_INSECURE_DUO_BASE_URL: duo.url,
      JUPITERONE_API_KEY: j1.apiKey,
      JUPITERONE_ACCOUNT: j1.account,
      JUPITERONE_API_BASE_URL: j1.url,
      JUPITERONE_INTEGRATION_INSTANCE_ID: 'the-instance',
    };
    const ok = await duoJ1(['validate', '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    const [report] = JSON.parse(ok.stdout) as { jupiterone: { status: string; target: string } }[];
    assert.deepEqual(report.jupiterone, { status: 'accepted', target: 'integration instance the-instance' });
    assert.deepEqual(
      j1.jobs().map((info) => info.job.status),
      ['ABORTED'],
      'the job that proved the target was aborted at once',
    );

    const wrongKey = await duoJ1(['validate'], { ...env, JUPITERONE_API_KEY: SECRET });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stdout, /JupiterOne: refused .*401.*Check JUPITERONE_API_KEY and JUPITERONE_ACCOUNT/);
    assert.ok(!`${wrongKey.stdout}${wrongKey.stderr}`.includes(SECRET), 'the key is never printed');

    const wrongInstance = await duoJ1(['validate'], { ...env, JUPITERONE_INTEGRATION_INSTANCE_ID: 'a-typo' });
    assert.equal(wrongInstance.code, 1);
    assert.match(wrongInstance.stdout, /INTEGRATION_INSTANCE_NOT_FOUND.*Check JUPITERONE_INTEGRATION_INSTANCE_ID/);
    assert.match(wrongInstance.stdout, /Duo credentials: valid/, 'Duo is still reported');
    assert.equal(j1.jobs().filter((info) => info.job.status === 'AWAITING_UPLOADS').length, 0);
  });

  it('simulate duo and simulate jupiterone print one JSON line once listening, and stop on SIGTERM', async () => {
    for (const [args, fields] of [
      [
        ['simulate', 'duo', '--users', '10'],
        ['url', 'apiHostname', 'integrationKey', 'secretKey'],
      ],
      [
        ['simulate', 'jupiterone'],
        ['url', 'apiKey', 'account'],
      ],
    ] as const) {
      const child = spawn(process.execPath, [...DUO_J1_ARGS, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      stopAtEnd(() => void child.kill('SIGKILL'));
      const line = await new Promise<string>((resolve) => {
        let buffer = '';
        child.stdout.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          if (buffer.includes('\n')) resolve(buffer.split('\n')[0]);
        });
      });
      const announced = JSON.parse(line) as Record<string, string>;
      assert.deepEqual(Object.keys(announced).sort(), [...fields].sort());
      assert.match(announced.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const answer = await fetch(`${announced.url}/admin/v1/users`);
      assert.ok(answer.status === 401 || answer.status === 404, 'it answers on loopback');
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
  });

  it('run, schedule and cluster load no part of the worker SDK: they only talk to Temporal as a client', async () => {
    const { before } = await modulesLoaded(['run', 'schedule', 'cluster'].map((name) => `cli/commands/${name}`));
    assert.deepEqual(
      before.filter((file) => file.includes('@temporalio/worker')),
      [],
    );
  });

  it('document --check passes on the committed docs', async () => {
    const check = await duoJ1(['document', '--check']);
    assert.equal(check.code, 0, check.stderr);
  });
});
