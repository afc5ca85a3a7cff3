/**
 * How the JupiterOne simulator reads an upload body: validated whole, each object located by the
 * byte range of its text (the simulator holds those bytes, not parsed objects), the same inline
 * and on reader threads.
 */
import assert from 'node:assert/strict';
import {
  memberArrayElementRanges,
  readUploadBody,
  UploadBodyError,
  type UploadBody,
} from '../src/simulators/jupiterone/upload-body';
import { UploadReaders } from '../src/simulators/jupiterone/upload-readers';
import { stopAtEnd } from './harness/root-hooks';

const entity = (id: string, extra: Record<string, unknown> = {}) => ({
  _key: `duo-user:${id}`,
  _type: 'duo_user',
  _class: ['User'],
  name: id,
  ...extra,
});

/** Strings that a naive scan would take for structure: quotes, backslashes, brackets, non-ASCII. */
const TRICKY = [
  'a "quoted" } ] { [ word',
  'ends with a backslash \\',
  '\\"',
  'Zoë Ĳssel 名前 😀',
  '{"entities":[{"_key":"not-an-object"}]}',
];

const relationships = [
  {
    _key: 'duo-user:U1|has|duo-phone:P1',
    _type: 'duo_user_has_phone',
    _class: 'HAS',
    _fromEntityKey: 'duo-user:U1',
    _toEntityKey: 'duo-phone:P1',
  },
  {
    _key: 'duo-user:U1|is|employee',
    _type: 'duo_user_is_employee',
    _class: 'IS',
    _mapping: {
      relationshipDirection: 'REVERSE',
      sourceEntityKey: 'duo-user:U1',
      targetFilterKeys: [['_type', 'email']],
      targetEntity: { _type: 'employee', _class: 'Person', email: 'u1@example.com' },
    },
  },
];

function textsOf(bytes: Buffer, body: UploadBody, kind: 'entities' | 'relationships'): unknown[] {
  const objects = body[kind]!;
  return objects.keys.map((_, index) =>
    JSON.parse(bytes.toString('utf8', objects.offsets[index * 2], objects.offsets[index * 2 + 1])),
  );
}

/** The body with its typed arrays as plain arrays, to compare bodies read in different threads. */
function plain(body: UploadBody): unknown {
  return JSON.parse(
    JSON.stringify(body, (_key, value: unknown) => (value instanceof Uint32Array ? [...value] : value)),
  );
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof UploadBodyError, String(error));
    return error.code;
  }
  return undefined;
}

describe('Reading a JupiterOne upload body', () => {
  const entities = TRICKY.map((text, index) => entity(`U${index}0000000`, { description: text, tags: [text, 'x'] }));

  it('locates every object by the bytes of its text, whatever its strings hold and however it is laid out', () => {
    for (const indent of [undefined, 2, '\t']) {
      // Other members before and after, one with a nested "entities" that is not the upload's.
      const text = JSON.stringify(
        { meta: { entities: [{ a: 1 }] }, entities, relationships, after: [1, 2] },
        null,
        indent,
      );
      const bytes = Buffer.from(text, 'utf8');
      const body = readUploadBody(bytes, ['entities', 'relationships']);
      assert.deepEqual(textsOf(bytes, body, 'entities'), entities);
      assert.deepEqual(textsOf(bytes, body, 'relationships'), relationships);
    }
  });

  it('reads identities, types, relationship ends and mappings into columns', () => {
    const bytes = Buffer.from(JSON.stringify({ entities: [...entities, entity('G1', { _type: 'duo_group' })] }));
    const read = readUploadBody(bytes, ['entities']);
    const columns = read.entities!;
    assert.deepEqual(columns.keys, [...entities.map((e) => e._key), 'duo-user:G1']);
    assert.deepEqual(columns.types, ['duo_user', 'duo_group']);
    assert.deepEqual([...columns.typeIndexes], [0, 0, 0, 0, 0, 1]);
    assert.equal(read.relationships, undefined);

    const edges = readUploadBody(Buffer.from(JSON.stringify({ relationships })), ['relationships']).relationships!;
    assert.deepEqual(edges.fromEntityKeys, ['duo-user:U1', '']);
    assert.deepEqual(edges.toEntityKeys, ['duo-phone:P1', '']);
    assert.deepEqual(edges.mappings, [null, relationships[1]._mapping]);
  });

  it('keeps the last of two members with the same name, as JSON.parse does', () => {
    const text = `{"entities":[${JSON.stringify(entity('FIRST0000'))}],"entities":[${JSON.stringify(entity('LAST00000'))}]}`;
    const bytes = Buffer.from(text);
    assert.deepEqual(textsOf(bytes, readUploadBody(bytes, ['entities']), 'entities'), [entity('LAST00000')]);
    assert.deepEqual(memberArrayElementRanges(bytes).get('entities'), [text.lastIndexOf('[{') + 1, text.length - 2]);
  });

  it('refuses what JupiterOne refuses, with its error codes', () => {
    const read = (text: string, kinds: ('entities' | 'relationships')[] = ['entities']) =>
      codeOf(() => readUploadBody(Buffer.from(text), kinds));
    assert.equal(read('{"entities":['), 'INVALID_JSON');
    assert.equal(read('[]'), 'INVALID_BODY');
    assert.equal(read('{"entities":{}}'), 'ENTITY_IS_NOT_ARRAY');
    assert.equal(read('{"relationships":3}', ['relationships']), 'RELATIONSHIP_IS_NOT_ARRAY');
    assert.equal(read('{"deleteEntities":[]}', ['entities', 'relationships']), 'UNSUPPORTED_OPERATION');
    assert.equal(read('{"other":[]}', ['entities', 'relationships']), 'NOTHING_TO_UPLOAD');
    assert.equal(read(JSON.stringify({ entities: [entity('U1', { _key: 'short' })] })), 'INVALID_GRAPH_OBJECT');
  });

  it('reads the same on reader threads, hands the bytes back, and refuses there with the same errors', async () => {
    const readers = new UploadReaders({ threads: 2, threadedBytes: 0 });
    stopAtEnd(() => readers.close());
    const text = JSON.stringify({ entities, relationships });
    const inline = readUploadBody(Buffer.from(text), ['entities', 'relationships']);
    // A buffer of its own memory travels to the thread and back; a view into a larger one is copied.
    const own = Buffer.alloc(Buffer.byteLength(text));
    own.write(text);
    const view = Buffer.from(`padding${text}`).subarray('padding'.length);
    for (const bytes of [own, view]) {
      const read = await readers.read(bytes, ['entities', 'relationships']);
      assert.equal(read.bytes.toString(), text);
      assert.equal(bytes.length, bytes === own ? 0 : Buffer.byteLength(text), 'handed over, or copied and left alone');
      assert.deepEqual(plain(read.body), plain(inline));
      assert.deepEqual(textsOf(read.bytes, read.body, 'entities'), entities);
    }
    await assert.rejects(
      readers.read(Buffer.from(JSON.stringify({ entities: [entity('U1', { nested: { a: 1 } })] })), ['entities']),
      (error: unknown) =>
        error instanceof UploadBodyError &&
        error.code === 'INVALID_GRAPH_OBJECT' &&
        /"nested" is an object/.test(error.message),
    );
  });
});
