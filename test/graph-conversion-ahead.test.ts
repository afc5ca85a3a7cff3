import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { buildGraph } from '../src/graph/build-graph';
import { ConversionAhead, convertedAheadFileName } from '../src/graph/conversion-ahead';
import type { GraphInstanceContext } from '../src/graph/converters';
import { rawDatasetName } from '../src/graph/data-model';
import { RESOURCE_NAMES, type ResourceName } from '../src/resources/table';
import type { FetchOutcomeLike } from '../src/graph/partial-datasets';
import { generateTenant, type DuoTenant } from '../src/simulators/duo/tenant-generator';
import { DatasetWriter } from '../src/staging/dataset-writer';
import { LocalDirectoryStagingStore } from '../src/staging/local-directory-store';
import type { StagedRun } from '../src/staging/store';
import { stagedGraphTexts } from './harness/staged-graph';

const roots: string[] = [];
let runs = 0;

async function newRun(): Promise<StagedRun> {
  const root = mkdtempSync(path.join(tmpdir(), 'duo-j1-ahead-'));
  roots.push(root);
  runs += 1;
  return (await LocalDirectoryStagingStore.open(root)).openRun(`ahead-test-${runs}`);
}

async function stage(run: StagedRun, resource: ResourceName, records: readonly unknown[]): Promise<void> {
  // Small parts, as pages would be: many parts to convert ahead.
  const writer = new DatasetWriter(run, rawDatasetName(resource), { recordsPerPart: 97 });
  for (const record of records) await writer.add(record);
  await writer.close();
}

const RESOURCES_AFTER_ACCOUNT = RESOURCE_NAMES.filter(
  (resource): resource is Exclude<ResourceName, 'account'> => resource !== 'account',
);

function recordsOf(tenant: DuoTenant, resource: Exclude<ResourceName, 'account'>): readonly unknown[] {
  switch (resource) {
    case 'admins':
      return tenant.admins;
    case 'groups':
      return tenant.groups;
    case 'integrations':
      return tenant.integrations.map(({ secret_key: _secret, ...rest }) => rest);
    case 'phones':
      return tenant.phones;
    case 'tokens':
      return tenant.tokens;
    case 'webauthn':
      return tenant.webauthncredentials;
    case 'users':
      return tenant.users;
  }
}

async function stageAccount(run: StagedRun, tenant: DuoTenant, ahead?: ConversionAhead): Promise<void> {
  await stage(run, 'account', [{ settings: tenant.settings, infoSummary: tenant.infoSummary }]);
  // As the account's fetch does once its record is staged.
  ahead?.accountSettled(run.key);
}

/** Offers every staged part of the resources, as the fetch activities do after writing each. */
async function offerAll(
  ahead: ConversionAhead,
  run: StagedRun,
  context: GraphInstanceContext,
  resources: readonly ResourceName[] = RESOURCES_AFTER_ACCOUNT,
): Promise<number> {
  let offered = 0;
  for (const resource of resources) {
    const manifest = await run.readManifest(rawDatasetName(resource));
    for (const part of manifest?.parts ?? []) {
      ahead.offer(run, resource, part.index, context);
      offered += 1;
    }
  }
  return offered;
}

