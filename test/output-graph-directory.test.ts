import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Entity, Relationship } from '../src/graph/types';
import {
  formatLocalOutputSummary,
  localOutputPaths,
  readIntegrationSummary,
  graphObjectSource,
  replacedVersionsDeleted,
  writeLocalGraph,
  writeLocalGraphFromStagedRun,
  type LocalGraphSource,
} from '../src/output';
import { IncompleteDeliveryError } from '../src/graph/completeness';
import { graphObjectJson, stagedGraphObject } from '../src/graph/serialization';
import {
  ALREADY_DELIVERED,
  ContentHashWriter,
  KeyHashes,
  deliverStoredPairs,
  readContentHashes,
} from '../src/output/content-hash';
import { TypeChangeTracker } from '../src/output/change-report';
import { writeNewPrivateFilePieces } from '../src/output/private-files';
import { DatasetWriter } from '../src/staging/dataset-writer';
import { LocalDirectoryStagingStore } from '../src/staging/local-directory-store';
import { StagedInputMissingError } from '../src/staging/store';
import { stopAtEnd } from './harness/root-hooks';
import { SAMPLE_STEPS, employeeMapping, has } from './harness/graph-objects';

const ACCOUNT_KEY = 'duo-account:dia7qq6f:acme';
const UUID_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.json$/;

function account(): Entity {
  return {
    _key: ACCOUNT_KEY,
    _type: 'duo_account',
    _class: ['Account'],
    name: 'Acme',
    displayName: 'Acme',
    vendor: 'Cisco Duo',
  };
}

function user(index: number, changes: Partial<Entity> = {}): Entity {
  return {
    _key: `duo-user:DU${String(index).padStart(6, '0')}`,
    _type: 'duo_user',
    _class: ['User'],
    name: `user${index}`,
    displayName: `User ${index}`,
    email: [`user${index}@example.com`],
    _rawData: [{ name: 'default', rawData: { user_id: `DU${index}`, username: `user${index}` } }],
    ...changes,
  } as Entity;
}

function group(index: number): Entity {
  return {
    _key: `duo-group:DG${index}`,
    _type: 'duo_group',
    _class: ['UserGroup'],
    name: `Group ${index}`,
    displayName: `Group ${index}`,
  };
}

interface SampleGraph {
  entities: Record<string, Entity[]>;
  relationships: Record<string, Relationship[]>;
}

function sampleGraph(userCount: number): SampleGraph {
  const users = Array.from({ length: userCount }, (_, i) => user(i));
  const groups = [group(1), group(2)];
  return {
    entities: { duo_account: [account()], duo_group: groups, duo_user: users },
    relationships: {
      duo_account_has_user: users.map((u) => has(ACCOUNT_KEY, u._key, 'duo_account_has_user')),
      duo_account_has_group: groups.map((g) => has(ACCOUNT_KEY, g._key, 'duo_account_has_group')),
      duo_group_has_user: users.slice(0, 10).map((u) => has(groups[0]._key, u._key, 'duo_group_has_user')),
      duo_user_is_employee: users.map(employeeMapping),
    },
  };
}

async function* streamOf<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

function sourceOf(graph: SampleGraph): LocalGraphSource {
  return graphObjectSource({
    entities: (type) => streamOf(graph.entities[type] ?? []),
    relationships: (type) => streamOf(graph.relationships[type] ?? []),
  });
}

const temporaryFolders: string[] = [];
function newDataDir(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'duo-j1-output-'));
  temporaryFolders.push(folder);
  return folder;
}

/** Every file below `folder` (links not followed) with its content, for before/after comparisons. */
async function snapshot(folder: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(folder, relative), { withFileTypes: true })) {
      const entryPath = path.join(relative, entry.name);
      if (entry.isDirectory()) await walk(entryPath);
      else if (entry.isSymbolicLink()) files.set(entryPath, `-> ${await readlink(path.join(folder, entryPath))}`);
      else files.set(entryPath, await readFile(path.join(folder, entryPath), 'utf8'));
    }
  };
  await walk('');
  return files;
}

async function graphFilesOf(outputDir: string, stepId: string, kind: 'entities' | 'relationships') {
  const folder = path.join(outputDir, '.j1-integration', 'graph', stepId, kind);
  const names = (await readdir(folder)).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(path.join(folder, name), 'utf8');
      return { name, text, objects: (JSON.parse(text) as Record<string, { _type: string; _key: string }[]>)[kind] };
    }),
  );
}

async function versionsOf(dataDir: string, instanceId: string): Promise<string[]> {
  return (await readdir(path.join(dataDir, 'output', '.versions', instanceId))).sort();
}

