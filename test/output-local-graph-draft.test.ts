/**
 * The local output written as the graph is built (src/output/local-graph-draft.ts): objects of
 * every type arrive interleaved, in the order a build makes them, and the version published is the
 * one `writeLocalGraph` writes from the same objects, type by type.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { readFile, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { graphIndexEntry, graphObjectHash, graphObjectJson } from '../src/graph/serialization';
import type { Entity, Relationship } from '../src/graph/types';
import { graphObjectSource, replacedVersionsDeleted, writeLocalGraph, type PartialTypeInput } from '../src/output';
import { LocalGraphDraft, publishPreparedLocalGraph, removePreparedLocalGraph } from '../src/output/local-graph-draft';
import type { PictureData } from '../src/output/picture/picture-data';
import { SAMPLE_STEPS, employeeMapping, has } from './harness/graph-objects';

const ACCOUNT_KEY = 'duo-account:dia7qq6f:acme';

function user(index: number, name = `User ${index}`): Entity {
  return {
    _key: `duo-user:DU${String(index).padStart(6, '0')}`,
    _type: 'duo_user',
    _class: ['User'],
    name: `user${index}`,
    displayName: name,
    email: [`user${index}@example.com`],
  } as Entity;
}

function group(index: number): Entity {
  return { _key: `duo-group:DG${index}`, _type: 'duo_group', _class: ['UserGroup'], name: `Group ${index}` };
}

const ACCOUNT: Entity = { _key: ACCOUNT_KEY, _type: 'duo_account', _class: ['Account'], name: 'Acme' };

type Kind = 'entities' | 'relationships';
interface Made {
  kind: Kind;
  object: Entity | Relationship;
}

/**
 * A graph in the order a build makes it: the account, the groups, then each user followed at once
 * by its edges, among them an edge to a group made before the group's own entity would be (the
 * group of user 0 comes last), so the picture meets an edge before one of its ends.
 */
function madeInBuildOrder(userCount: number, renamed = new Set<number>()): Made[] {
  const made: Made[] = [{ kind: 'entities', object: ACCOUNT }];
  const groups = [group(1), group(2), group(3)];
  for (const g of groups.slice(0, 2)) {
    made.push({ kind: 'entities', object: g });
    made.push({ kind: 'relationships', object: has(ACCOUNT_KEY, g._key, 'duo_account_has_group') });
  }
  for (let index = 0; index < userCount; index += 1) {
    const u = user(index, renamed.has(index) ? `Renamed ${index}` : undefined);
    made.push({ kind: 'entities', object: u });
    made.push({ kind: 'relationships', object: has(ACCOUNT_KEY, u._key, 'duo_account_has_user') });
    made.push({ kind: 'relationships', object: employeeMapping(u) });
    const groupOf = index === 0 ? groups[2] : groups[index % 2];
    made.push({ kind: 'relationships', object: has(groupOf._key, u._key, 'duo_group_has_user') });
  }
  made.push({ kind: 'entities', object: groups[2] });
  made.push({ kind: 'relationships', object: has(ACCOUNT_KEY, groups[2]._key, 'duo_account_has_group') });
  return made;
}

/** The same objects, per kind and type in the order they were made: what a staged graph holds. */
function byType(made: readonly Made[]): Record<Kind, Map<string, (Entity | Relationship)[]>> {
  const types: Record<Kind, Map<string, (Entity | Relationship)[]>> = { entities: new Map(), relationships: new Map() };
  for (const { kind, object } of made) {
    const list = types[kind].get(object._type) ?? [];
    list.push(object);
    types[kind].set(object._type, list);
  }
  return types;
}

function builtCounts(made: readonly Made[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { object } of made) counts[object._type] = (counts[object._type] ?? 0) + 1;
  return counts;
}

