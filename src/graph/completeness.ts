/**
 * The last gate before a delivery is made final (docs/completeness.md): for every type not declared
 * partial, the objects delivered must be exactly the objects built. JupiterOne's DIFF finalize, and
 * the local graph directory's replacement of the previous output, treat every object of a complete
 * type that was not delivered as deleted — so a delivery short of even one object deletes an object
 * Duo still has.
 */

/** A type whose delivered objects are not the objects built. */
export interface CountMismatch {
  type: string;
  built: number;
  delivered: number;
}

/**
 * The types, not partial, whose delivered count differs from their built count (a type missing
 * from one side counts as 0 there), in name order.
 */
export function deliveryMismatches(
  built: Readonly<Record<string, number>>,
  delivered: Readonly<Record<string, number>>,
  partialTypes: Iterable<string>,
): CountMismatch[] {
  const partial = new Set(partialTypes);
  const types = [...new Set([...Object.keys(built), ...Object.keys(delivered)])].sort();
  return types
    .filter((type) => !partial.has(type) && (built[type] ?? 0) !== (delivered[type] ?? 0))
    .map((type) => ({ type, built: built[type] ?? 0, delivered: delivered[type] ?? 0 }));
}

/** At most this many mismatching types are named in a message (all are counted). */
const NAMED_MISMATCHES = 5;

/**
 * A delivery was about to be made final with objects missing (or extra) for a complete type. It is
 * not made final: the JupiterOne job is aborted, the local output keeps its previous version, and
 * the run starts the pipeline again (or fails once it has tried enough).
 */
export class IncompleteDeliveryError extends Error {
  constructor(
    readonly target: 'JupiterOne' | 'the local graph directory',
    readonly mismatches: readonly CountMismatch[],
  ) {
    const named = mismatches
      .slice(0, NAMED_MISMATCHES)
      .map((m) => `${m.type} ${m.delivered.toLocaleString('en-US')} of ${m.built.toLocaleString('en-US')}`)
      .join(', ');
    const more = mismatches.length > NAMED_MISMATCHES ? ` and ${mismatches.length - NAMED_MISMATCHES} more types` : '';
    super(
      `Not delivered to ${target}: the objects delivered are not the objects built (${named}${more}). ` +
        'Nothing was made final, so nothing the run did not deliver is deleted; the run starts over.',
    );
    this.name = 'IncompleteDeliveryError';
  }
}

/** Throws IncompleteDeliveryError unless every type not partial was delivered exactly as built. */
export function assertDeliveredAsBuilt(
  target: IncompleteDeliveryError['target'],
  built: Readonly<Record<string, number>>,
  delivered: Readonly<Record<string, number>>,
  partialTypes: Iterable<string>,
): void {
  const mismatches = deliveryMismatches(built, delivered, partialTypes);
  if (mismatches.length > 0) throw new IncompleteDeliveryError(target, mismatches);
}
