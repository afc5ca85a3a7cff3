/**
 * The local graph directory: the delivery target when no JupiterOne credentials are configured.
 *
 * `writeLocalGraph` writes an instance's graph in the layout `j1-integration collect` writes (see
 * paths.ts and graph-files.ts), so `j1-integration sync --project-path <dataDir>/output/<instanceId>`
 * can upload it later; beside it go the change report (`changes.json`) and the picture
 * (`graph.html`).
 *
 * Streaming: objects arrive per `_type` as async iterables and leave in files of 500, so memory
 * holds one file's objects per open type and the picture's bounded sample; when a type is
 * finished, its `_key → hash` maps too (the previous output's, read from the hashes the previous
 * version stored, and this one's, read back from the hashes it stored). A version
 * (`LocalGraphVersion`) writes each type through a `TypeOutput`, which takes objects one at a
 * time: `writeLocalGraph` opens and finishes them type by type, and a draft written as the graph is
 * built (local-graph-draft.ts) keeps them all open, then finishes them one by one.
 *
 * Atomic replacement: a new version is written in its own folder (`<version>.incomplete`), renamed
 * when complete, and published by renaming a new symbolic link over `<dataDir>/output/<instanceId>`
 * (rename(2) replaces the link atomically). Readers see the previous complete version until then; a
 * crashed or failed write leaves only an `.incomplete` folder nobody links to, which the next write
 * removes. The version replaced is deleted in the background once nothing links to it. Writes of
 * one instance must not run concurrently (the workflow runs one ingestion per instance at a time).
 *
 * Partial types: for the local target a partial type keeps the previous output's objects that this
 * delivery did not bring (objects it did bring replace theirs), mirroring what JupiterOne does for
 * types listed in `partialDatasets`. So a failed fetch never empties a type here either, and the
 * change report never lists such objects as deleted.
 */
