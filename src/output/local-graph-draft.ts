/**
 * A local delivery written while the graph is built: the new version of the output takes each
 * object as the build makes it (`LocalGraphDraft.add`), so that once the last page is read the
 * version only needs its last files, `summary.json`, `changes.json` and `graph.html`. At Duo's
 * rate limits the build follows the fetch and the host is idle most of the time; writing the
 * output in that time, instead of from the staged graph once it is built, takes the delivery's
 * seconds off the end of the run.
 *
 * Nothing here makes a version current. A draft is finished for the partial types and counts the
 * build assumed (`complete`), and the delivery publishes it only if the run delivers exactly
 * those, and the output is still the version the draft was compared with
 * (`publishPreparedLocalGraph`); otherwise the delivery writes the version whole, as without a
 * draft, and the draft's folder goes as any other leftover of a write. A draft that fails is
 * given up, never the build: it is a shortcut, not a step of its own.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { GraphIndexEntry } from '../graph/serialization';
import {
  LocalGraphVersion,
  normalizePartialTypes,
  publishLocalGraphVersion,
  type LocalGraphResult,
  type LocalGraphVersionOptions,
  type PartialTypeInput,
  type TypeOutput,
} from './local-graph';
import { INCOMPLETE_SUFFIX, assertPathSegment, versionsFolder, type GraphObjectKind } from './paths';

/** A partial type and why, as a draft records it. */
export interface PreparedPartialType {
  type: string;
  reason?: string;
}

/** A finished draft: what it was made for, and what the delivery answers when it publishes it. */
export interface PreparedLocalGraph {
  /** The version's name; its folder is `<version>.incomplete` until it is published. */
  version: string;
  /** The version of the output it was compared with; absent when the instance had none. */
  replacing?: string;
  partialTypes: PreparedPartialType[];
  /** Objects built per `_type`, which the draft holds exactly (for every type not partial). */
  built: Record<string, number>;
  result: Omit<LocalGraphResult, 'paths'>;
}

export class LocalGraphDraft {
  /** The first error of an `add`: the draft is then given up (`complete` throws it). */
  private failure: { error: unknown } | undefined;

  private constructor(
    private readonly version: LocalGraphVersion,
    private readonly outputs: ReadonlyMap<string, TypeOutput>,
  ) {}

  /** Starts a new version of the instance's output, every declared type open for objects. */
  static async start(options: LocalGraphVersionOptions): Promise<LocalGraphDraft> {
    const version = await LocalGraphVersion.start(options);
    const outputs = new Map<string, TypeOutput>();
    try {
      for (const planned of version.plan) outputs.set(planned.type, version.openType(planned));
    } catch (error) {
      await version.discard();
      throw error;
    }
    return new LocalGraphDraft(version, outputs);
  }

  /** Whether an `add` failed: the draft is then of no use. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Adds an object as the build stages it: its canonical text and its index entry's JSON text.
   * Never throws: a failure gives the draft up. A promise only when a file is being written and
   * the type's writes in flight are at their limit.
   */
  add(kind: GraphObjectKind, type: string, text: Uint8Array | string, indexEntry: string): Promise<void> | undefined {
    if (this.failure) return undefined;
    try {
      const output = this.outputs.get(type);
      if (!output) throw new Error(`The build made ${kind} of _type "${type}", which no step of the output declares.`);
      // The build's bytes are a view of its batch; a file holds its objects until it is written.
      const copy = typeof text === 'string' ? text : Buffer.from(text);
      const written = output.add(copy, JSON.parse(indexEntry) as GraphIndexEntry);
      return written?.catch((error: unknown) => this.fail(error));
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /**
   * Finishes the draft for these partial types and counts (what the build assumed): the previous
   * objects of partial types kept, the rest of every type written, then `summary.json`,
   * `changes.json` and `graph.html`. The version stays unpublished.
   */
  async complete(
    partialTypes: readonly PartialTypeInput[],
    built: Readonly<Record<string, number>>,
  ): Promise<PreparedLocalGraph> {
    this.throwIfFailed();
    const partial = normalizePartialTypes(partialTypes);
    const counts = new Map<string, number>();
    for (const { type } of this.version.plan) {
      const output = this.outputs.get(type)!;
      counts.set(type, await output.finish({ partial: partial.has(type), reason: partial.get(type) }));
      this.throwIfFailed();
    }
    const result = await this.version.finish(counts, partial, built);
    return {
      version: this.version.name,
      ...(this.version.current === undefined ? {} : { replacing: this.version.current }),
      partialTypes: preparedPartialTypes(partialTypes),
      built: { ...built },
      result,
    };
  }

  /** Removes the draft's folder once its writes in flight are over. */
  async discard(): Promise<void> {
    await Promise.all([...this.outputs.values()].map((output) => output.abandon().catch(() => undefined)));
    await this.version.discard();
  }
}

function preparedPartialTypes(partialTypes: readonly PartialTypeInput[]): PreparedPartialType[] {
  return [...normalizePartialTypes(partialTypes)]
    .map(([type, reason]) => (reason === undefined ? { type } : { type, reason }))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

function sameCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const types = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...types].every((type) => (a[type] ?? 0) === (b[type] ?? 0));
}

/**
 * Publishes a prepared draft as the instance's output, if it was made for exactly these partial
 * types (with their reasons) and counts, and the output is still the version it was compared
 * with. Undefined when not, with nothing changed: the delivery then writes the version whole.
 */
export async function publishPreparedLocalGraph(
  options: Pick<LocalGraphVersionOptions, 'dataDir' | 'instanceId'>,
  prepared: PreparedLocalGraph,
  delivery: { partialTypes: readonly PartialTypeInput[]; built: Readonly<Record<string, number>> },
): Promise<LocalGraphResult | undefined> {
  const forThisDelivery =
    JSON.stringify(prepared.partialTypes) === JSON.stringify(preparedPartialTypes(delivery.partialTypes)) &&
    sameCounts(prepared.built, delivery.built);
  if (!forThisDelivery) return undefined;
  assertPathSegment(prepared.version, 'Output version');
  const paths = await publishLocalGraphVersion(options, prepared.version, prepared.replacing);
  return paths && { paths, ...prepared.result };
}

/** Removes a prepared draft's folder, unless it was published (then it is no longer there). */
export async function removePreparedLocalGraph(
  options: Pick<LocalGraphVersionOptions, 'dataDir' | 'instanceId'>,
  prepared: Pick<PreparedLocalGraph, 'version'>,
): Promise<void> {
  assertPathSegment(prepared.version, 'Output version');
  const folder = path.join(
    versionsFolder(options.dataDir, options.instanceId),
    `${prepared.version}${INCOMPLETE_SUFFIX}`,
  );
  await rm(folder, { recursive: true, force: true });
}
