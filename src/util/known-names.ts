/**
 * Strict reading of JSON objects written by people (the instances file, simulator fault settings):
 * a field that is not known is an error, with the known name it was probably meant to be.
 */

/**
 * The known name `candidate` most likely stands for: the same but for case, a prefix of it, or
 * one within a few edits (about one per three characters). Undefined when none is close.
 */
export function closestName(candidate: string, names: readonly string[]): string | undefined {
  const lower = candidate.toLowerCase();
  const sameButCase = names.find((name) => name.toLowerCase() === lower);
  if (sameButCase) return sameButCase;
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance < (best?.distance ?? Infinity)) best = { name, distance };
  }
  if (best && best.distance <= Math.max(1, Math.floor(candidate.length / 3))) return best.name;
  if (lower.length >= 3) return names.find((name) => name.toLowerCase().startsWith(lower));
  return undefined;
}

/** Field names of `object` that are not in `known`, each with the known name it may stand for. */
export function unknownFields(
  object: Readonly<Record<string, unknown>>,
  known: readonly string[],
): Array<{ name: string; suggestion?: string }> {
  return Object.keys(object)
    .filter((name) => !known.includes(name))
    .map((name) => ({ name, suggestion: closestName(name, known) }));
}

/**
 * Optimal string alignment distance (insertions, deletions, substitutions and swaps of neighbours
 * each cost one): "pollingIntervall" is one edit from "pollingInterval". Written here because
 * it is a dozen lines and no library is worth adding for it.
 */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Math.abs(a.length - b.length);
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, rows[i - 2][j - 2] + 1);
      rows[i][j] = value;
    }
  }
  return rows[a.length][b.length];
}
