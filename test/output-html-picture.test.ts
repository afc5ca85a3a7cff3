import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Entity, Relationship } from '../src/graph/types';
import { graphObjectSource, visualize, writeLocalGraph, type GraphStep } from '../src/output';
import { JsonTextList } from '../src/output/picture/picture-data';
import { jsonForScriptElement, jsonPiecesForScriptElement } from '../src/output/picture/render-html';
import { stopAtEnd } from './harness/root-hooks';
import { employeeMapping, has } from './harness/graph-objects';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const STEPS: GraphStep[] = [
  {
    id: 'fetch-account',
    name: 'Fetch Account',
    entityTypes: ['duo_account'],
    relationshipTypes: ['duo_account_has_user'],
  },
  { id: 'fetch-groups', name: 'Fetch Groups', entityTypes: ['duo_group'], relationshipTypes: ['duo_group_has_user'] },
  { id: 'fetch-users', name: 'Fetch Users', entityTypes: ['duo_user'], relationshipTypes: ['duo_user_is_employee'] },
];
const ACCOUNT_KEY = 'duo-account:dia7qq6f:acme';
const INJECTION = '</script><script>window.injected = true</script><!--';

function user(index: number, name = `User ${index}`): Entity {
  return {
    _key: `duo-user:DU${String(index).padStart(6, '0')}`,
    _type: 'duo_user',
    _class: ['User'],
    name,
    displayName: name,
    email: [`user${index}@example.com`],
    username: [`user${index}`],
    _rawData: [{ name: 'default', rawData: { secretish: 'raw data stays out of the picture' } }],
  } as Entity;
}

async function* streamOf<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield item;
}

async function writeGraph(dataDir: string, users: Entity[], options: { employees?: boolean } = {}) {
  const account: Entity = {
    _key: ACCOUNT_KEY,
    _type: 'duo_account',
    _class: ['Account'],
    name: 'Acme',
    displayName: 'Acme',
  };
  const group: Entity = {
    _key: 'duo-group:DG1',
    _type: 'duo_group',
    _class: ['UserGroup'],
    name: 'Admins',
    displayName: 'Admins',
  };
  const entities: Record<string, Entity[]> = { duo_account: [account], duo_group: [group], duo_user: users };
  const relationships: Record<string, Relationship[]> = {
    duo_account_has_user: users.map((u) => has(ACCOUNT_KEY, u._key, 'duo_account_has_user')),
    duo_group_has_user: users.slice(0, 2).map((u) => has(group._key, u._key, 'duo_group_has_user')),
    duo_user_is_employee: options.employees === false ? [] : users.map(employeeMapping),
  };
  return writeLocalGraph({
    dataDir,
    instanceId: 'acme',
    steps: STEPS,
    partialTypes: [{ type: 'duo_group', reason: 'groups fetch failed' }],
    source: graphObjectSource({
      entities: (type) => streamOf(entities[type] ?? []),
      relationships: (type) => streamOf(relationships[type] ?? []),
    }),
  });
}