import { randomUUID } from 'node:crypto';
import { lstat, readlink, readdir, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { assertDeliveredAsBuilt } from '../graph/completeness';
import { BackgroundDeletions } from '../util/background-deletions';
import type { Entity, Relationship } from '../graph/types';
import { ChangeReportWriter, type ChangeReport, type TypeChangeTracker } from './change-report';
import {
  graphIndexEntry,
  graphObjectHash,
  graphObjectJson,
  jsonTextOf,
  parseGraphObjectProperties,
  type GraphIndexEntry,
} from '../graph/serialization';
import {
  ALREADY_DELIVERED,
  ContentHashWriter,
  KeyHashes,
  contentHash,
  deliverStoredPairs,
  readContentHashes,
} from './content-hash';
import {
  GraphTypeFileWriter,
  buildIntegrationSummary,
  indexGraphFiles,
  readObjectsOfType,
  type GraphFileIndex,
  type GraphObject,
  type GraphStep,
} from './graph-files';
import {
  CHANGES_FILE,
  GRAPH_FOLDER,
  HTML_FILE,
  INCOMPLETE_SUFFIX,
  J1_FOLDER,
  SUMMARY_FILE,
  assertPathSegment,
  localOutputPaths,
  versionsFolder,
  type GraphObjectKind,
  type LocalOutputPaths,
} from './paths';
import { PictureCollector, type PartialTypeReasons, type PictureLimits } from './picture/picture-data';
import { renderGraphHtml } from './picture/render-html';
import { isErrnoException, makePrivateDir, writeNewPrivateFile } from './private-files';

/** A partial type, optionally with the reason it is partial (shown in the report and picture). */
export type PartialTypeInput = string | { type: string; reason?: string };

/**
 * Objects of one `_type` as the build stages them: their canonical JSON texts (`graphObjectJson`,
 * src/graph/serialization.ts) and, for each text at the same position, its index entry (`_key`,
 * content hash, edge ends). Texts are written and hashes compared as they are; an object is parsed
 * only when the picture draws it, so a text and its entry must belong together.
 */
export interface IndexedGraphBatch {
  /** Canonical texts, as strings or UTF-8 bytes. */
  texts: readonly (string | Uint8Array)[];
  entries: readonly GraphIndexEntry[];
}

/** Where the graph objects come from: per `_type`, one stream of batches, read once. */
export interface LocalGraphSource {
  entities(type: string): AsyncIterable<IndexedGraphBatch>;
  relationships(type: string): AsyncIterable<IndexedGraphBatch>;
}

/** Graph objects per `_type`, as a program holds them. */
export interface GraphObjectStreams {
  entities(type: string): AsyncIterable<Entity> | Iterable<Entity>;
  relationships(type: string): AsyncIterable<Relationship> | Iterable<Relationship>;
}

async function* indexedBatches(
  objects: AsyncIterable<GraphObject> | Iterable<GraphObject>,
): AsyncIterable<IndexedGraphBatch> {
  for await (const graphObject of objects) {
    const text = graphObjectJson(graphObject);
    yield { texts: [text], entries: [graphIndexEntry(graphObject, graphObjectHash(text))] };
  }
}

/** A source serialising and indexing graph objects as they are read (for objects not staged by the build). */
export function graphObjectSource(streams: GraphObjectStreams): LocalGraphSource {
  return {
    entities: (type) => indexedBatches(streams.entities(type)),
    relationships: (type) => indexedBatches(streams.relationships(type)),
  };
}

export interface WriteLocalGraphOptions {
  /** The data folder (`DUO_J1_DATA_DIR`); the output goes to `<dataDir>/output/<instanceId>`. */
  dataDir: string;
  instanceId: string;
  /** The integration steps of the data model; their ids name the step folders. */
  steps: readonly GraphStep[];
  /** Types whose data is incomplete this time (they go to `metadata.partialDatasets`). */
  partialTypes: readonly PartialTypeInput[];
  source: LocalGraphSource;
  /**
   * Objects built per `_type`, when known: for every type not partial, the objects written must be
   * exactly these, or the new version is not published and the previous output stays (a type
   * written short would make its missing objects look deleted).
   */
  built?: Readonly<Record<string, number>>;
  /** Keys per list in the returned change report (changes.json always has them all); default 10. */
  keyListLimit?: number;
  picture?: PictureLimits;
  /**
   * Stops the write (rejecting with the signal's reason) at the next batch of objects, and in any
   * case before the new version is published: a cancelled delivery leaves the previous output.
   */
  signal?: AbortSignal;
}

export interface LocalGraphResult {
  paths: LocalOutputPaths;
  /** Objects in the new output per `_type` (for partial types, including those kept). */
  objectCounts: Record<string, number>;
  entityCount: number;
  relationshipCount: number;
  partialTypes: string[];
  /** The change report with at most `keyListLimit` keys per list. */
  changes: ChangeReport;
}

interface PlannedType {
  kind: GraphObjectKind;
  type: string;
  stepId: string;
}

export function normalizePartialTypes(partialTypes: readonly PartialTypeInput[]): Map<string, string | undefined> {
  const reasons = new Map<string, string | undefined>();
  for (const item of partialTypes) {
    const type = typeof item === 'string' ? item : item.type;
    const reason = typeof item === 'string' ? undefined : item.reason;
    reasons.set(type, reasons.get(type) ?? reason);
  }
  return reasons;
}

/**
 * The order types are written in: every entity type of every step, then every relationship type
 * (the picture resolves relationship ends against entities already seen). A type declared by
 * several steps is written once, under the first.
 */
export function planTypes(steps: readonly GraphStep[]): PlannedType[] {
  const stepIds = new Set<string>();
  const kindOfType = new Map<string, GraphObjectKind>();
  const plan: PlannedType[] = [];
  for (const step of steps) {
    assertPathSegment(step.id, 'Step id');
    if (stepIds.has(step.id)) throw new Error(`Step id "${step.id}" is declared twice; step ids must be unique.`);
    stepIds.add(step.id);
  }
  for (const kind of ['entities', 'relationships'] as const) {
    for (const step of steps) {
      for (const type of kind === 'entities' ? step.entityTypes : step.relationshipTypes) {
        assertPathSegment(type, 'Graph object _type');
        const declaredKind = kindOfType.get(type);
        if (declaredKind === kind) continue;
        if (declaredKind !== undefined) {
          throw new Error(`_type "${type}" is declared both as an entity and as a relationship type.`);
        }
        kindOfType.set(type, kind);
        plan.push({ kind, type, stepId: step.id });
      }
    }
  }
  return plan;
}

function newVersionName(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
}

/** Makes the instance path a link to `versions/<version>`, replacing any previous link atomically. */
async function publishVersion(instancePath: string, versions: string, version: string): Promise<void> {
  const temporaryLink = path.join(versions, `.link-${randomUUID()}`);
  // Relative to the instance path's folder, so the data folder can be moved as a whole. The type
  // ("junction") only matters on Windows, where it needs no special privilege.
  await symlink(path.relative(path.dirname(instancePath), path.join(versions, version)), temporaryLink, 'junction');
  try {
    await rename(temporaryLink, instancePath);
  } catch (error) {
    await rm(temporaryLink, { force: true });
    throw error;
  }
}

/**
 * The name of the version the instance path links to, if any. An instance path that is a plain
 * folder (an output copied there by hand) is first moved into the versions folder and linked, so it
 * becomes the previous output.
 */
async function currentVersion(instancePath: string, versions: string): Promise<string | undefined> {
  let stats;
  try {
    stats = await lstat(instancePath);
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return undefined;
    throw error;
  }
  if (stats.isSymbolicLink()) {
    const target = path.resolve(path.dirname(instancePath), await readlink(instancePath));
    if (path.dirname(target) !== versions) return undefined;
    try {
      return (await stat(target)).isDirectory() ? path.basename(target) : undefined;
    } catch {
      return undefined;
    }
  }
  if (stats.isDirectory()) {
    const version = `${newVersionName()}-moved`;
    await rename(instancePath, path.join(versions, version));
    await publishVersion(instancePath, versions, version);
    return version;
  }
  throw new Error(
    `${instancePath} exists and is not a folder; move it away so the local graph directory can be written there.`,
  );
}

/** Removes everything in the versions folder but `keep`: incomplete versions and stray links of crashed writes. */
async function removeLeftovers(versions: string, keep: string | undefined): Promise<void> {
  for (const name of await readdir(versions)) {
    if (name !== keep) await rm(path.join(versions, name), { recursive: true, force: true });
  }
}

/** The previous complete version: where it is and which files hold each `_type`. */
interface PreviousOutput {
  dir: string;
  files: GraphFileIndex;
}

/**
 * The `_key → hash` map of one `_type` of the previous output: from its stored hashes, or — for an
 * output without them (written by `j1-integration collect`, or moved in by hand) — by hashing its
 * graph files.
 */
async function previousHashes(
  previous: PreviousOutput | undefined,
  kind: GraphObjectKind,
  type: string,
): Promise<KeyHashes> {
  const hashes = new KeyHashes();
  const files = previous?.files[kind].get(type);
  if (!previous || !files) return hashes;
  const stored = await readContentHashes(previous.dir, kind, type);
  if (stored) return stored;
  for await (const graphObject of readObjectsOfType(files, type)) {
    hashes.set(graphObject._key, contentHash(graphObject));
  }
  return hashes;
}

/** What every `_type` of a version being written shares. */
interface VersionContext {
  buildDir: string;
  previous: PreviousOutput | undefined;
  picture: PictureCollector;
  changeReport: ChangeReportWriter;
}

/**
 * One `_type` of a version being written: its graph files, its stored hashes, its changes against
 * the previous output and its part of the picture. Objects come one at a time (`add`), as a
 * delivery reads them or as a build makes them, and `finish` ends the type.
 *
 * The type is compared with the previous output when it is finished, from the hashes it stored:
 * only then are the previous output's hashes read and the type's changes listed. So an output
 * holds the keys of no type while it takes objects, and of one type at a time while its types are
 * finished — which is what lets a draft (local-graph-draft.ts) keep every type open for the whole
 * of a run.
 */
export class TypeOutput {
  private readonly files: GraphTypeFileWriter;
  private readonly hashes: ContentHashWriter;
  private readonly tracker: TypeChangeTracker;

  private constructor(
    private readonly planned: PlannedType,
    private readonly version: VersionContext,
  ) {
    const { kind, type, stepId } = planned;
    this.tracker = version.changeReport.tracker(type, kind, { partial: false });
    this.files = new GraphTypeFileWriter(path.join(version.buildDir, J1_FOLDER), stepId, kind, type);
    this.hashes = new ContentHashWriter(version.buildDir, kind, type);
  }

  static open(planned: PlannedType, version: VersionContext): TypeOutput {
    return new TypeOutput(planned, version);
  }

  /**
   * Adds an object by its canonical text and index entry. Awaits only when a file or a block of
   * hashes is being written (a promise then): this runs once per object.
   */
  add(text: string | Uint8Array, entry: GraphIndexEntry): Promise<void> | undefined {
    const key = entry[0];
    if (typeof key !== 'string' || key === '') {
      throw new Error(`A "${this.planned.type}" graph object has no _key; every graph object needs one.`);
    }
    return this.keep(text, entry);
  }

  private keep(text: string | Uint8Array, entry: GraphIndexEntry): Promise<void> | undefined {
    const [key, hash, from, to] = entry;
    const { kind, type } = this.planned;
    const { picture } = this.version;
    const fileWritten = this.files.add(text);
    const hashesWritten = this.hashes.add(key, hash);
    if (kind === 'entities') picture.addEntityOf(type, key, () => this.parsed(text) as Entity);
    else if (from !== undefined && to !== undefined) picture.addEdge(type, from, to);
    else picture.addRelationship(this.parsed(text) as Relationship);
    return fileWritten || hashesWritten ? Promise.all([fileWritten, hashesWritten]).then(() => undefined) : undefined;
  }

  /** The object of a text, parsed (all but `_rawData`) only for the picture, and checked to be of this type. */
  private parsed(text: string | Uint8Array): GraphObject {
    const { kind, type } = this.planned;
    const graphObject = parseGraphObjectProperties(jsonTextOf(text));
    if (graphObject._type !== type) {
      throw new Error(
        `A graph object of _type "${graphObject._type}" (_key "${graphObject._key}") came among the "${type}" ${kind}; ` +
          'each stream must hold one _type only.',
      );
    }
    return graphObject;
  }

  /**
   * Ends the type: what it delivered is compared with the previous output, the previous output's
   * objects this delivery did not bring are kept (a partial type) or listed as deleted, the last
   * files are written and the type's changes go into the report. Answers the objects written.
   */
  async finish(partial: { partial: boolean; reason?: string }): Promise<number> {
    const { kind, type } = this.planned;
    if (partial.partial) this.tracker.markPartial(partial.reason);
    try {
      const previous = await previousHashes(this.version.previous, kind, type);
      for await (const lines of this.hashes.pairsAdded()) {
        const twice = deliverStoredPairs(lines, previous, this.tracker);
        if (twice !== undefined) {
          throw new Error(
            `_key "${twice}" appears twice among the "${type}" ${kind} to deliver. Keys must be unique ` +
              '(the graph builder de-duplicates them); the previous output stays in place.',
          );
        }
      }
      if (previous.undeliveredCount > 0 && partial.partial) {
        for await (const graphObject of readObjectsOfType(this.version.previous?.files[kind].get(type) ?? [], type)) {
          if (previous.get(graphObject._key) === undefined) continue;
          const hash = previous.deliver(graphObject._key);
          if (hash === undefined || hash === ALREADY_DELIVERED) continue;
          this.tracker.carriedOver();
          const written = this.keep(graphObjectJson(graphObject), graphIndexEntry(graphObject, hash));
          if (written) await written;
        }
      } else if (previous.undeliveredCount > 0) {
        for (const [key] of previous.undelivered()) this.tracker.deleted(key);
      }
      await this.files.close();
    } finally {
      await this.abandon();
    }
    await this.version.changeReport.add(this.tracker);
    return this.files.written;
  }

  /** Waits for the type's writes in flight, whatever their outcome, and closes its hashes file. */
  async abandon(): Promise<void> {
    await this.files.settled();
    await this.hashes.close();
  }
}

/** Where and how a version is written: `WriteLocalGraphOptions` without the objects. */
export type LocalGraphVersionOptions = Pick<
  WriteLocalGraphOptions,
  'dataDir' | 'instanceId' | 'steps' | 'keyListLimit' | 'picture'
>;

/**
 * A new version of an instance's output, from its folder's creation (`start`) until it is made the
 * current one (`publish`) or removed (`discard`). Its types are written by `TypeOutput`s; `finish`
 * writes what needs them all (`summary.json`, `changes.json`, `graph.html`).
 */
export class LocalGraphVersion {
  private constructor(
    readonly options: LocalGraphVersionOptions,
    readonly versions: string,
    /** The version the instance's output is now, which this one is compared with. */
    readonly current: string | undefined,
    /** This version's name (its folder is `<name>.incomplete` until it is published). */
    readonly name: string,
    readonly plan: readonly PlannedType[],
    private readonly context: VersionContext,
    private readonly generatedAt: string,
  ) {}

  static async start(options: LocalGraphVersionOptions): Promise<LocalGraphVersion> {
    const paths = localOutputPaths(options.dataDir, options.instanceId);
    const versions = versionsFolder(options.dataDir, options.instanceId);
    const plan = planTypes(options.steps);
    // Not beside a deletion of this process in the same folder (`removeLeftovers` deletes there too).
    await replacedVersions.settled(versions);
    await makePrivateDir(versions);
    const current = await currentVersion(paths.outputDir, versions);
    await removeLeftovers(versions, current);

    const previous: PreviousOutput | undefined = current
      ? { dir: path.join(versions, current), files: await indexGraphFiles(path.join(versions, current, J1_FOLDER)) }
      : undefined;
    const name = newVersionName();
    const buildDir = path.join(versions, `${name}${INCOMPLETE_SUFFIX}`);
    await makePrivateDir(buildDir);
    try {
      await writeNewPrivateFile(path.join(buildDir, BEING_WRITTEN_MARK), '');
      await makePrivateDir(path.join(buildDir, J1_FOLDER, GRAPH_FOLDER));
      const generatedAt = new Date().toISOString();
      const picture = new PictureCollector(new Map(), options.picture);
      for (const { kind, type } of plan) {
        if (kind === 'entities') picture.declareEntityType(type);
        else picture.declareRelationshipType(type);
      }
      const changeReport = new ChangeReportWriter(
        path.join(buildDir, CHANGES_FILE),
        { instanceId: options.instanceId, generatedAt, comparedWithPreviousOutput: previous !== undefined },
        options.keyListLimit ?? 10,
      );
      const context = { buildDir, previous, picture, changeReport };
      return new LocalGraphVersion(options, versions, current, name, plan, context, generatedAt);
    } catch (error) {
      await rm(buildDir, { recursive: true, force: true });
      throw error;
    }
  }

  openType(planned: PlannedType): TypeOutput {
    return TypeOutput.open(planned, this.context);
  }

  /**
   * Ends the version once each planned type was `finish`ed with the counts given: lists the types
   * of the previous output no step declares any more as deleted, checks the types not partial
   * hold exactly the objects built (when known), and writes `summary.json`, `changes.json` and
   * `graph.html`.
   */
  async finish(
    counts: ReadonlyMap<string, number>,
    partial: PartialTypeReasons,
    built: WriteLocalGraphOptions['built'],
  ): Promise<Omit<LocalGraphResult, 'paths'>> {
    const { options, plan, context } = this;
    const { previous, changeReport, picture } = context;
    try {
      // Types of the previous output that no step declares any more: all of their objects are gone.
      const planned = new Set(plan.map((item) => item.type));
      for (const kind of ['entities', 'relationships'] as const) {
        for (const type of previous?.files[kind].keys() ?? []) {
          if (planned.has(type)) continue;
          const tracker = changeReport.tracker(type, kind, { partial: false });
          for (const [key] of (await previousHashes(previous, kind, type)).undelivered()) tracker.deleted(key);
          await changeReport.add(tracker);
        }
      }
      if (built) {
        assertDeliveredAsBuilt('the local graph directory', built, Object.fromEntries(counts), partial.keys());
      }
      await this.checkNothingRemoved();
    } catch (error) {
      await changeReport.discard();
      throw error;
    }
    const summary = buildIntegrationSummary(options.steps, counts, [...partial.keys()]);
    // summary.json last among the graph files: `j1-integration sync` cannot finalize without it.
    await writeNewPrivateFile(path.join(context.buildDir, J1_FOLDER, SUMMARY_FILE), JSON.stringify(summary, null, 2));
    const changes = await changeReport.finish();
    picture.setPartialTypes(partial);
    const html = await renderGraphHtml(picture.build(`Duo graph — ${options.instanceId}`, this.generatedAt));
    await writeNewPrivateFile(path.join(context.buildDir, HTML_FILE), html);
    let entityCount = 0;
    let relationshipCount = 0;
    for (const { kind, type } of plan) {
      if (kind === 'entities') entityCount += counts.get(type) ?? 0;
      else relationshipCount += counts.get(type) ?? 0;
    }
    return {
      objectCounts: Object.fromEntries(counts),
      entityCount,
      relationshipCount,
      partialTypes: summary.metadata.partialDatasets.types,
      changes,
    };
  }

  /**
   * Fails when the version's folder was removed while it was written (another write's removal of
   * leftovers, a person's): the files written before are gone, and writing on makes the folders
   * again, so the version would look complete without them. The mark made with the folder tells.
   */
  private async checkNothingRemoved(): Promise<void> {
    const mark = path.join(this.context.buildDir, BEING_WRITTEN_MARK);
    try {
      await rm(mark);
    } catch (error) {
      if (!isErrnoException(error, 'ENOENT')) throw error;
      throw new Error(
        `The folder of the new version of the "${this.options.instanceId}" output (${this.context.buildDir}) was removed while it was written; the previous output stays.`,
        { cause: error },
      );
    }
  }

  /** Makes the finished version the instance's output; see `publishLocalGraphVersion`. */
  async publish(): Promise<LocalOutputPaths> {
    const paths = await publishLocalGraphVersion(this.options, this.name, this.current);
    if (!paths) throw new Error(`The output of instance "${this.options.instanceId}" changed while it was written.`);
    return paths;
  }

  /** Removes the version's folder (a write that failed or was given up). */
  async discard(): Promise<void> {
    await this.context.changeReport.discard().catch(() => undefined);
    await rm(this.context.buildDir, { recursive: true, force: true });
  }
}

/**
 * Makes the finished version `name` the instance's output, if the output is still `replacing`
 * (the version it was compared with) and the version is there: answers undefined otherwise, and
 * leaves everything as it was. The version replaced is deleted in the background.
 */
export async function publishLocalGraphVersion(
  options: Pick<LocalGraphVersionOptions, 'dataDir' | 'instanceId'>,
  name: string,
  replacing: string | undefined,
): Promise<LocalOutputPaths | undefined> {
  const paths = localOutputPaths(options.dataDir, options.instanceId);
  const versions = versionsFolder(options.dataDir, options.instanceId);
  const current = await currentVersion(paths.outputDir, versions);
  if (current !== replacing) return undefined;
  try {
    await rename(path.join(versions, `${name}${INCOMPLETE_SUFFIX}`), path.join(versions, name));
  } catch (error) {
    if (isErrnoException(error, 'ENOENT')) return undefined;
    throw error;
  }
  await publishVersion(paths.outputDir, versions, name);
  // The previous version goes at once, as it holds personal data nobody needs any more, but in the
  // background: nothing links to it now, and its hundreds of megabytes at 100,000 users took a
  // tenth of a second and more to delete. A deletion cut short is finished by the next write.
  if (current) replacedVersions.start(path.join(versions, current));
  return paths;
}

/** Writes the objects of one `_type` from the source into the version; answers how many. */
async function writeType(
  version: LocalGraphVersion,
  planned: PlannedType,
  { source, signal }: Pick<WriteLocalGraphOptions, 'source' | 'signal'>,
  partial: PartialTypeReasons,
): Promise<number> {
  const { kind, type } = planned;
  const output = version.openType(planned);
  try {
    const stream = kind === 'entities' ? source.entities(type) : source.relationships(type);
    for await (const { texts, entries } of stream) {
      signal?.throwIfAborted();
      if (entries.length !== texts.length) {
        throw new Error(`The "${type}" ${kind} came with ${entries.length} index entries for ${texts.length} objects.`);
      }
      const writes: Promise<void>[] = [];
      for (let index = 0; index < texts.length; index += 1) {
        const written = output.add(texts[index], entries[index]);
        if (written) writes.push(written);
      }
      if (writes.length > 0) await Promise.all(writes);
    }
  } catch (error) {
    await output.abandon();
    throw error;
  }
  return output.finish({ partial: partial.has(type), reason: partial.get(type) });
}

/**
 * Writes a new version of an instance's local graph directory and makes it the current one.
 * On any error the previous output stays current and the incomplete version is removed.
 */
export async function writeLocalGraph(options: WriteLocalGraphOptions): Promise<LocalGraphResult> {
  const version = await LocalGraphVersion.start(options);
  const partial = normalizePartialTypes(options.partialTypes);
  try {
    const counts = new Map<string, number>();
    for (const planned of version.plan) counts.set(planned.type, await writeType(version, planned, options, partial));
    const result = await version.finish(counts, partial, options.built);
    options.signal?.throwIfAborted();
    return { paths: await version.publish(), ...result };
  } catch (error) {
    await version.discard();
    throw error;
  }
}

/** A file in a version's folder from its creation until it is finished (`checkNothingRemoved`). */
const BEING_WRITTEN_MARK = '.being-written';

/** Replaced versions being deleted (`publishLocalGraphVersion`). */
const replacedVersions = new BackgroundDeletions();

/** Resolves once the versions replaced so far in this process are deleted. */
export function replacedVersionsDeleted(): Promise<void> {
  return replacedVersions.settled();
}