describe('local graph directory', () => {
  after(async () => {
    for (const folder of temporaryFolders) await rm(folder, { recursive: true, force: true });
  });

  it('writes the layout j1-integration collect writes: step folders, ≤500 objects of one _type per file, index links, summary.json', async () => {
    const dataDir = newDataDir();
    const graph = sampleGraph(1234);
    const result = await writeLocalGraph({
      dataDir,
      instanceId: 'acme',
      steps: SAMPLE_STEPS,
      partialTypes: [{ type: 'duo_group', reason: 'groups fetch failed: 403' }, 'duo_group_has_user'],
      source: sourceOf(graph),
    });
    const outputDir = path.join(dataDir, 'output', 'acme');
    assert.deepEqual(result.paths, localOutputPaths(dataDir, 'acme'));
    assert.equal(result.paths.outputDir, outputDir);
    assert.equal(result.paths.graphDir, path.join(outputDir, '.j1-integration', 'graph'));

    const j1Dir = path.join(outputDir, '.j1-integration');
    assert.deepEqual((await readdir(path.join(j1Dir, 'graph'))).sort(), [
      'fetch-account',
      'fetch-groups',
      'fetch-users',
    ]);
    assert.deepEqual((await readdir(outputDir)).sort(), [
      '.content-hashes-v2',
      '.j1-integration',
      'changes.json',
      'graph.html',
    ]);

    const userFiles = await graphFilesOf(outputDir, 'fetch-users', 'entities');
    assert.deepEqual(
      userFiles.map((file) => file.objects.length).sort((a, b) => b - a),
      [500, 500, 234],
    );
    const allUserKeys = userFiles.flatMap((file) => file.objects.map((o) => o._key)).sort();
    assert.deepEqual(allUserKeys, graph.entities.duo_user.map((u) => u._key).sort());
    for (const file of userFiles) {
      assert.match(file.name, UUID_FILE);
      const canonicalTexts = file.objects.map((o) => graphObjectJson(o));
      assert.equal(file.text, `{"entities":[${canonicalTexts.join(',')}]}`, 'compact JSON of canonical texts');
    }
    // Relationships of two types in one step: separate files, one _type each.
    const accountRelationshipFiles = await graphFilesOf(outputDir, 'fetch-account', 'relationships');
    for (const file of accountRelationshipFiles) {
      assert.ok(file.objects.length <= 500);
      assert.equal(new Set(file.objects.map((o) => o._type)).size, 1, `${file.name} holds one _type`);
      assert.match(file.text, /^\{"relationships":\[\{/);
    }
    assert.deepEqual(accountRelationshipFiles.map((file) => `${file.objects[0]._type}:${file.objects.length}`).sort(), [
      'duo_account_has_group:2',
      'duo_account_has_user:234',
      'duo_account_has_user:500',
      'duo_account_has_user:500',
    ]);
    // The mapped relationships are written as they are, under their step.
    const mappingFiles = await graphFilesOf(outputDir, 'fetch-users', 'relationships');
    assert.equal(
      mappingFiles.reduce((sum, file) => sum + file.objects.length, 0),
      1234,
    );

    // index/<kind>/<_type>/<uuid>.json: symbolic links to the graph files.
    const userIndex = path.join(j1Dir, 'index', 'entities', 'duo_user');
    const indexNames = (await readdir(userIndex)).sort();
    assert.deepEqual(indexNames, userFiles.map((file) => file.name).sort());
    for (const name of indexNames) {
      assert.ok((await lstat(path.join(userIndex, name))).isSymbolicLink());
      assert.equal(
        await realpath(path.join(userIndex, name)),
        await realpath(path.join(j1Dir, 'graph', 'fetch-users', 'entities', name)),
      );
    }
    assert.deepEqual((await readdir(path.join(j1Dir, 'index', 'relationships'))).sort(), [
      'duo_account_has_group',
      'duo_account_has_user',
      'duo_group_has_user',
      'duo_user_is_employee',
    ]);

    const summary = JSON.parse(await readFile(path.join(j1Dir, 'summary.json'), 'utf8'));
    assert.deepEqual(summary, {
      integrationStepResults: [
        {
          id: 'fetch-account',
          name: 'Fetch Account',
          declaredTypes: ['duo_account', 'duo_account_has_user', 'duo_account_has_group'],
          partialTypes: [],
          encounteredTypes: ['duo_account', 'duo_account_has_user', 'duo_account_has_group'],
          encounteredTypeCounts: { duo_account: 1, duo_account_has_user: 1234, duo_account_has_group: 2 },
          status: 'success',
        },
        {
          id: 'fetch-groups',
          name: 'Fetch Groups',
          declaredTypes: ['duo_group', 'duo_group_has_user'],
          partialTypes: ['duo_group', 'duo_group_has_user'],
          encounteredTypes: ['duo_group', 'duo_group_has_user'],
          encounteredTypeCounts: { duo_group: 2, duo_group_has_user: 10 },
          status: 'failure',
        },
        {
          id: 'fetch-users',
          name: 'Fetch Users',
          declaredTypes: ['duo_user', 'duo_user_is_employee'],
          partialTypes: [],
          encounteredTypes: ['duo_user', 'duo_user_is_employee'],
          encounteredTypeCounts: { duo_user: 1234, duo_user_is_employee: 1234 },
          status: 'success',
        },
      ],
      metadata: { partialDatasets: { types: ['duo_group', 'duo_group_has_user'] } },
    });
    assert.deepEqual(await readIntegrationSummary(j1Dir), summary);
    assert.deepEqual(result.partialTypes, ['duo_group', 'duo_group_has_user']);
    assert.equal(result.entityCount, 1 + 2 + 1234);
    assert.equal(result.relationshipCount, 1234 + 2 + 10 + 1234);

    const text = formatLocalOutputSummary(result);
    assert.ok(text.startsWith(`Local graph directory: ${outputDir}\n`));
    for (const line of [
      `  graph files:   ${result.paths.graphDir} (1,237 entities, 2,480 relationships)`,
      `  HTML picture:  ${path.join(outputDir, 'graph.html')}`,
      `  change report: ${path.join(outputDir, 'changes.json')}`,
      '  partial types: duo_group, duo_group_has_user',
      `  upload it with: j1-integration sync --project-path ${outputDir}`,
      'No previous output to compare with: 3,717 objects created.',
    ]) {
      assert.ok(text.includes(`${line}\n`) || text.endsWith(line), `summary has "${line}":\n${text}`);
    }
  });

  it('creates every file 0600 and every folder 0700, and the instance path is a link to a complete version', async () => {
    const dataDir = newDataDir();
    await writeLocalGraph({
      dataDir,
      instanceId: 'acme',
      steps: SAMPLE_STEPS,
      partialTypes: [],
      source: sourceOf(sampleGraph(3)),
    });
    const instancePath = path.join(dataDir, 'output', 'acme');
    assert.ok((await lstat(instancePath)).isSymbolicLink());
    const [version] = await versionsOf(dataDir, 'acme');
    assert.equal(
      await realpath(instancePath),
      await realpath(path.join(dataDir, 'output', '.versions', 'acme', version)),
    );
    const checkModes = async (folder: string): Promise<number> => {
      let files = 0;
      assert.equal((await stat(folder)).mode & 0o777, 0o700, `${folder} is 0700`);
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const entryPath = path.join(folder, entry.name);
        if (entry.isDirectory()) files += await checkModes(entryPath);
        else if (entry.isFile()) {
          assert.equal((await stat(entryPath)).mode & 0o777, 0o600, `${entryPath} is 0600`);
          files += 1;
        }
      }
      return files;
    };
    assert.ok((await checkModes(path.join(dataDir, 'output', '.versions'))) >= 10);
  });

  it('writes from a staged run: reads graph/entities/<_type> and graph/relationships/<_type> datasets', async () => {
    const dataDir = newDataDir();
    const store = await LocalDirectoryStagingStore.open(path.join(dataDir, 'staging'));
    const run = store.openRun('acme~wf~run~1');
    const graph = sampleGraph(700);
    // Staged as the build stages them: canonical texts, and their index entries beside them, in
    // parts of other sizes (the reader must line them up whatever the batches).
    const stage = async (kind: 'entities' | 'relationships', type: string, objects: readonly object[]) => {
      const texts = new DatasetWriter(run, `graph/${kind}/${type}`, { recordsPerPart: 300 });
      const index = new DatasetWriter(run, `graph-index/${kind}/${type}`, { recordsPerPart: 7 });
      for (const graphObject of objects) {
        const staged = stagedGraphObject(graphObject as Entity);
        await texts.addText(staged.text);
        await index.addText(staged.indexEntry);
      }
      await texts.close();
      await index.close();
    };
    for (const [type, entities] of Object.entries(graph.entities)) await stage('entities', type, entities);
    for (const [type, relationships] of Object.entries(graph.relationships)) {
      if (type === 'duo_group_has_user') continue; // a declared type with no dataset has no objects
      await stage('relationships', type, relationships);
    }
    const result = await writeLocalGraphFromStagedRun({
      run,
      dataDir,
      instanceId: 'acme',
      steps: SAMPLE_STEPS,
      partialTypes: [],
    });
    assert.deepEqual(result.objectCounts, {
      duo_account: 1,
      duo_group: 2,
      duo_user: 700,
      duo_account_has_user: 700,
      duo_account_has_group: 2,
      duo_group_has_user: 0,
      duo_user_is_employee: 700,
    });
    const userFiles = await graphFilesOf(result.paths.outputDir, 'fetch-users', 'entities');
    assert.deepEqual(
      userFiles.flatMap((file) => file.objects).sort((a, b) => a._key.localeCompare(b._key)),
      [...graph.entities.duo_user].sort((a, b) => a._key.localeCompare(b._key)),
    );

    // A staged type no step declares would be lost silently: refused.
    const undeclared = new DatasetWriter(run, 'graph/entities/duo_phone');
    await undeclared.addText(JSON.stringify({ _key: 'DPXXXXXXXXXX', _type: 'duo_phone', _class: ['Device'] }));
    await undeclared.close();
    await assert.rejects(
      writeLocalGraphFromStagedRun({ run, dataDir, instanceId: 'acme', steps: SAMPLE_STEPS, partialTypes: [] }),
      /"graph\/entities\/duo_phone" belong to no step/,
    );
    await run.removeDataset('graph/entities/duo_phone');
    // An index that does not match its objects (one entry short) is a broken input, not a guess.
    const users = graph.entities.duo_user;
    await run.removeDataset('graph-index/entities/duo_user');
    const shortIndex = new DatasetWriter(run, 'graph-index/entities/duo_user');
    for (const user of users.slice(1)) await shortIndex.addText(stagedGraphObject(user).indexEntry);
    await shortIndex.close();
    await assert.rejects(
      writeLocalGraphFromStagedRun({ run, dataDir, instanceId: 'acme', steps: SAMPLE_STEPS, partialTypes: [] }),
      (error: unknown) =>
        error instanceof StagedInputMissingError && /its entries do not match the objects/.test(error.message),
    );
    // Nothing staged at all (a wiped staging folder) is a missing input, not an empty graph.
    await assert.rejects(
      writeLocalGraphFromStagedRun({
        run: store.openRun('acme~wf~other~1'),
        dataDir,
        instanceId: 'acme',
        steps: SAMPLE_STEPS,
        partialTypes: [],
      }),
      StagedInputMissingError,
    );
    // A type whose staged objects are not the objects built (its dataset lost): nothing is published,
    // unless the type is partial, which keeps the previous output's objects anyway.
    await run.removeDataset('graph/entities/duo_user');
    await run.removeDataset('graph-index/entities/duo_user');
    const built = { ...result.objectCounts };
    await assert.rejects(
      writeLocalGraphFromStagedRun({ run, dataDir, instanceId: 'acme', steps: SAMPLE_STEPS, partialTypes: [], built }),
      (error: unknown) =>
        error instanceof IncompleteDeliveryError &&
        /Not delivered to the local graph directory: .*duo_user 0 of 700/.test(error.message),
    );
    const keptPartial = await writeLocalGraphFromStagedRun({
      run,
      dataDir,
      instanceId: 'acme',
      steps: SAMPLE_STEPS,
      partialTypes: ['duo_user'],
      built,
    });
    assert.equal(keptPartial.objectCounts.duo_user, 700, 'a partial type keeps its previous objects');
    // The refused writes left the output as it was.
    const usersAfter = (await graphFilesOf(result.paths.outputDir, 'fetch-users', 'entities')).flatMap(
      (f) => f.objects,
    );
    assert.equal(usersAfter.length, 700);
  });

  it('writes a file from pieces: their bytes in order, past IOV_MAX of them, 0600, never over a file', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'duo-j1-pieces-'));
    try {
      // More pieces than one writev takes (IOV_MAX is 1,024 on Linux), of many sizes, one shared.
      const comma = Buffer.from(',');
      const pieces = Array.from({ length: 5_001 }, (_, index) =>
        index % 2 === 1 ? comma : Buffer.from(`"${String(index).repeat(1 + (index % 97))}"`),
      );
      const file = path.join(folder, 'pieces.json');
      await writeNewPrivateFilePieces(file, pieces);
      assert.deepEqual(await readFile(file), Buffer.concat(pieces));
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      await assert.rejects(writeNewPrivateFilePieces(file, [Buffer.from('other')]), { code: 'EEXIST' });
      assert.deepEqual(await readFile(file), Buffer.concat(pieces), 'the file is as first written');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('deletes the version it replaced after publishing, without the caller waiting, and before its next write', async () => {
    const dataDir = newDataDir();
    const write = (users: number) =>
      writeLocalGraph({
        dataDir,
        instanceId: 'acme',
        steps: SAMPLE_STEPS,
        partialTypes: [],
        source: sourceOf(sampleGraph(users)),
      });
    const first = await write(1200);
    const [firstVersion] = await versionsOf(dataDir, 'acme');
    const second = await write(1201);
    const published = path.basename(await readlink(second.paths.outputDir));
    assert.notEqual(published, firstVersion);
    // The replaced version's files are still being deleted as the write returns: the new one is
    // published all the same, and the replaced one is linked from nowhere.
    assert.ok((await versionsOf(dataDir, 'acme')).includes(firstVersion), 'deleted in the background');
    assert.equal(path.basename(await readlink(first.paths.outputDir)), published);
    await replacedVersionsDeleted();
    assert.deepEqual(await versionsOf(dataDir, 'acme'), [published]);

    // A write right after another, while its deletion is under way in the same folder, compares
    // with the version it replaces as ever.
    await write(1202);
    const fifth = await write(1203).then(() => write(1204));
    assert.equal(fifth.changes.totals.created, 3, 'compared with the write before: one user, its phone and edge');
    await replacedVersionsDeleted();
    assert.deepEqual(await versionsOf(dataDir, 'acme'), [path.basename(await readlink(fifth.paths.outputDir))]);
  });

  it('keeps the previous output intact and readable when the object stream fails midway', async () => {
    const dataDir = newDataDir();
    const first = await writeLocalGraph({
      dataDir,
      instanceId: 'acme',
      steps: SAMPLE_STEPS,
      partialTypes: [],
      source: sourceOf(sampleGraph(600)),
    });
    const before = await snapshot(first.paths.outputDir);
    const linkBefore = await readlink(first.paths.outputDir);

    async function* failingUsers(): AsyncIterable<Entity> {
      for (let i = 0; i < 1200; i++) {
        if (i === 1100) throw new Error('Duo connection reset while streaming users');
        yield user(i, { displayName: `Renamed ${i}` });
      }
    }
    await assert.rejects(
      writeLocalGraph({
        dataDir,
        instanceId: 'acme',
        steps: SAMPLE_STEPS,
        partialTypes: [],
        source: graphObjectSource({
          entities: (type) => (type === 'duo_user' ? failingUsers() : streamOf([])),
          relationships: () => streamOf([]),
        }),
      }),
      /Duo connection reset/,
    );
    assert.equal(await readlink(first.paths.outputDir), linkBefore);
    assert.deepEqual(await snapshot(first.paths.outputDir), before);
    const users = (await graphFilesOf(first.paths.outputDir, 'fetch-users', 'entities')).flatMap((f) => f.objects);
    assert.equal(users.length, 600);
    assert.deepEqual(await versionsOf(dataDir, 'acme'), [path.basename(linkBefore)], 'the failed version is removed');
  });

  it('refuses a stream with a duplicate _key or an object of another _type, keeping the previous output', async () => {
    const dataDir = newDataDir();
    const first = await writeLocalGraph({
      dataDir,
      instanceId: 'acme',
      steps: SAMPLE_STEPS,
      partialTypes: [],
      source: sourceOf(sampleGraph(5)),
    });
    const before = await snapshot(first.paths.outputDir);
    const withUsers = (users: Entity[]): LocalGraphSource =>
      graphObjectSource({
        entities: (type) => streamOf(type === 'duo_user' ? users : []),
        relationships: () => streamOf([]),
      });
    await assert.rejects(
      writeLocalGraph({
        dataDir,
        instanceId: 'acme',
        steps: SAMPLE_STEPS,
        partialTypes: [],
        source: withUsers([user(1), user(1)]),
      }),
      /_key "duo-user:DU000001" appears twice among the "duo_user" entities/,
    );
    await assert.rejects(
      writeLocalGraph({
        dataDir,
        instanceId: 'acme',
        steps: SAMPLE_STEPS,
        partialTypes: [],
        source: withUsers([group(1)]),
      }),
      /_type "duo_group" \(_key "duo-group:DG1"\) came among the "duo_user" entities/,
    );
    assert.deepEqual(await snapshot(first.paths.outputDir), before);
    assert.equal((await versionsOf(dataDir, 'acme')).length, 1);
  });

  it('survives a writer killed with SIGKILL mid-write: previous output intact, leftovers removed by the next write', async () => {
    const dataDir = newDataDir();
    const first = await writeLocalGraph({
      dataDir,
      instanceId: 'acme',
      steps: SAMPLE_STEPS,
      partialTypes: [],
      source: sourceOf(sampleGraph(50)),
    });
    const before = await snapshot(first.paths.outputDir);
    const linkBefore = await readlink(first.paths.outputDir);

    // The child writes an endless user stream; it says MIDWAY once thousands of users are on disk (11 files
    // started, at most 4 of them still being written).
    const script = path.join(dataDir, 'write-large-graph.ts');
    await writeFile(
      script,
      `
import { graphObjectSource, writeLocalGraph } from ${JSON.stringify(path.resolve(__dirname, '../src/output'))};
async function* users() {
  for (let i = 0; ; i++) {
    if (i === 5500) process.stdout.write('MIDWAY\\n');
    if (i >= 5500) await new Promise((resolve) => setTimeout(resolve, 1));
    yield { _key: 'duo-user:K' + i, _type: 'duo_user', _class: ['User'], name: 'k' + i, displayName: 'K ' + i };
  }
}
async function* none() {}
writeLocalGraph({
  dataDir: ${JSON.stringify(dataDir)},
  instanceId: 'acme',
  steps: ${JSON.stringify(SAMPLE_STEPS)},
  partialTypes: [],
  source: graphObjectSource({
    entities: (type: string) => (type === 'duo_user' ? users() : none()),
    relationships: () => none(),
  }),
});
`,
    );
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', script], {
      cwd: path.resolve(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    stopAtEnd(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('MIDWAY')) resolve();
      });
      child.once('exit', () => reject(new Error(`The writer exited before writing midway: ${stderr}`)));
    });
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const versions = await versionsOf(dataDir, 'acme');
    const incomplete = versions.filter((name) => name.endsWith('.incomplete'));
    assert.equal(incomplete.length, 1, 'the killed write left its incomplete version');
    const leftoverUsers = await readdir(
      path.join(
        dataDir,
        'output',
        '.versions',
        'acme',
        incomplete[0],
        '.j1-integration',
        'graph',
        'fetch-users',
        'entities',
      ),
    );
    assert.ok(leftoverUsers.length >= 6, 'the kill came while user files were being written');

    assert.equal(await readlink(first.paths.outputDir), linkBefore);
    assert.deepEqual(await snapshot(first.paths.outputDir), before);
    const users = (await graphFilesOf(first.paths.outputDir, 'fetch-users', 'entities')).flatMap((f) => f.objects);
    assert.equal(users.length, 50);

    const next = await writeLocalGraph({
      dataDir,
      instanceId: 'acme',
      steps: SAMPLE_STEPS,
      partialTypes: [],
      source: sourceOf(sampleGraph(51)),
    });
    assert.equal(next.changes.totals.created, 1 + 1 + 1, 'compared with the last complete output (50 users)');
    await replacedVersionsDeleted();
    const after = await versionsOf(dataDir, 'acme');
    assert.equal(after.length, 1, `only the new version is left: ${after.join(', ')}`);
    assert.equal(path.basename(await readlink(next.paths.outputDir)), after[0]);
  });
});

