import assert from 'node:assert/strict';
import { jsonStringBytesAtMost, writeJsonString } from '../src/util/json-text-bytes';

describe('JSON strings written into bytes', () => {
  it('writes exactly what JSON.stringify writes, for every kind of character, at any offset', () => {
    const texts = [
      '',
      'duo-user:DU1',
      'Zoë',
      '"quoted"',
      'back\\slash',
      'tab\tnewline\n',
      '\u0001\u001f',
      '\u007f',
      '\ud800',
      '\u{1F600}',
      '~ !#',
      'x'.repeat(10_000),
    ];
    for (const text of texts) {
      const room = jsonStringBytesAtMost(text.length);
      const target = Buffer.alloc(3 + room + 3, 0xee);
      const end = writeJsonString(target, 3, text);
      const expected = Buffer.from(JSON.stringify(text), 'utf8');
      assert.ok(expected.length <= room, `room for ${JSON.stringify(text)}`);
      assert.deepEqual(target.subarray(3, end), expected, JSON.stringify(text));
      assert.equal(target[2], 0xee, 'nothing written before the offset');
    }
  });
});
