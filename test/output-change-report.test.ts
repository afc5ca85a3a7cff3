import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { cp, lstat, readFile, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_GRAPH_STEPS } from '../src/activities/deliver';
import { DECLARED_TYPES, ENTITY_TYPES } from '../src/graph/data-model';
import type { Entity, Relationship } from '../src/graph/types';
import { graphObjectJson } from '../src/graph/serialization';
import { TypeChangeTracker } from '../src/output/change-report';
import {
  contentHash,
  formatChangeReport,
  readChangeReport,
  graphObjectSource,
  replacedVersionsDeleted,
  writeLocalGraph,
  type ChangeReport,
  type GraphStep,
  type PartialTypeInput,
  type TypeChanges,
} from '../src/output';

const STEPS: GraphStep[] = [
  {
    id: 'fetch-account',
    name: 'Fetch Account',
    entityTypes: ['duo_account'],
    relationshipTypes: ['duo_account_has_user'],
  },
  { id: 'fetch-phones', name: 'Fetch Phones', entityTypes: ['duo_phone'], relationshipTypes: ['duo_user_uses_phone'] },
  { id: 'fetch-users', name: 'Fetch Users', entityTypes: ['duo_user'], relationshipTypes: [] },
];
const ACCOUNT_KEY = 'duo-account:dia7qq6f:acme';

function user(id: string, extra: Record<string, unknown> = {}): Entity {
  return {
    _key: `duo-user:${id}`,
    _type: 'duo_user',
    _class: ['User'],
    name: id.toLowerCase(),
    displayName: `User ${id}`,
    active: true,
    _rawData: [
      { name: 'default', rawData: { user_id: id, status: 'active' } },
      { name: 'groups', rawData: { groups: [] } },
    ],
    ...extra,
  } as Entity;
}

function phone(id: string): Entity {
  return {
    _key: id,
    _type: 'duo_phone',
    _class: ['Device'],
    name: `Phone ${id}`,
    displayName: `Phone ${id}`,
  };
}

function relationship(type: string, cls: string, from: string, to: string): Relationship {
  return {
    _key: `${from}|${cls.toLowerCase()}|${to}`,
    _type: type,
    _class: cls,
    _fromEntityKey: from,
    _toEntityKey: to,
    displayName: cls,
  };
}

interface Graph {
  users: Entity[];
  phones: Entity[];
  uses: Relationship[];
}

function graphOf(users: Entity[], phones: Entity[], uses: [string, string][] = []): Graph {
  return { users, phones, uses: uses.map(([u, p]) => relationship('duo_user_uses_phone', 'USES', u, p)) };
}

async function* streamOf<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

const temporaryFolders: string[] = [];

async function deliver(dataDir: string, graph: Graph, partialTypes: PartialTypeInput[] = [], keyListLimit?: number) {
  const account: Entity = {
    _key: ACCOUNT_KEY,
    _type: 'duo_account',
    _class: ['Account'],
    name: 'Acme',
    displayName: 'Acme',
  };
  const entities: Record<string, Entity[]> = { duo_account: [account], duo_user: graph.users, duo_phone: graph.phones };
  const relationships: Record<string, Relationship[]> = {
    duo_account_has_user: graph.users.map((u) => relationship('duo_account_has_user', 'HAS', ACCOUNT_KEY, u._key)),
    duo_user_uses_phone: graph.uses,
  };
  return writeLocalGraph({
    dataDir,
    instanceId: 'acme',
    steps: STEPS,
    partialTypes,
    keyListLimit,
    source: graphObjectSource({
      entities: (type) => streamOf(entities[type] ?? []),
      relationships: (type) => streamOf(relationships[type] ?? []),
    }),
  });
}

function changesOf(report: ChangeReport, type: string): TypeChanges {
  const changes = report.types.find((t) => t.type === type);
  assert.ok(changes, `the report lists ${type}`);
  return changes;
}

