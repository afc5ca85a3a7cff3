import assert from 'node:assert/strict';
import { CompactKeyMap } from '../src/util/compact-key-map';

/** Keys like a delivery's, with the awkward ones among them: non-ASCII, empty, long, look-alikes. */
function sampleKeys(count: number): string[] {
  const keys = ['', 'é', 'Zoë|uses|DP1', '\u{1F600} emoji', 'x'.repeat(1_000), 'a\u0000b', '\ud800 lone surrogate'];
  for (let index = 0; keys.length < count; index += 1) {
    keys.push(`duo-user:DU${index.toString(36).toUpperCase().padStart(8, '0')}`);
    keys.push(`duo-user:DU${index}|uses|DP${index}`);
  }
  return keys.slice(0, count);
}

describe('CompactKeyMap', () => {
  it('answers as a Map does for every key added, through its growth, and nothing for others', () => {
    const keys = sampleKeys(50_000);
    const compact = new CompactKeyMap();
    const map = new Map<string, number>();
    keys.forEach((key, index) => {
      compact.set(key, index * 1.5);
      map.set(key, index * 1.5);
    });
    // Setting again replaces the value and adds no entry.
    compact.set(keys[3], -7);
    map.set(keys[3], -7);
    assert.equal(compact.size, map.size);
    for (const [key, value] of map) assert.equal(compact.get(key), value, `value of ${JSON.stringify(key)}`);
    for (const absent of ['duo-user:DU', 'duo-user:DU00000000 ', 'e', 'x'.repeat(999), 'Zoe|uses|DP1']) {
      assert.equal(compact.has(absent), false, absent);
      assert.equal(compact.get(absent), undefined, absent);
    }
    assert.deepEqual([...compact.entries()], [...map.entries()], 'entries in the order the keys were added');
  });

  it('numbers entries in the order keys were added, with their keys and values', () => {
    const compact = new CompactKeyMap().set('b', 1).set('a', 2).set('b', 3);
    assert.equal(compact.entryOf('b'), 0);
    assert.equal(compact.entryOf('a'), 1);
    assert.equal(compact.entryOf('c'), -1);
    assert.equal(compact.keyAt(1), 'a');
    compact.setValueAt(1, 9);
    assert.equal(compact.valueAt(1), 9);
    assert.equal(compact.get('a'), 9);
    assert.deepEqual([...compact.keys()], ['b', 'a']);
    assert.equal(compact.entryOrAdd('a', 5), 1, 'a key there: its entry, its value kept');
    assert.equal(compact.get('a'), 9);
    assert.equal(compact.entryOrAdd('c', 5), -1 - 2, 'a key added: -1 - its entry');
    assert.equal(compact.get('c'), 5);
    assert.equal(compact.size, 3);
  });

  it('takes a key as its UTF-8 bytes for the very key its string is, and adds a key only once either way', () => {
    // Every key that has UTF-8 bytes: a lone surrogate has none.
    const keys = sampleKeys(5_000).filter((key) => (key as string & { isWellFormed(): boolean }).isWellFormed());
    const compact = new CompactKeyMap();
    // The bytes of each key amid others', as a file read whole holds them.
    const file = Buffer.from(`[${keys.join('][')}]`, 'utf8');
    let at = 1;
    keys.forEach((key, index) => {
      const end = at + Buffer.byteLength(key, 'utf8');
      if (index % 2 === 0)
        assert.equal(compact.entryOrAddBytes(file, at, end, index), -1 - index, 'added by its bytes');
      else assert.equal(compact.entryOrAdd(key, index), -1 - index, 'added by its string');
      at = end + 2;
    });
    at = 1;
    keys.forEach((key, index) => {
      const end = at + Buffer.byteLength(key, 'utf8');
      assert.equal(compact.entryOf(key), index, `${JSON.stringify(key)} found by its string`);
      assert.equal(compact.entryOrAddBytes(file, at, end, -1), index, `${JSON.stringify(key)} found by its bytes`);
      assert.equal(compact.keyAt(index), key);
      at = end + 2;
    });
    assert.equal(compact.size, keys.length);
  });

  it('tells a lone surrogate from the replacement character UTF-8 would turn it into', () => {
    const compact = new CompactKeyMap().set('\ud800', 1).set('\ufffd', 2).set('a\udc00b', 3);
    assert.equal(compact.size, 3);
    assert.deepEqual(
      [...compact.entries()],
      [
        ['\ud800', 1],
        ['\ufffd', 2],
        ['a\udc00b', 3],
      ],
    );
  });
});