/** Debian's chromium may still be being installed when the suite starts: wait a few minutes for it. */
async function waitForChromium(): Promise<void> {
  for (let attempt = 0; attempt < 10 && !existsSync(CHROMIUM); attempt++) await sleep(30_000);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is needed to test the HTML picture (apt-get install chromium)`);
}

interface OpenedPage {
  page: Page;
  requests: string[];
}

describe('HTML picture of the local graph directory', function () {
  this.timeout(360_000);
  let browser: Browser;
  const temporaryFolders: string[] = [];

  function newDataDir(): string {
    const folder = mkdtempSync(path.join(tmpdir(), 'duo-j1-picture-'));
    temporaryFolders.push(folder);
    return folder;
  }

  before(async () => {
    await waitForChromium();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    stopAtEnd(() => browser.close());
  });
  after(async () => {
    await browser?.close();
    for (const folder of temporaryFolders) await rm(folder, { recursive: true, force: true });
  });

  async function open(file: string): Promise<OpenedPage> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('#graph[data-ready="true"]');
    assert.deepEqual(errors, [], 'the page runs without script errors');
    return { page, requests };
  }

  it('draws every entity and mapped target, shows details on click, and makes no network request', async () => {
    const dataDir = newDataDir();
    const users = [user(1, INJECTION), user(2, 'Zoë Ångström'), user(3), user(4)];
    const result = await writeGraph(dataDir, users);
    const html = await readFile(result.paths.htmlFile, 'utf8');
    assert.equal((await stat(result.paths.htmlFile)).mode & 0o777, 0o600);
    assert.ok(!html.includes(INJECTION), 'names are escaped in the page source');
    assert.ok(!html.includes('raw data stays out of the picture'), '_rawData is not embedded');
    assert.doesNotMatch(html, /<(script|img|iframe)\b[^>]*\ssrc=|<link\b/i, 'no external resource');
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;;/);

    const { page, requests } = await open(result.paths.htmlFile);
    // 1 account + 1 group + 4 users + 4 employees (mapped targets, one per distinct email).
    assert.equal(await page.evaluate(() => (globalThis as unknown as DuoGraphWindow).duoGraph.nodeCount()), 10);
    assert.equal(await page.getAttribute('#graph', 'data-node-count'), '10');
    assert.equal(await page.getAttribute('#graph', 'data-view'), 'detail');
    assert.equal(await page.evaluate(() => (globalThis as unknown as DuoGraphWindow).duoGraph.edgeCount()), 4 + 2 + 4);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { injected?: boolean }).injected), undefined);
    assert.match((await page.textContent('#entity-types')) ?? '', /duo_grouppartial/);

    const target = users[0]._key;
    const position = await page.evaluate(
      (key) => (globalThis as unknown as DuoGraphWindow).duoGraph.renderedPositionOf(key),
      target,
    );
    assert.ok(position, 'the user is drawn');
    await page.mouse.click(position.x, position.y);
    await page.waitForSelector(`#details[data-key="${target}"]`);
    const details = (await page.textContent('#details')) ?? '';
    assert.ok(details.includes(INJECTION), 'the name shows as text');
    assert.ok(details.includes('user1@example.com'));
    assert.ok(details.includes(target));

    // The search box finds entities by name and key; a result shows its details.
    await page.fill('#search', 'ångström');
    await page.press('#search', 'Enter');
    await page.click(`#search-results button[data-key="${users[1]._key}"]`);
    await page.waitForSelector(`#details[data-key="${users[1]._key}"]`);

    assert.deepEqual(requests, [pathToFileURL(result.paths.htmlFile).href], 'only the page itself is loaded');
    await page.context().close();
  });

  it('opens a large graph on the type summary and draws the types the user picks', async () => {
    const dataDir = newDataDir();
    const users = Array.from({ length: 2000 }, (_, i) => user(i));
    const result = await writeGraph(dataDir, users, { employees: false });
    const { page, requests } = await open(result.paths.htmlFile);
    assert.equal(await page.getAttribute('#graph', 'data-view'), 'summary');
    // One node per entity type; one edge per relationship type with objects.
    assert.equal(await page.getAttribute('#graph', 'data-node-count'), '3');
    assert.equal(await page.getAttribute('#graph', 'data-edge-count'), '2');

    await page.check('input[data-type="duo_group"]');
    await page.waitForSelector('#graph[data-view="detail"][data-ready="true"]');
    assert.equal(await page.getAttribute('#graph', 'data-node-count'), '1');
    await page.check('input[data-type="duo_user"]');
    await page.waitForSelector('#graph[data-node-count="2001"][data-ready="true"]');
    assert.equal(await page.getAttribute('#graph', 'data-edge-count'), '2', 'group members among the drawn users');

    // Clicking a type in the summary explains it and offers to draw it.
    await page.click('#show-summary');
    await page.waitForSelector('#graph[data-view="summary"][data-ready="true"]');
    assert.deepEqual(requests, [pathToFileURL(result.paths.htmlFile).href]);
    await page.context().close();
  });

  it('visualize() redraws graph.html for an output folder and returns its path', async () => {
    const dataDir = newDataDir();
    const result = await writeGraph(dataDir, [user(1), user(2)]);
    await rm(result.paths.htmlFile);
    const written = await visualize(result.paths.outputDir);
    assert.equal(written, result.paths.htmlFile);
    const { page } = await open(written);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as DuoGraphWindow).duoGraph.nodeCount()),
      1 + 1 + 2 + 2,
    );
    assert.match((await page.textContent('#entity-types')) ?? '', /duo_grouppartial/);
    await page.context().close();

    const elsewhere = path.join(dataDir, 'picture.html');
    assert.equal(await visualize(result.paths.outputDir, { outputFile: elsewhere, title: 'Acme' }), elsewhere);
    assert.match(await readFile(elsewhere, 'utf8'), /<title>Acme<\/title>/);
    await assert.rejects(visualize(dataDir), /No local graph directory in .*\.j1-integration\/graph does not exist/);
  });
});