async function keysInOutput(outputDir: string, stepId: string, kind: 'entities' | 'relationships'): Promise<string[]> {
  const folder = path.join(outputDir, '.j1-integration', 'graph', stepId, kind);
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return [];
  }
  const keys: string[] = [];
  for (const name of names) {
    const parsed = JSON.parse(await readFile(path.join(folder, name), 'utf8')) as Record<string, { _key: string }[]>;
    keys.push(...parsed[kind].map((o) => o._key));
  }
  return keys.sort();
}

describe('change report of the local graph directory', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'duo-j1-changes-'));
    temporaryFolders.push(dataDir);
  });
  after(async () => {
    for (const folder of temporaryFolders) await rm(folder, { recursive: true, force: true });
  });

  it('names every declared type, in the change report and in the picture’s legend, with the product’s steps', async () => {
    const result = await writeLocalGraph({
      dataDir,
      instanceId: 'every-type',
      steps: LOCAL_GRAPH_STEPS,
      partialTypes: [],
      source: graphObjectSource({ entities: () => streamOf([]), relationships: () => streamOf([]) }),
    });
    const report = JSON.parse(await readFile(result.paths.changesFile, 'utf8')) as ChangeReport;
    assert.deepEqual(report.types.map((changes) => changes.type).sort(), [...DECLARED_TYPES].sort());
    const html = await readFile(result.paths.htmlFile, 'utf8');
    const dataStart = html.indexOf('>', html.indexOf('id="duo-graph-data"')) + 1;
    const json = html.slice(dataStart, html.indexOf('</script>', dataStart));
    const picture = JSON.parse(json) as { types: { name: string }[]; relationshipTypes: { name: string }[] };
    assert.deepEqual(picture.types.map((type) => type.name).sort(), [...ENTITY_TYPES].sort());
    assert.deepEqual(
      picture.relationshipTypes.map((type) => type.name).sort(),
      DECLARED_TYPES.filter((type) => !ENTITY_TYPES.includes(type)).sort(),
    );
  });

  it('reports everything as created the first time, and an unchanged graph as zero changes', async () => {
    const graph = graphOf([user('DU1'), user('DU2')], [phone('DP1')], [['duo-user:DU1', 'DP1']]);
    const first = await deliver(dataDir, graph);
    assert.equal(first.changes.comparedWithPreviousOutput, false);
    assert.deepEqual(first.changes.totals, {
      created: 1 + 2 + 1 + 2 + 1,
      updated: 0,
      deleted: 0,
      unchanged: 0,
      carriedOver: 0,
    });
    assert.match(formatChangeReport(first.changes), /^No previous output to compare with: 7 objects created\./);

    // Same content with properties and _rawData entries in another order: still unchanged.
    const reordered = graph.users.map((u) => {
      const { _rawData, ...rest } = u;
      const shuffled = Object.fromEntries(Object.entries(rest).reverse());
      return { ...shuffled, _rawData: [...(_rawData ?? [])].reverse() } as Entity;
    });
    const second = await deliver(dataDir, { ...graph, users: reordered });
    assert.equal(second.changes.comparedWithPreviousOutput, true);
    assert.deepEqual(second.changes.totals, { created: 0, updated: 0, deleted: 0, unchanged: 7, carriedOver: 0 });
    for (const changes of second.changes.types) {
      assert.deepEqual([changes.createdKeys, changes.updatedKeys, changes.deletedKeys], [[], [], []], changes.type);
    }
    assert.equal(
      formatChangeReport(second.changes),
      'Changes since the previous output: 0 created, 0 updated, 0 deleted, 7 unchanged.',
    );
  });

  it('reports added, modified and removed users with their keys, in changes.json and as text', async () => {
    await deliver(dataDir, graphOf([user('DU1'), user('DU2'), user('DU3')], [phone('DP1')]));
    const next = await deliver(
      dataDir,
      graphOf(
        [
          user('DU1'),
          user('DU2', { active: false }), // a property changed
          user('DU4'),
        ],
        [phone('DP1')],
      ),
    );
    const users = changesOf(next.changes, 'duo_user');
    assert.deepEqual(
      {
        created: users.createdKeys,
        updated: users.updatedKeys,
        deleted: users.deletedKeys,
        unchanged: users.unchanged,
      },
      { created: ['duo-user:DU4'], updated: ['duo-user:DU2'], deleted: ['duo-user:DU3'], unchanged: 1 },
    );
    const accountHasUser = changesOf(next.changes, 'duo_account_has_user');
    assert.deepEqual(accountHasUser.createdKeys, [`${ACCOUNT_KEY}|has|duo-user:DU4`]);
    assert.deepEqual(accountHasUser.deletedKeys, [`${ACCOUNT_KEY}|has|duo-user:DU3`]);
    assert.deepEqual(next.changes.totals, { created: 2, updated: 1, deleted: 2, unchanged: 5, carriedOver: 0 });

    const onDisk = await readChangeReport(next.paths.outputDir);
    assert.ok(onDisk);
    assert.equal(onDisk.keyListLimit, null);
    assert.deepEqual(changesOf(onDisk, 'duo_user').deletedKeys, ['duo-user:DU3']);
    assert.deepEqual(onDisk.totals, next.changes.totals);
    assert.deepEqual(JSON.parse(await readFile(next.paths.changesFile, 'utf8')), onDisk);

    const text = formatChangeReport(next.changes);
    assert.match(text, /^Changes since the previous output: 2 created, 1 updated, 2 deleted, 5 unchanged\./);
    assert.match(
      text,
      /\n {2}duo_user: 1 created, 1 updated, 1 deleted\n {4}created: duo-user:DU4\n {4}updated: duo-user:DU2\n {4}deleted: duo-user:DU3/,
    );
    assert.doesNotMatch(text, /duo_phone/, 'types without changes are left out of the text');

    // A change inside _rawData content is an update too.
    const rawChanged = user('DU1');
    (rawChanged._rawData as { rawData: Record<string, unknown> }[])[0].rawData.status = 'bypass';
    const third = await deliver(
      dataDir,
      graphOf([rawChanged, user('DU2', { active: false }), user('DU4')], [phone('DP1')]),
    );
    assert.deepEqual(changesOf(third.changes, 'duo_user').updatedKeys, ['duo-user:DU1']);
  });

  it('does not report partial types as deleted: their previous objects are kept in the output', async () => {
    const first = await deliver(
      dataDir,
      graphOf(
        [user('DU1'), user('DU2')],
        [phone('DP1'), phone('DP2'), phone('DP3')],
        [
          ['duo-user:DU1', 'DP1'],
          ['duo-user:DU2', 'DP2'],
        ],
      ),
    );
    assert.equal(first.objectCounts.duo_phone, 3);
    // The phones fetch failed half-way: one phone (changed) came through, DP2 and DP3 did not.
    const changedPhone = { ...phone('DP1'), displayName: 'Work phone' };
    const next = await deliver(dataDir, graphOf([user('DU1')], [changedPhone], [['duo-user:DU1', 'DP1']]), [
      { type: 'duo_phone', reason: 'phones fetch failed' },
      'duo_user_uses_phone',
    ]);
    const phones = changesOf(next.changes, 'duo_phone');
    assert.equal(phones.partial, true);
    assert.equal(phones.partialReason, 'phones fetch failed');
    assert.deepEqual(phones.deletedKeys, []);
    assert.equal(phones.deleted, 0);
    assert.equal(phones.carriedOver, 2);
    assert.deepEqual(phones.updatedKeys, ['DP1']);
    const uses = changesOf(next.changes, 'duo_user_uses_phone');
    assert.deepEqual([uses.deleted, uses.carriedOver, uses.unchanged], [0, 1, 1]);
    // A type that is not partial still reports its deletions.
    assert.deepEqual(changesOf(next.changes, 'duo_user').deletedKeys, ['duo-user:DU2']);

    // The output holds the delivered phone (its new version) plus the two kept from before.
    assert.deepEqual(await keysInOutput(next.paths.outputDir, 'fetch-phones', 'entities'), ['DP1', 'DP2', 'DP3']);
    assert.equal(next.objectCounts.duo_phone, 3);
    const phoneFiles = await readdir(
      path.join(next.paths.outputDir, '.j1-integration', 'graph', 'fetch-phones', 'entities'),
    );
    const written = JSON.parse(
      await readFile(
        path.join(next.paths.outputDir, '.j1-integration', 'graph', 'fetch-phones', 'entities', phoneFiles[0]),
        'utf8',
      ),
    ) as { entities: Entity[] };
    assert.equal(written.entities.find((p) => p._key === 'DP1')?.displayName, 'Work phone');
    assert.match(
      formatChangeReport(next.changes),
      /duo_phone \(partial: phones fetch failed; previous objects are kept\): 1 updated, 2 kept from the previous output/,
    );
    const summary = JSON.parse(await readFile(next.paths.summaryFile, 'utf8'));
    assert.deepEqual(summary.metadata.partialDatasets.types, ['duo_phone', 'duo_user_uses_phone']);

    // Once the phones come through again, the ones really gone are reported deleted.
    const recovered = await deliver(
      dataDir,
      graphOf([user('DU1')], [changedPhone, phone('DP2')], [['duo-user:DU1', 'DP1']]),
    );
    assert.deepEqual(changesOf(recovered.changes, 'duo_phone').deletedKeys, ['DP3']);
    assert.deepEqual(changesOf(recovered.changes, 'duo_user_uses_phone').deletedKeys, ['duo-user:DU2|uses|DP2']);
  });

  it('keeps full key lists in changes.json and the first N in the returned report and the text', async () => {
    const users = Array.from({ length: 30 }, (_, i) => user(`DU${String(i).padStart(2, '0')}`));
    await deliver(dataDir, graphOf([], []));
    const result = await deliver(dataDir, graphOf(users, []), [], 4);
    const created = changesOf(result.changes, 'duo_user');
    assert.equal(created.created, 30);
    assert.equal(result.changes.keyListLimit, 4);
    assert.deepEqual(created.createdKeys, ['duo-user:DU00', 'duo-user:DU01', 'duo-user:DU02', 'duo-user:DU03']);
    const onDisk = await readChangeReport(result.paths.outputDir);
    assert.equal(changesOf(onDisk!, 'duo_user').createdKeys.length, 30);
    assert.match(
      formatChangeReport(result.changes, { maxKeysPerList: 2 }),
      /created: duo-user:DU00, duo-user:DU01 … and 28 more/,
    );
  });

  it('reports the objects of a type no step declares any more as deleted', async () => {
    await deliver(dataDir, graphOf([user('DU1')], [phone('DP1')]));
    const withoutPhones = STEPS.filter((step) => step.id !== 'fetch-phones');
    const result = await writeLocalGraph({
      dataDir,
      instanceId: 'acme',
      steps: withoutPhones,
      partialTypes: [],
      source: graphObjectSource({
        entities: (type) => streamOf(type === 'duo_user' ? [user('DU1')] : []),
        relationships: () => streamOf([]),
      }),
    });
    assert.deepEqual(changesOf(result.changes, 'duo_phone').deletedKeys, ['DP1']);
  });
});

