import assert from 'node:assert/strict';
import { jsonStringBytesAtMost, plainJsonStringEnd, writeJsonString } from '../src/util/json-text-bytes';

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

  it('reads back a string written plainly as its bytes, and refuses one with an escape or no end', () => {
    const texts = ['', 'duo-user:DU1', 'Zoë', '\u{1F600}', '\u007f', '"quoted"', 'back\\slash', 'tab\t', '\ud800'];
    for (const text of texts) {
      const target = Buffer.alloc(jsonStringBytesAtMost(text.length) + 4, 0x20);
      const end = writeJsonString(target, 1, text);
      const quote = plainJsonStringEnd(target, 2, target.length);
      if (JSON.stringify(text).includes('\\')) {
        assert.equal(quote, -1, `${JSON.stringify(text)} has an escape`);
      } else {
        assert.equal(quote, end - 1, `the closing quote of ${JSON.stringify(text)}`);
        assert.equal(target.toString('utf8', 2, quote), text);
      }
    }
    assert.equal(plainJsonStringEnd(Buffer.from('"no end'), 1, 7), -1);
    assert.equal(plainJsonStringEnd(Buffer.from('"ends"after'), 1, 5), -1, 'not past the end given');
  });
});
