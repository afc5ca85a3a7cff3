/**
 * Runs `map` over `items` with up to `ahead` results in flight, yielding each item with its result
 * in the items' order: the work (a part read from disk) goes on ahead
 * while the caller handles results one by one, and memory holds at most `ahead` of them.
 */
export async function* mapInOrder<T, R>(
  items: AsyncIterable<T>,
  map: (item: T) => Promise<R>,
  ahead: number,
): AsyncGenerator<[T, R], void, undefined> {
  const queue: { item: T; result: Promise<R> }[] = [];
  for await (const item of items) {
    const result = map(item);
    // Awaited in turn below; until then (or if the caller stops early) not an unhandled rejection.
    result.catch(() => undefined);
    queue.push({ item, result });
    while (queue.length >= Math.max(1, ahead)) {
      const next = queue.shift()!;
      yield [next.item, await next.result];
    }
  }
  while (queue.length > 0) {
    const next = queue.shift()!;
    yield [next.item, await next.result];
  }
}