/** Writes the objects the usual way: the whole version, type by type. */
async function writeWhole(dataDir: string, made: readonly Made[], partialTypes: PartialTypeInput[] = []) {
  const types = byType(made);
  return writeLocalGraph({
    dataDir,
    instanceId: 'acme',
    steps: SAMPLE_STEPS,
    partialTypes,
    built: builtCounts(made),
    source: graphObjectSource({
      entities: (type) => (types.entities.get(type) ?? []) as Entity[],
      relationships: (type) => (types.relationships.get(type) ?? []) as Relationship[],
    }),
  });
}

/** Writes them as a build makes them, into a draft, and publishes it. */
async function writeAsBuilt(dataDir: string, made: readonly Made[], partialTypes: PartialTypeInput[] = []) {
  const draft = await LocalGraphDraft.start({ dataDir, instanceId: 'acme', steps: SAMPLE_STEPS });
  // As a build gives them: views of one buffer that the next object fills again (the buffer of a
  // staged part reads the next part once it is applied), so the draft copies what it keeps.
  const bytes = Buffer.alloc(64 * 1024);
  for (const { kind, object } of made) {
    const text = graphObjectJson(object);
    const entry = JSON.stringify(graphIndexEntry(object, graphObjectHash(text)));
    const length = bytes.write(text);
    assert.equal(length, Buffer.byteLength(text), 'the object fits the buffer');
    await draft.add(kind, object._type, bytes.subarray(0, length), entry);
  }
  assert.equal(draft.failed, false);
  const prepared = await draft.complete(partialTypes, builtCounts(made));
  const published = await publishPreparedLocalGraph({ dataDir, instanceId: 'acme' }, prepared, {
    partialTypes,
    built: builtCounts(made),
  });
  assert.ok(published, 'the draft was made for this delivery, and is published');
  return published;
}

/** What an output says, but for what differs by nature between two writes: file names and times. */
async function contentOf(outputDir: string) {
  const j1 = path.join(outputDir, '.j1-integration');
  const objects: Record<string, unknown[]> = {};
  for (const step of SAMPLE_STEPS) {
    for (const kind of ['entities', 'relationships'] as const) {
      const folder = path.join(j1, 'graph', step.id, kind);
      const names = await readdir(folder).catch(() => []);
      for (const name of names) {
        const file = JSON.parse(await readFile(path.join(folder, name), 'utf8')) as Record<Kind, { _type: string }[]>;
        for (const object of file[kind]) (objects[object._type] ??= []).push(object);
      }
    }
  }
  // Files hold their objects in the order made; which file comes first is the file name's chance.
  for (const list of Object.values(objects)) list.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  const hashes: Record<string, string> = {};
  for (const kind of ['entities', 'relationships']) {
    const folder = path.join(outputDir, '.content-hashes-v2', kind);
    for (const name of await readdir(folder))
      hashes[`${kind}/${name}`] = await readFile(path.join(folder, name), 'utf8');
  }
  const changes = JSON.parse(await readFile(path.join(outputDir, 'changes.json'), 'utf8')) as { generatedAt?: string };
  delete changes.generatedAt;
  return { objects, hashes, summary: await readFile(path.join(j1, 'summary.json'), 'utf8'), changes };
}

/** The picture's data as graph.html embeds it, its node and edge lists as sets (their order is arrival's). */
async function pictureOf(outputDir: string) {
  const html = await readFile(path.join(outputDir, 'graph.html'), 'utf8');
  const json = /<script type="application\/json" id="duo-graph-data">([\s\S]*?)<\/script>/.exec(html)?.[1];
  assert.ok(json, 'graph.html embeds its data');
  const data = JSON.parse(json) as Omit<PictureData, 'nodes'> & { nodes: { key: string; type: number }[] };
  const keyOf = (node: number) => data.nodes[node].key;
  return {
    types: data.types,
    relationshipTypes: data.relationshipTypes,
    typeEdges: [...data.typeEdges].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    nodes: data.nodes.map((node) => JSON.stringify(node)).sort(),
    edges: data.edges.map((edge) => `${edge.type} ${keyOf(edge.source)} ${keyOf(edge.target)}`).sort(),
  };
}