/** A version folder for content hashes, removed at the end. */
function hashesFolder(): string {
  const versionDir = mkdtempSync(path.join(tmpdir(), 'duo-j1-hashes-'));
  stopAtEnd(() => rm(versionDir, { recursive: true, force: true }));
  return versionDir;
}

/** `count` pairs whose keys JSON must escape, the `longAt`-th of every `longEvery` a key of `longRepeat` × 3 such characters. */
function escapedPairs(count: number, longEvery: number, longAt: number, longRepeat: number): [string, string][] {
  return Array.from({ length: count }, (_, index): [string, string] => [
    index % longEvery === longAt ? `long:${'é"\\'.repeat(longRepeat)}${index}` : `Zoë "${index}"\t|uses|DP${index}`,
    `hash-${index}`,
  ]);
}

/** Adds every pair in one synchronous loop, as a delivery adds a staged batch, then waits for the blocks it filled. */
async function addAll(writer: ContentHashWriter, pairs: readonly [string, string][]): Promise<void> {
  const writes: Promise<void>[] = [];
  for (const [key, hash] of pairs) {
    const written = writer.add(key, hash);
    if (written) writes.push(written);
  }
  await Promise.all(writes);
}

describe('Content hashes of an output version', () => {
  it('tells a delivery each key’s previous hash once, catches a key delivered twice, and lists those not delivered', () => {
    const hashes = new KeyHashes().set('DU1', 'h1').set('DU2', 'h2').set('DU3', 'h3').set('DU2', 'h2b');
    assert.equal(hashes.size, 3, 'a key paired again keeps one pair');
    assert.equal(hashes.get('DU2'), 'h2b');
    assert.equal(hashes.deliver('DU2'), 'h2b');
    assert.equal(hashes.deliver('DU9'), undefined, 'a new key has no previous hash');
    assert.equal(hashes.deliver('DU2'), ALREADY_DELIVERED);
    assert.equal(hashes.deliver('DU9'), ALREADY_DELIVERED, 'a new key is caught the second time too');
    assert.equal(hashes.get('DU2'), 'h2b', 'its pair stays readable once delivered');
    assert.equal(hashes.size, 3, 'new keys delivered are not pairs');
    assert.equal(hashes.undeliveredCount, 2);
    assert.deepEqual(
      [...hashes.undelivered()],
      [
        ['DU1', 'h1'],
        ['DU3', 'h3'],
      ],
    );
    // A key delivered before its pair came counts as delivered once paired.
    hashes.set('DU9', 'h9');
    assert.equal(hashes.undeliveredCount, 2);
    assert.deepEqual(
      [...hashes.undelivered()],
      [
        ['DU1', 'h1'],
        ['DU3', 'h3'],
      ],
    );
  });

  it('keeps every pair when more than a block of them arrives before the first write has finished', async () => {
    const versionDir = hashesFolder();
    const writer = new ContentHashWriter(versionDir, 'entities', 'duo_user');
    const writes: Promise<void>[] = [];
    // One synchronous loop, as a delivery adds a staged batch: blocks fill while the file is still being created.
    for (let index = 0; index < 12_345; index += 1) {
      const written = writer.add(`duo-user:U${index}`, `hash-${index}`);
      if (written) writes.push(written);
    }
    await Promise.all(writes);
    await writer.close();
    const hashes = await readContentHashes(versionDir, 'entities', 'duo_user');
    assert.equal(hashes?.size, 12_345);
    assert.equal(hashes?.get('duo-user:U0'), 'hash-0');
    assert.equal(hashes?.get('duo-user:U12344'), 'hash-12344');
    const lines = (await readFile(path.join(versionDir, '.content-hashes-v2', 'entities', 'duo_user.ndjson'), 'utf8'))
      .trim()
      .split('\n');
    assert.deepEqual(JSON.parse(lines[5_000]), ['duo-user:U5000', 'hash-5000'], 'blocks are written in order');
  });

  it('keeps pairs of any length and spelling, each line as JSON.stringify writes it', async () => {
    const versionDir = hashesFolder();
    const writer = new ContentHashWriter(versionDir, 'relationships', 'duo_user_uses_phone');
    // Now and then a key longer than a whole block, and keys JSON must escape.
    const pairs = escapedPairs(3_000, 500, 7, 100_000);
    await addAll(writer, pairs);
    await writer.close();
    const text = await readFile(
      path.join(versionDir, '.content-hashes-v2', 'relationships', 'duo_user_uses_phone.ndjson'),
      'utf8',
    );
    assert.equal(text, pairs.map((pair) => `${JSON.stringify(pair)}\n`).join(''));
    const hashes = await readContentHashes(versionDir, 'relationships', 'duo_user_uses_phone');
    assert.equal(hashes?.size, pairs.length);
    assert.equal(hashes?.get(pairs[7][0]), 'hash-7');
  });

  it('gives back the pairs it added, in order and a key added twice twice, and adds on afterwards', async () => {
    const versionDir = hashesFolder();
    const writer = new ContentHashWriter(versionDir, 'relationships', 'duo_user_uses_phone');
    // Megabytes of pairs in all, keys JSON must escape, now and then one whose line is longer than a read.
    const pairs = escapedPairs(40_000, 9_000, 11, 250_000);
    pairs.push([pairs[5][0], 'hash-again']);
    const added = (items: [string, string][]) => addAll(writer, items);
    const readBack = async () => {
      const back: [string, string][] = [];
      for await (const lines of writer.pairsAdded()) {
        back.push(...lines.map((line) => JSON.parse(line.toString('utf8')) as [string, string]));
      }
      return back;
    };
    await added(pairs.slice(0, 10));
    assert.deepEqual(await readBack(), pairs.slice(0, 10), 'from the last block, not yet full');
    await added(pairs.slice(10));
    // Through the writer's own file: a file put in its place is not what it added.
    const file = path.join(versionDir, '.content-hashes-v2', 'relationships', 'duo_user_uses_phone.ndjson');
    await rm(file);
    await writeFile(file, '["other","pair"]\n');
    const back = await readBack();
    assert.equal(back.length, pairs.length);
    assert.deepEqual(back, pairs);
    await added([['after', 'hash-after']]);
    assert.deepEqual((await readBack()).at(-1), ['after', 'hash-after']);
    await writer.close();
    const none: Buffer[] = [];
    for await (const lines of new ContentHashWriter(versionDir, 'entities', 'duo_user').pairsAdded())
      none.push(...lines);
    assert.deepEqual(none, [], 'a writer that added nothing has nothing to give back');
  });

  it('compares stored pairs with the previous hashes, plain lines as bytes and the others parsed, as strings would be', () => {
    const previous = () =>
      new KeyHashes()
        .set('duo-user:DU1', 'AAAAAAAAAAAAAAAAAAAAAA')
        .set('Zoë|uses|DP1', 'BBBBBBBBBBBBBBBBBBBBBB')
        .set('say "hi"', 'CCCCCCCCCCCCCCCCCCCCCC')
        .set('duo-user:DU2', 'DDDDDDDDDDDDDDDDDDDDDD')
        .set('gone', 'EEEEEEEEEEEEEEEEEEEEEE');
    const pairs: [string, string][] = [
      ['duo-user:DU1', 'AAAAAAAAAAAAAAAAAAAAAA'], // unchanged
      ['Zoë|uses|DP1', 'BBBBBBBBBBBBBBBBBBBBBX'], // updated, by one byte
      ['duo-user:DU2', 'DDDD'], // updated, a hash of another length
      ['say "hi"', 'CCCCCCCCCCCCCCCCCCCCCC'], // unchanged, its line parsed
      ['duo-user:DU9', 'FFFFFFFFFFFFFFFFFFFFFF'], // created
      ['tab\there é', 'GGGGGGGGGGGGGGGGGGGGGG'], // created, its line parsed
      // Enough keys created for the key list to take several pieces.
      ...Array.from({ length: 5_000 }, (_, index): [string, string] => [`duo-user:N${index}`, `hash-${index}`]),
    ];
    const lines = pairs.map((pair) => Buffer.from(JSON.stringify(pair)));
    const asBytes = new TypeChangeTracker('duo_user', 'entities', { partial: false });
    const asStrings = new TypeChangeTracker('duo_user', 'entities', { partial: false });
    const hashes = previous();
    assert.equal(deliverStoredPairs(lines, hashes, asBytes), undefined);
    const stringHashes = previous();
    for (const [key, hash] of pairs) asStrings.delivered(key, stringHashes.deliver(key) as string | undefined, hash);
    assert.deepEqual(asBytes.changes, asStrings.changes);
    assert.deepEqual(asBytes.changes.createdKeys.slice(0, 3), ['duo-user:DU9', 'tab\there é', 'duo-user:N0']);
    assert.equal(asBytes.changes.created, 5_002);
    assert.deepEqual(asBytes.changes.updatedKeys, ['Zoë|uses|DP1', 'duo-user:DU2']);
    assert.equal(asBytes.changes.unchanged, 2);
    assert.equal([...asBytes.sectionPieces()].join(''), [...asStrings.sectionPieces()].join(''));
    assert.deepEqual([...hashes.undelivered()], [['gone', 'EEEEEEEEEEEEEEEEEEEEEE']]);
    // A key delivered twice, as bytes or parsed, is named and ends the comparison.
    const again = new TypeChangeTracker('duo_user', 'entities', { partial: false });
    assert.equal(deliverStoredPairs([lines[4], lines[0], lines[4], lines[1]], previous(), again), 'duo-user:DU9');
    assert.equal(again.changes.created + again.changes.unchanged + again.changes.updated, 2);
    assert.equal(deliverStoredPairs([lines[5], lines[5]], previous(), again), 'tab\there é');
  });

  it('reads every stored pair back, whether its line is read as it lies or must be parsed', async () => {
    const versionDir = hashesFolder();
    const file = path.join(versionDir, '.content-hashes-v2', 'entities', 'duo_user.ndjson');
    await mkdir(path.dirname(file), { recursive: true });
    const lines = [
      // As ContentHashWriter writes them: nothing escaped, non-ASCII as UTF-8.
      '["duo-user:DU1","AAAAAAAAAAAAAAAAAAAAAA"]',
      '["Zoë|uses|DP1","BBBBBBBBBBBBBBBBBBBBBB"]',
      '["","empty key"]',
      // What only a parse reads right: escapes, a lone surrogate, another writer's spacing.
      '["say \\"hi\\"\\t","CCCCCCCCCCCCCCCCCCCCCC"]',
      '["\\ud800 lone","DDDDDDDDDDDDDDDDDDDDDD"]',
      '[ "spaced" , "EEEEEEEEEEEEEEEEEEEEEE" ]',
      '',
      // The plain line again, for a key stored twice: the later hash counts.
      '["duo-user:DU1","FFFFFFFFFFFFFFFFFFFFFF"]',
      // The last line without its line break.
      '["duo-user:DU2","GGGGGGGGGGGGGGGGGGGGGG"]',
    ];
    await writeFile(file, lines.join('\n'));
    const hashes = await readContentHashes(versionDir, 'entities', 'duo_user');
    assert.ok(hashes);
    assert.equal(hashes.size, 7);
    assert.equal(hashes.get('Zoë|uses|DP1'), 'BBBBBBBBBBBBBBBBBBBBBB');
    assert.equal(hashes.get(''), 'empty key');
    assert.equal(hashes.get('say "hi"\t'), 'CCCCCCCCCCCCCCCCCCCCCC');
    assert.equal(hashes.get('\ud800 lone'), 'DDDDDDDDDDDDDDDDDDDDDD');
    assert.equal(hashes.get('spaced'), 'EEEEEEEEEEEEEEEEEEEEEE');
    assert.equal(hashes.get('duo-user:DU2'), 'GGGGGGGGGGGGGGGGGGGGGG');
    // A key read from its bytes is the key a delivery names by its string.
    assert.equal(hashes.deliver('duo-user:DU1'), 'FFFFFFFFFFFFFFFFFFFFFF');
    assert.equal(hashes.deliver('Zoë|uses|DP1'), 'BBBBBBBBBBBBBBBBBBBBBB');
    assert.equal(hashes.deliver('Zoë|uses|DP1'), ALREADY_DELIVERED);
    assert.equal(hashes.undeliveredCount, 5);
  });
});