describe('a type’s section of changes.json', () => {
  it('is, in pieces, the pretty JSON of every change with all its keys, however many and however spelt', () => {
    const awkward = ['"quoted"', 'back\\slash', 'Zoë', 'tab\tand\nnewline', '\u0001', '\ud800', '\u{1F600}'];
    const created = Array.from({ length: 5_000 }, (_, i) => `duo-user:DU${i}${awkward[i % awkward.length]}`);
    const deleted = ['DP1', 'DP2'];
    const tracker = new TypeChangeTracker(
      'duo_user',
      'entities',
      { partial: true, reason: '"createdKeys": 0 in a reason' },
      3,
    );
    created.forEach((key, i) => tracker.delivered(key, i % 2 === 0 ? undefined : 'old', 'new'));
    tracker.delivered('same', 'h', 'h');
    for (const key of deleted) tracker.deleted(key);
    tracker.carriedOver();
    const section = Buffer.concat(
      [...tracker.sectionPieces()].map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)),
    ).toString('utf8');
    const everything: TypeChanges = {
      type: 'duo_user',
      kind: 'entities',
      partial: true,
      partialReason: '"createdKeys": 0 in a reason',
      created: 2_500,
      updated: 2_500,
      deleted: 2,
      unchanged: 1,
      carriedOver: 1,
      createdKeys: created.filter((_, i) => i % 2 === 0),
      updatedKeys: created.filter((_, i) => i % 2 === 1),
      deletedKeys: deleted,
    };
    assert.equal(section, JSON.stringify(everything, null, 2).replace(/\n/g, '\n    '));
    assert.deepEqual(tracker.changes.createdKeys, everything.createdKeys.slice(0, 3), 'the first keys kept as strings');
    assert.deepEqual(tracker.changes.deletedKeys, deleted);

    const empty = new TypeChangeTracker('duo_phone', 'entities', { partial: false });
    const emptySection = [...empty.sectionPieces()].join('');
    assert.equal(emptySection, JSON.stringify(empty.changes, null, 2).replace(/\n/g, '\n    '));
  });
});