const folders: string[] = [];
function newDataDir(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'duo-j1-draft-'));
  folders.push(folder);
  return folder;
}

describe('local output written as the graph is built', () => {
  after(async () => {
    await replacedVersionsDeleted();
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('publishes the version writing it whole gives: the same objects, hashes, summary, changes and picture', async () => {
    const made = madeInBuildOrder(1_200);
    const whole = newDataDir();
    const asBuilt = newDataDir();
    const written = await writeWhole(whole, made);
    const published = await writeAsBuilt(asBuilt, made);
    assert.deepEqual(published.objectCounts, written.objectCounts);
    assert.deepEqual(published.changes.totals, written.changes.totals);
    assert.equal(published.changes.totals.created, made.length);
    assert.deepEqual(await contentOf(published.paths.outputDir), await contentOf(written.paths.outputDir));
    const picture = await pictureOf(published.paths.outputDir);
    assert.deepEqual(picture, await pictureOf(written.paths.outputDir));
    // The edge met before the group it ends at is drawn all the same.
    assert.ok(picture.edges.some((edge) => edge.endsWith(`duo-group:DG3 ${user(0)._key}`)));
  });

  it('compares with the previous output and keeps the previous objects of a partial type, as writing it whole does', async () => {
    const before = madeInBuildOrder(700);
    // This time: users 0–599 only (the users' type partial), three of them renamed.
    const after = madeInBuildOrder(600, new Set([3, 4, 5]));
    const partialTypes: PartialTypeInput[] = [{ type: 'duo_user', reason: 'the users fetch failed' }];
    const whole = newDataDir();
    const asBuilt = newDataDir();
    await writeWhole(whole, before);
    await writeWhole(asBuilt, before);
    const written = await writeWhole(whole, after, partialTypes);
    const published = await writeAsBuilt(asBuilt, after, partialTypes);
    assert.deepEqual(published.changes.totals, written.changes.totals);
    assert.equal(published.changes.totals.updated, 6, 'three users, and the employee mappings that carry their names');
    assert.equal(published.changes.totals.carriedOver, 100, 'the users not read this time are kept');
    assert.ok(
      published.changes.totals.deleted > 0,
      'edges of users not read are deleted (their types are not partial)',
    );
    assert.deepEqual(await contentOf(published.paths.outputDir), await contentOf(written.paths.outputDir));
    assert.deepEqual(await pictureOf(published.paths.outputDir), await pictureOf(written.paths.outputDir));
  });

  it('is not published for another delivery: other partial types or counts, or an output changed since it began', async () => {
    const made = madeInBuildOrder(50);
    const dataDir = newDataDir();
    const output = { dataDir, instanceId: 'acme' };
    const first = await writeWhole(dataDir, made);
    const linked = async () => readlink(first.paths.outputDir);
    const firstVersion = await linked();
    const draft = await LocalGraphDraft.start({ dataDir, instanceId: 'acme', steps: SAMPLE_STEPS });
    for (const { kind, object } of made) {
      const text = graphObjectJson(object);
      await draft.add(kind, object._type, text, JSON.stringify(graphIndexEntry(object, graphObjectHash(text))));
    }
    const built = builtCounts(made);
    const prepared = await draft.complete([], built);
    const current = async () => (await readdir(path.join(dataDir, 'output', '.versions', 'acme'))).sort();
    const versionsBefore = await current();

    assert.equal(await publishPreparedLocalGraph(output, prepared, { partialTypes: ['duo_group'], built }), undefined);
    assert.equal(
      await publishPreparedLocalGraph(output, prepared, { partialTypes: [], built: { ...built, duo_user: 49 } }),
      undefined,
    );
    assert.deepEqual(await current(), versionsBefore, 'nothing changed');
    assert.equal(await linked(), firstVersion, 'the output is still the first');

    // Another write made the output current after the draft began: the draft compared with the one before.
    await writeWhole(dataDir, made);
    await replacedVersionsDeleted();
    assert.equal(await publishPreparedLocalGraph(output, prepared, { partialTypes: [], built }), undefined);
    assert.notEqual(await linked(), firstVersion, 'the output is the one written whole since');
    await removePreparedLocalGraph(output, prepared);
    assert.deepEqual(await current(), [path.basename(await linked())], 'only the output written whole is left');
  });

  it('fails to complete, publishing nothing, when the build gave it a key twice', async () => {
    const made = madeInBuildOrder(20);
    const dataDir = newDataDir();
    const first = await writeWhole(dataDir, made);
    const firstVersion = await readlink(first.paths.outputDir);
    const draft = await LocalGraphDraft.start({ dataDir, instanceId: 'acme', steps: SAMPLE_STEPS });
    const twice = made[7].object;
    for (const { kind, object } of [...made, made[7]]) {
      const text = graphObjectJson(object);
      await draft.add(kind, object._type, text, JSON.stringify(graphIndexEntry(object, graphObjectHash(text))));
    }
    await assert.rejects(draft.complete([], builtCounts(made)), (error: Error) =>
      error.message.includes(`_key "${twice._key}" appears twice among the "${twice._type}"`),
    );
    await draft.discard();
    assert.equal(await readlink(first.paths.outputDir), firstVersion, 'the output is still the first');
    assert.deepEqual(await readdir(path.join(dataDir, 'output', '.versions', 'acme')), [path.basename(firstVersion)]);
  });

  it('is given up, never published, when its folder was removed while it was written', async () => {
    const made = madeInBuildOrder(1_200);
    const dataDir = newDataDir();
    const draft = await LocalGraphDraft.start({ dataDir, instanceId: 'acme', steps: SAMPLE_STEPS });
    const half = Math.floor(made.length / 2);
    const add = async ({ kind, object }: Made) => {
      const text = graphObjectJson(object);
      await draft.add(kind, object._type, text, JSON.stringify(graphIndexEntry(object, graphObjectHash(text))));
    };
    for (const item of made.slice(0, half)) await add(item);
    // As another write's removal of leftovers, or a person cleaning up, would.
    await rm(path.join(dataDir, 'output', '.versions', 'acme'), { recursive: true, force: true });
    for (const item of made.slice(half)) await add(item);
    // Its writes fail, or, where they made the folders again, the mark it began with is missing.
    await assert.rejects(draft.complete([], builtCounts(made)));
    await draft.discard();
    await assert.rejects(readdir(path.join(dataDir, 'output', 'acme')), { code: 'ENOENT' });
    assert.deepEqual(await readdir(path.join(dataDir, 'output', '.versions', 'acme')).catch(() => []), []);
  });

  it('is given up when the folders it writes in are made again after its folder was removed', async () => {
    const made = madeInBuildOrder(10);
    const dataDir = newDataDir();
    const draft = await LocalGraphDraft.start({ dataDir, instanceId: 'acme', steps: SAMPLE_STEPS });
    // Removed before any file: every type's folders are made again by its first file.
    await rm(path.join(dataDir, 'output', '.versions', 'acme'), { recursive: true, force: true });
    for (const { kind, object } of made) {
      const text = graphObjectJson(object);
      await draft.add(kind, object._type, text, JSON.stringify(graphIndexEntry(object, graphObjectHash(text))));
    }
    assert.equal(draft.failed, false, 'every write found its folder');
    await assert.rejects(
      draft.complete([], builtCounts(made)),
      /was removed while it was written; the previous output stays/,
    );
    await draft.discard();
    await assert.rejects(readdir(path.join(dataDir, 'output', 'acme')), { code: 'ENOENT' });
  });
});