/** Waits until every part offered so far is converted (or given up), without stopping the service. */
async function drained(ahead: ConversionAhead, run: StagedRun, expectedFiles: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let files = 0;
    for (const resource of RESOURCES_AFTER_ACCOUNT) {
      const manifest = await run.readManifest(rawDatasetName(resource));
      for (const part of manifest?.parts ?? []) {
        if (await run.readFile(convertedAheadFileName(resource, part.index))) files += 1;
      }
    }
    if (files >= expectedFiles) return;
    if (Date.now() > deadline) throw new Error(`only ${files} of ${expectedFiles} parts converted ahead`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function allComplete(): Record<ResourceName, FetchOutcomeLike> {
  return Object.fromEntries(RESOURCE_NAMES.map((r) => [r, { status: 'complete' }])) as Record<
    ResourceName,
    FetchOutcomeLike
  >;
}

function assertSameGraph(actual: Map<string, string>, expected: Map<string, string>): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  for (const [name, text] of expected) assert.equal(actual.get(name), text, `${name} is the same`);
}

describe('converting staged parts ahead of the build', function () {
  this.timeout(120_000);

  // Users with duplicates, invalid values, U2F tokens and missing ends (the generator's awkward cases).
  const tenant = generateTenant({ users: 900, seed: 23, tokens: 60 });
  const context: GraphInstanceContext = { siteId: tenant.siteId, apiHostname: tenant.apiHostname };
  let reference: Map<string, string>;
  let referenceSummary: Awaited<ReturnType<typeof buildGraph>>;
  let ahead: ConversionAhead;

  before(async () => {
    const run = await newRun();
    await stageAccount(run, tenant);
    for (const resource of RESOURCES_AFTER_ACCOUNT) await stage(run, resource, recordsOf(tenant, resource));
    referenceSummary = await buildGraph(run, allComplete(), context, { conversionThreads: 0 });
    reference = await stagedGraphTexts(run);
  });

  beforeEach(() => {
    ahead = new ConversionAhead({ threads: 1, minRecords: 0 });
  });

  afterEach(async () => {
    await ahead.close();
  });

  after(async () => {
    for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
  });

  it('builds from the parts converted ahead exactly the graph a build converting them stages', async () => {
    const run = await newRun();
    await stageAccount(run, tenant, ahead);
    for (const resource of RESOURCES_AFTER_ACCOUNT) await stage(run, resource, recordsOf(tenant, resource));
    const offered = await offerAll(ahead, run, context);
    await drained(ahead, run, offered);
    await ahead.finish(run.key);

    const summary = await buildGraph(run, allComplete(), context, { conversionThreads: 0 });
    assert.deepEqual(summary.convertedAhead, { parts: offered, of: offered }, 'every part came converted');
    assert.ok(offered > 20);
    assert.deepEqual({ ...summary, convertedAhead: undefined }, { ...referenceSummary, convertedAhead: undefined });
    assertSameGraph(await stagedGraphTexts(run), reference);
  });

  it('converts a part again when it was written again after its conversion (a retried fetch)', async () => {
    const run = await newRun();
    await stageAccount(run, tenant, ahead);
    for (const resource of RESOURCES_AFTER_ACCOUNT) await stage(run, resource, recordsOf(tenant, resource));
    const offered = await offerAll(ahead, run, context, ['users']);
    await drained(ahead, run, offered);
    await ahead.finish(run.key);

    // Part 0 of the users is staged again with one user renamed: the kept conversion is stale.
    const users = tenant.users
      .slice(0, 97)
      .map((user, index) => (index === 5 ? { ...user, realname: 'Renamed' } : user));
    const rewritten = await run.writePart(rawDatasetName('users'), 0, users);
    const manifest = (await run.readManifest(rawDatasetName('users')))!;
    await run.commitManifest(rawDatasetName('users'), manifest.meta, [rewritten, ...manifest.parts.slice(1)]);
    const summary = await buildGraph(run, allComplete(), context, { conversionThreads: 0 });
    assert.equal(summary.convertedAhead.parts, offered - 1, 'all users parts but the rewritten one');

    const userTexts = (await stagedGraphTexts(run)).get('graph/entities/duo_user')!;
    assert.match(userTexts, /"displayName":"Renamed"/, 'the rewritten record is what the graph holds');
    assert.doesNotMatch(reference.get('graph/entities/duo_user')!, /"displayName":"Renamed"/);
  });

  it('converts parts that need the account key once the account is staged, and uses them only with that key and context', async () => {
    const run = await newRun();
    for (const resource of RESOURCES_AFTER_ACCOUNT) await stage(run, resource, recordsOf(tenant, resource));
    const offered = await offerAll(ahead, run, context, ['users', 'phones']);
    const phoneParts = (await run.readManifest(rawDatasetName('phones')))!.parts.length;
    // Phones have no edge from the account: they are converted at once; users wait for the account.
    await drained(ahead, run, phoneParts);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await run.readFile(convertedAheadFileName('users', 0)), undefined, 'users wait for the account');
    await stageAccount(run, tenant, ahead);
    await drained(ahead, run, offered);
    await ahead.finish(run.key);

    const summary = await buildGraph(run, allComplete(), context, { conversionThreads: 0 });
    assert.equal(summary.convertedAhead.parts, offered);
    assertSameGraph(await stagedGraphTexts(run), reference);

    // The account staged again under another name: its key changes, the users' conversions are stale.
    await run.writePart(rawDatasetName('account'), 0, [
      { settings: { ...tenant.settings, name: 'Renamed Account' }, infoSummary: tenant.infoSummary },
    ]);
    await run.commitManifest(rawDatasetName('account'));
    const renamed = await buildGraph(run, allComplete(), context, { conversionThreads: 0 });
    assert.equal(renamed.convertedAhead.parts, phoneParts, 'only the phones still hold');
    assert.match(
      (await stagedGraphTexts(run)).get('graph/relationships/duo_account_has_user')!,
      /"_fromEntityKey":"duo-account:[^"]*:renamed-account"/,
    );

    const tagged: GraphInstanceContext = { ...context, accountName: 'Other', tagWithAccountName: true };
    const again = await buildGraph(run, allComplete(), tagged, { conversionThreads: 0 });
    assert.equal(again.convertedAhead.parts, 0, 'converted with another context: none holds');
    assert.match((await stagedGraphTexts(run)).get('graph/entities/duo_phone')!, /"tag\.AccountName":"Other"/);
  });

  it('converts without an account when the account fetch failed for good, as the build then does', async () => {
    const accountFailed = { ...allComplete(), account: { status: 'failed', reason: 'missing Grant settings' } };
    const plain = await newRun();
    const run = await newRun();
    for (const staged of [plain, run]) {
      for (const resource of RESOURCES_AFTER_ACCOUNT) await stage(staged, resource, recordsOf(tenant, resource));
    }
    const offered = await offerAll(ahead, run, context, ['users', 'groups']);
    ahead.accountSettled(run.key); // the account's fetch failed with a 403
    await drained(ahead, run, offered);
    await ahead.finish(run.key);

    const expected = await buildGraph(plain, accountFailed, context, { conversionThreads: 0 });
    const summary = await buildGraph(run, accountFailed, context, { conversionThreads: 0 });
    assert.equal(summary.convertedAhead.parts, offered);
    assert.deepEqual(summary.partialTypes, expected.partialTypes);
    assertSameGraph(await stagedGraphTexts(run), await stagedGraphTexts(plain));
  });

  it('stops for a run on finish: queued parts are dropped, parts in hand are completed first', async () => {
    const run = await newRun();
    await stageAccount(run, tenant, ahead);
    for (const resource of RESOURCES_AFTER_ACCOUNT) await stage(run, resource, recordsOf(tenant, resource));
    const offered = await offerAll(ahead, run, context, ['users', 'phones']);
    await ahead.finish(run.key);

    let kept = 0;
    for (const resource of ['users', 'phones'] as const) {
      const folder = path.join(roots.at(-1)!, 'runs', encodeURIComponent(run.key), 'converted', resource);
      let names: string[] = [];
      try {
        names = readdirSync(folder);
      } catch {
        // Nothing of this resource was converted.
      }
      assert.ok(
        names.every((name) => /^part-\d{6}$/.test(name)),
        `no temporary file left in ${resource}: ${names.join(', ')}`,
      );
      kept += names.length;
    }
    assert.ok(kept >= 1 && kept < offered, `the part in hand was finished (${kept} of ${offered} kept)`);

    const summary = await buildGraph(run, allComplete(), context, { conversionThreads: 0 });
    assert.equal(summary.convertedAhead.parts, kept);
    assertSameGraph(await stagedGraphTexts(run), reference);
  });

  /** Nice values of this process's threads (Linux), the main thread's first. */
  function niceValues(): number[] {
    const tasks = readdirSync('/proc/self/task').sort((a, b) =>
      a === String(process.pid) ? -1 : b === String(process.pid) ? 1 : 0,
    );
    return tasks.map((task) => {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      // Fields after the command name (in parentheses): the nice value is field 19 of the line.
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    });
  }

  it('converts on threads of lower priority than the rest of the process (Linux)', async function () {
    if (process.platform !== 'linux' || getPriority() >= 10) this.skip();
    // Relative to threads already lowered (another suite's worker may still have some running).
    const before = niceValues().filter((nice) => nice === 10).length;
    const run = await newRun();
    await stageAccount(run, tenant, ahead);
    await stage(run, 'users', tenant.users);
    const offered = await offerAll(ahead, run, context, ['users']);
    await drained(ahead, run, offered);
    const nice = niceValues();
    assert.notEqual(nice[0], 10, 'the main thread keeps its priority');
    assert.ok(nice.filter((value) => value === 10).length > before, 'the converting threads run at nice 10');
  });

  it('lends its running threads to a build, and stops them once nobody uses them', async function () {
    if (process.platform !== 'linux' || getPriority() >= 10) this.skip();
    const run = await newRun();
    await stageAccount(run, tenant);
    for (const resource of RESOURCES_AFTER_ACCOUNT) await stage(run, resource, recordsOf(tenant, resource));
    // Relative to threads already lowered (another suite's worker may still have some running).
    const before = niceValues().filter((nice) => nice === 10).length;
    const lowered = () => niceValues().filter((nice) => nice === 10).length - before;
    let lent = 0;
    const summary = await buildGraph(run, allComplete(), context, {
      conversionThreads: 2,
      borrowThreads: () => {
        lent += 1;
        return ahead.lend();
      },
    });
    assert.equal(lent, 1, 'borrowed once, at the first part to convert');
    assert.deepEqual(summary.convertedAhead, { parts: 0, of: summary.convertedAhead.of });
    assertSameGraph(await stagedGraphTexts(run), reference);
    assert.ok(lowered() >= 1, 'the lent threads run until they have been idle a moment');
    for (let waited = 0; lowered() > 0 && waited < 15_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(lowered(), 0, 'stopped once released and idle');
  });
});