describe('content identity of graph objects', () => {
  it('ignores the order of properties and of _rawData entries, and nothing else', () => {
    const base = {
      _key: 'k-000000001',
      _type: 't',
      b: [1, 2],
      a: 'x',
      _rawData: [
        { name: 'b', rawData: {} },
        { name: 'a', rawData: { z: 1, y: 2 } },
      ],
    };
    const reordered = {
      _rawData: [
        { name: 'a', rawData: { z: 1, y: 2 } },
        { name: 'b', rawData: {} },
      ],
      a: 'x',
      b: [1, 2],
      _type: 't',
      _key: 'k-000000001',
    };
    assert.equal(graphObjectJson(base), graphObjectJson(reordered));
    assert.equal(contentHash(base), contentHash(reordered));
    assert.equal(contentHash({ ...base, undefinedProperty: undefined }), contentHash(base));
    assert.notEqual(contentHash({ ...base, b: [2, 1] }), contentHash(base), 'array order in properties counts');
    assert.notEqual(contentHash({ ...base, c: null }), contentHash(base), 'a property set to null counts');
    assert.notEqual(
      contentHash({
        ...base,
        _rawData: [
          { name: 'a', rawData: { z: 2 } },
          { name: 'b', rawData: {} },
        ],
      }),
      contentHash(base),
      '_rawData content counts',
    );
    assert.notEqual(
      contentHash({ ...base, _rawData: [{ name: 'a', rawData: { y: 2, z: 1 } }, base._rawData[0]] }),
      contentHash(base),
      'nested JSON inside _rawData is compared as written',
    );
    assert.match(contentHash(base), /^[A-Za-z0-9_-]{22}$/);
  });
});