describe('data embedded in the HTML picture', () => {
  it('cannot close the script element or open a comment, and parses back unchanged', () => {
    const value = { name: '</script><!-- & \u2028 >' };
    const embedded = jsonForScriptElement(value);
    assert.doesNotMatch(embedded, /[<>&\u2028]/);
    assert.deepEqual(JSON.parse(embedded), value);
  });

  it('is written in pieces that join to exactly the JSON of the whole, long arrays a slice at a time', () => {
    const nodes = Array.from({ length: 2_345 }, (_, index) => ({
      key: `duo-user:U${index}`,
      label: index % 7 === 0 ? '</script> & “quotes” \u2028' : `User ${index}`,
      properties: { email: `u${index}@example.com`, missing: undefined, when: new Date(index * 1000) },
    }));
    const value = {
      title: 'Duo graph — <corp>',
      skipped: undefined,
      nodes,
      edges: [],
      exactlyOneSlice: Array.from({ length: 1_000 }, (_, index) => index),
      typeEdges: [{ source: 0, target: 1, count: 3 }],
      nested: { list: [null, 'x'] },
    };
    const pieces = [...jsonPiecesForScriptElement(value)];
    assert.ok(pieces.length > 5, 'several pieces');
    assert.ok(Math.max(...pieces.map((piece) => piece.length)) < 200_000, 'no piece holds all the nodes');
    assert.equal(pieces.join(''), jsonForScriptElement(value));
    assert.equal([...jsonPiecesForScriptElement({})].join(''), '{}');
  });

  it('embeds elements held as their JSON texts as the same JSON as the values, script-safe', () => {
    const values = Array.from({ length: 2_345 }, (_, index) => ({
      key: `duo-user:U${index}`,
      label: index % 7 === 0 ? '</script> & “quotes” \u2028' : `User ${index}`,
    }));
    for (const count of [0, 1, 1_000, 2_345]) {
      const held = new JsonTextList();
      for (const value of values.slice(0, count)) held.push(value);
      const pieces = [...jsonPiecesForScriptElement({ title: 'x', nodes: held, edges: [] })];
      const expected = jsonForScriptElement({ title: 'x', nodes: values.slice(0, count), edges: [] });
      assert.equal(pieces.join(''), expected, `${count} elements`);
      assert.doesNotMatch(pieces.join(''), /<\/script>/);
      assert.deepEqual(held.toJSON(), values.slice(0, count));
    }
  });
});

interface DuoGraphWindow {
  duoGraph: {
    nodeCount(): number;
    edgeCount(): number;
    renderedPositionOf(key: string): { x: number; y: number } | null;
  };
}
