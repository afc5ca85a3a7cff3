/**
 * A graph object the simulated account holds: either the bytes it was uploaded as (see
 * upload-body.ts for why) or, for the entities the mapper creates and updates itself, a live
 * object. Finalize reads only the identity and relationship ends kept beside it; the whole object
 * is parsed again only for the inspection route and for mapping targets.
 *
 * An uploaded object keeps its whole request body alive: a type carried over as partial keeps the
 * old bodies its objects came in. Acceptable for a simulator; copy the bytes out if that matters.
 */
import { hash } from 'node:crypto';
import type { Entity, GraphObject, MappedRelationshipMapping } from '../../graph/types';
import type { UploadedObjects } from './upload-body';

/**
 * One object per held graph object, with every field on it (no nested source object): an account
 * of 100,000 users holds close to a million of them.
 */
export class HeldObject {
  private digestCache?: string;

  private constructor(
    readonly key: string,
    readonly type: string,
    /** Uploaded objects: the body they came in and where their text lies in it. */
    private readonly body: Buffer | undefined,
    private readonly start: number,
    private readonly end: number,
    /** Objects the simulator owns itself. */
    private readonly live: GraphObject | undefined,
    /** Direct relationships: their ends. */
    readonly fromEntityKey?: string,
    readonly toEntityKey?: string,
    /** Mapped relationships: their mapping. */
    readonly mapping?: MappedRelationshipMapping,
  ) {}

  /** Object `index` of `objects`, uploaded in `body` (the decompressed request body). */
  static uploaded(body: Buffer, objects: UploadedObjects, index: number): HeldObject {
    const mapping = objects.mappings[index] ?? undefined;
    return new HeldObject(
      objects.keys[index],
      objects.types[objects.typeIndexes[index]],
      body,
      objects.offsets[index * 2],
      objects.offsets[index * 2 + 1],
      undefined,
      objects.fromEntityKeys[index] || undefined,
      objects.toEntityKeys[index] || undefined,
      mapping,
    );
  }

  /** An entity the simulator itself owns and may update in place (then call `updated()`). */
  static live(entity: Entity): HeldObject {
    return new HeldObject(entity._key, entity._type, undefined, 0, 0, entity);
  }

  /**
   * The object: a fresh copy parsed from its bytes, or the live object itself (which only its
   * owner changes).
   */
  value(): GraphObject {
    if (this.live) return this.live;
    return JSON.parse(this.body!.toString('utf8', this.start, this.end)) as GraphObject;
  }

  /** A copy nobody else holds. */
  copy(): GraphObject {
    return this.live ? structuredClone(this.live) : this.value();
  }

  /** Digest of the object's JSON text: equal digests mean equal objects. */
  digest(): string {
    this.digestCache ??= this.live
      ? hash('sha1', JSON.stringify(this.live), 'base64')
      : hash('sha1', this.body!.subarray(this.start, this.end), 'base64');
    return this.digestCache;
  }

  /** A live object was changed: its digest is computed again when next asked for. */
  updated(): void {
    this.digestCache = undefined;
  }
}