describe('change report against an output written elsewhere', () => {
  it('compares with a plain folder put at the output path (no stored hashes, no index)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'duo-j1-changes-'));
    try {
      const first = await deliver(dataDir, graphOf([user('DU1'), user('DU2')], [phone('DP1')]));
      // What `j1-integration collect` leaves: only .j1-integration/graph and summary.json, in a real folder.
      const handMade = path.join(dataDir, 'hand-made');
      await cp(path.join(first.paths.outputDir, '.j1-integration'), path.join(handMade, '.j1-integration'), {
        recursive: true,
      });
      await rm(path.join(handMade, '.j1-integration', 'index'), { recursive: true });
      await rm(first.paths.outputDir);
      await rename(handMade, first.paths.outputDir);

      const next = await deliver(dataDir, graphOf([user('DU1', { active: false }), user('DU3')], [phone('DP1')]));
      assert.equal(next.changes.comparedWithPreviousOutput, true);
      const users = changesOf(next.changes, 'duo_user');
      assert.deepEqual(
        [users.createdKeys, users.updatedKeys, users.deletedKeys],
        [['duo-user:DU3'], ['duo-user:DU1'], ['duo-user:DU2']],
      );
      assert.equal(changesOf(next.changes, 'duo_phone').unchanged, 1);
      assert.ok((await lstat(next.paths.outputDir)).isSymbolicLink(), 'the output path is a link again');
      await replacedVersionsDeleted();
      assert.equal((await readdir(path.join(dataDir, 'output', '.versions', 'acme'))).length, 1);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
