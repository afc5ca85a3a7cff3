import assert from 'node:assert/strict';
import { graphObjectJson, objectListPieces, parseGraphObjectProperties } from '../src/graph/serialization';
import recordedUsers from './fixtures/duo-recorded/admin_v1_users.200.json';

describe('canonical graph object text', () => {
  const record = { user_id: 'DU1', username: 'ada', phones: [{ phone_id: 'DP1' }], created: 1700000000 };
  const entity = {
    _type: 'duo_user',
    _key: 'duo-user:DU1',
    _class: ['User'],
    username: 'ada',
    active: true,
    _rawData: [{ name: 'default', rawData: record }],
    left: undefined,
  };

  it('sorts properties by name, puts _rawData last and leaves out undefined', () => {
    const text = graphObjectJson(entity);
    assert.deepEqual(Object.keys(JSON.parse(text) as object), [
      '_class',
      '_key',
      '_type',
      'active',
      'username',
      '_rawData',
    ]);
    assert.equal(graphObjectJson({ ...entity, username: 'ada', _key: 'duo-user:DU1' }), text);
    const reordered = Object.fromEntries(Object.entries(entity).reverse());
    assert.equal(graphObjectJson(reordered), text, 'the order properties were set in does not count');
  });

  it('sorts _rawData entries by name, keeps nested values as they are', () => {
    const two = {
      ...entity,
      _rawData: [
        { name: 'z', rawData: { b: 1, a: 2 } },
        { name: 'a', rawData: 'x' },
      ],
    };
    const text = graphObjectJson(two);
    assert.ok(text.endsWith(`"_rawData":[{"name":"a","rawData":"x"},{"name":"z","rawData":{"b":1,"a":2}}]}`), text);
  });

  it('splices the staged text of the raw record: the same text as serialising the record', () => {
    const staged = JSON.stringify(record);
    const spliced = graphObjectJson(entity, { record, text: staged });
    assert.equal(spliced, graphObjectJson(entity));
    // The staged text is used as it is, not the record object.
    const marked = graphObjectJson(entity, { record, text: '{"staged":true}' });
    assert.ok(marked.endsWith('"_rawData":[{"name":"default","rawData":{"staged":true}}]}'));
    // Another record than the one the entry holds: serialised normally.
    assert.equal(graphObjectJson(entity, { record: { ...record }, text: '{"staged":true}' }), graphObjectJson(entity));
  });

  it('serialises recorded Duo users the same way whether their text is spliced or not', () => {
    const users = recordedUsers.response as Record<string, unknown>[];
    assert.ok(users.length > 0);
    for (const user of users) {
      const text = JSON.stringify(user);
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const userEntity = { _key: `duo-user:${String(parsed.user_id)}`, _type: 'duo_user', _class: ['User'] };
      const withRaw = { ...userEntity, _rawData: [{ name: 'default', rawData: parsed }] };
      assert.equal(graphObjectJson(withRaw, { record: parsed, text }), graphObjectJson(withRaw));
    }
  });

  it('writes ASCII only: other characters as \\u escapes of the same JSON value', () => {
    const named = {
      _key: 'duo-user:DU2',
      _type: 'duo_user',
      name: 'Zoë 名前 😀',
      _rawData: [{ name: 'default', rawData: { note: 'é' } }],
    };
    const text = graphObjectJson(named);
    assert.match(text, /^[\x20-\x7e]*$/);
    assert.ok(text.includes('Zo\\u00eb'));
    assert.deepEqual(JSON.parse(text), named);
    assert.equal(graphObjectJson(JSON.parse(text) as object), text, 'stable when read back');
  });

  it('parses the properties before _rawData only, and falls back to the whole text when the cut is not at the top', () => {
    const text = graphObjectJson(entity);
    const { _rawData, ...rest } = entity;
    assert.ok(_rawData);
    const expected = JSON.parse(JSON.stringify(rest)) as object;
    assert.deepEqual(parseGraphObjectProperties(text), expected);

    const mapped = {
      _key: 'm',
      _type: 'duo_user_is_employee',
      _class: 'IS',
      _mapping: { targetEntity: { email: 'a@b.c', _rawData: [1] }, sourceEntityKey: 'k' },
      displayName: 'IS',
    };
    const mappedText = graphObjectJson(mapped);
    assert.ok(mappedText.includes(',"_rawData":'), 'a nested _rawData name precedes the end');
    assert.deepEqual(parseGraphObjectProperties(mappedText), mapped);
    assert.deepEqual(parseGraphObjectProperties(graphObjectJson({ _key: 'only', _rawData: [] })), { _key: 'only' });
  });
});

describe('graph file pieces', () => {
  it('make {"<kind>":[…]} of the texts as they are, the byte texts not copied', () => {
    const asBytes = Buffer.from('{"_key":"b","name":"Zoë"}');
    const texts = ['{"_key":"a"}', asBytes, '{"_key":"c"}'];
    const pieces = objectListPieces('entities', texts);
    assert.ok(pieces.includes(asBytes), 'the bytes given are a piece themselves');
    const document = Buffer.concat(pieces).toString('utf8');
    assert.equal(document, '{"entities":[{"_key":"a"},{"_key":"b","name":"Zoë"},{"_key":"c"}]}');
    assert.deepEqual(JSON.parse(Buffer.concat(objectListPieces('relationships', [])).toString('utf8')), {
      relationships: [],
    });
  });
});
