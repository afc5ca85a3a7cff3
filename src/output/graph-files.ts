/**
 * The graph files of a `.j1-integration` folder, in exactly the shape `j1-integration collect`
 * writes (JupiterOne SDK `FileSystemGraphObjectStore`): per step, `entities/` and `relationships/`
 * folders of `<uuid>.json` files, each `{"entities":[…]}` or `{"relationships":[…]}`, at most 500
 * objects and a single `_type` per file; and per `_type`, an `index/` folder of symbolic links to
 * those files (hard links on Windows, as the SDK does).
 *
 * Files are compact JSON, as `j1-integration collect --noPretty` writes them (the SDK reads either):
 * the objects arrive as canonical JSON texts and are written as they are, where 2-space indentation
 * would mean parsing and serialising every object again — about a third of a local delivery's time
 * for a 100,000-user tenant, for files 30 % larger. `jq . <file>` shows one indented.
 */
import { randomUUID } from 'node:crypto';
import { link, readdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { objectListPieces } from '../graph/serialization';
import type { GraphObject } from '../graph/types';
import {
  GRAPH_FOLDER,
  GRAPH_OBJECT_KINDS,
  INDEX_FOLDER,
  SUMMARY_FILE,
  assertPathSegment,
  type GraphObjectKind,
} from './paths';
import { makePrivateDir, readJsonFileIfPresent, writeNewPrivateFilePieces } from './private-files';

/** `DEFAULT_GRAPH_OBJECT_FILE_SIZE` of the JupiterOne SDK. */
export const OBJECTS_PER_FILE = 500;

export type { GraphObject };

/** One integration step as the data model declares it. */
export interface GraphStep {
  /** Fixed step id; names the step's folder under `graph/`. */
  id: string;
  name: string;
  entityTypes: readonly string[];
  relationshipTypes: readonly string[];
}

/** One step result of `summary.json` (the SDK's `IntegrationStepResult`). */
export interface StepResultSummary {
  id: string;
  name: string;
  declaredTypes: string[];
  partialTypes: string[];
  encounteredTypes: string[];
  encounteredTypeCounts: Record<string, number>;
  status: 'success' | 'failure';
}

/** `summary.json`, which `j1-integration sync` reads `metadata.partialDatasets` from. */
export interface IntegrationSummary {
  integrationStepResults: StepResultSummary[];
  metadata: { partialDatasets: { types: string[] } };
}

/**
 * Builds `summary.json` from the steps, the objects written per `_type` and the partial types.
 *
 * A step whose every declared type is partial is reported as `failure` (its resource could not be
 * read), any other as `success` with its partial types listed: from such a summary the SDK's own
 * rule (`determinePartialDatasetsFromStepExecutionResults`: partial types of every step plus all
 * declared types of failed steps) derives exactly `metadata.partialDatasets.types`.
 */
export function buildIntegrationSummary(
  steps: readonly GraphStep[],
  countsByType: ReadonlyMap<string, number>,
  partialTypes: readonly string[],
): IntegrationSummary {
  const partial = new Set(partialTypes);
  const integrationStepResults = steps.map((step): StepResultSummary => {
    const declaredTypes = [...step.entityTypes, ...step.relationshipTypes];
    const encounteredTypes = declaredTypes.filter((type) => (countsByType.get(type) ?? 0) > 0);
    const stepPartialTypes = declaredTypes.filter((type) => partial.has(type));
    return {
      id: step.id,
      name: step.name,
      declaredTypes,
      partialTypes: stepPartialTypes,
      encounteredTypes,
      encounteredTypeCounts: Object.fromEntries(encounteredTypes.map((type) => [type, countsByType.get(type) ?? 0])),
      status: declaredTypes.length > 0 && stepPartialTypes.length === declaredTypes.length ? 'failure' : 'success',
    };
  });
  return { integrationStepResults, metadata: { partialDatasets: { types: [...partial].sort() } } };
}

/** Files of one `_type` being written at once while the next one fills. */
const FILES_IN_FLIGHT = 4;

/**
 * Writes the objects of one `_type` into its step folder, in files of at most 500, as they arrive
 * (as canonical JSON texts, strings or UTF-8 bytes); only the files being written and the one
 * filling are in memory.
 */
export class GraphTypeFileWriter {
  private buffer: (string | Uint8Array)[] = [];
  private objectCount = 0;
  private readonly fileFolder: string;
  private readonly indexFolder: string;
  private folders: Promise<void> | undefined;
  /** Files being written, oldest first (at most FILES_IN_FLIGHT). */
  private inFlight: Promise<void>[] = [];

  constructor(
    private readonly j1Dir: string,
    private readonly stepId: string,
    private readonly kind: GraphObjectKind,
    readonly type: string,
  ) {
    assertPathSegment(stepId, 'Step id');
    assertPathSegment(type, 'Graph object _type');
    this.fileFolder = path.join(j1Dir, GRAPH_FOLDER, stepId, kind);
    this.indexFolder = path.join(j1Dir, INDEX_FOLDER, kind, type);
  }

  get written(): number {
    return this.objectCount;
  }

  /**
   * Adds an object's text; returns a promise only when it completed a file and the writes in flight
   * are at their limit. Not an async function: it runs once per graph object, and a promise each
   * time costs measurable time.
   */
  add(graphObjectText: string | Uint8Array): Promise<void> | undefined {
    this.buffer.push(graphObjectText);
    this.objectCount += 1;
    return this.buffer.length >= OBJECTS_PER_FILE ? this.startFile() : undefined;
  }

  /** Writes what is left; resolves once every file and index link is on disk. */
  async close(): Promise<void> {
    await this.startFile();
    while (this.inFlight.length > 0) await this.inFlight.shift();
  }

  /** Waits for the writes in flight, whatever their outcome: after a failure, before the folder is removed. */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight.map((write) => write.catch(() => undefined)));
  }

  /**
   * Starts writing the buffered objects as the next file; waits only when FILES_IN_FLIGHT files are
   * being written already (for the oldest), so the caller goes on filling the next file meanwhile.
   */
  private async startFile(): Promise<void> {
    if (this.buffer.length === 0) return;
    const objectTexts = this.buffer;
    this.buffer = [];
    const writing = this.writeFile(objectTexts);
    // A failure surfaces where the write is awaited (when the limit is reached, or close).
    writing.catch(() => undefined);
    this.inFlight.push(writing);
    if (this.inFlight.length > FILES_IN_FLIGHT) await this.inFlight.shift();
  }

  private async writeFile(objectTexts: readonly (string | Uint8Array)[]): Promise<void> {
    this.folders ??= Promise.all([makePrivateDir(this.fileFolder), makePrivateDir(this.indexFolder)]).then(
      () => undefined,
    );
    await this.folders;
    const name = `${randomUUID()}.json`;
    const file = path.join(this.fileFolder, name);
    await writeNewPrivateFilePieces(file, objectListPieces(this.kind, objectTexts));
    const indexEntry = path.join(this.indexFolder, name);
    if (process.platform === 'win32') {
      await link(file, indexEntry);
    } else {
      // Relative, so the link stays valid when the whole version folder is renamed into place.
      await symlink(path.relative(this.indexFolder, file), indexEntry);
    }
  }
}

/** The objects of one graph file (either kind). */
export async function readGraphFile(file: string): Promise<GraphObject[]> {
  let parsed: { entities?: unknown; relationships?: unknown };
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as typeof parsed;
  } catch (error) {
    throw new Error(
      `Graph file ${file} is not readable JSON (${(error as Error).message}); remove the folder holding it.`,
      { cause: error },
    );
  }
  const objects = parsed.entities ?? parsed.relationships;
  if (!Array.isArray(objects)) {
    throw new Error(`Graph file ${file} holds neither an "entities" nor a "relationships" array.`);
  }
  return objects as GraphObject[];
}

async function listJsonFiles(folder: string): Promise<string[]> {
  try {
    const names = await readdir(folder);
    return names
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => path.join(folder, name));
  } catch {
    return [];
  }
}

async function listFolders(folder: string): Promise<string[]> {
  try {
    const entries = await readdir(folder, { withFileTypes: true });
    return entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}

/** Graph files of a `.j1-integration` folder by kind and `_type`. */
export type GraphFileIndex = Record<GraphObjectKind, Map<string, string[]>>;

/**
 * Finds the files holding each `_type`: from `index/` when the folder has one (every output this
 * module writes does), otherwise by reading every graph file once (a folder `j1-integration`
 * wrote without its index). Readers must still filter objects by `_type`: a file found by scanning
 * may hold several types.
 */
export async function indexGraphFiles(j1Dir: string): Promise<GraphFileIndex> {
  const index: GraphFileIndex = { entities: new Map(), relationships: new Map() };
  const indexRoot = path.join(j1Dir, INDEX_FOLDER);
  if ((await listFolders(indexRoot)).length > 0) {
    for (const kind of GRAPH_OBJECT_KINDS) {
      for (const type of await listFolders(path.join(indexRoot, kind))) {
        index[kind].set(type, await listJsonFiles(path.join(indexRoot, kind, type)));
      }
    }
    return index;
  }
  for (const file of await listGraphFiles(j1Dir)) {
    const types = new Set((await readGraphFile(file.path)).map((graphObject) => graphObject._type));
    for (const type of types) {
      const files = index[file.kind].get(type) ?? [];
      files.push(file.path);
      index[file.kind].set(type, files);
    }
  }
  return index;
}

/** Every graph file of a `.j1-integration` folder, entities first, in a stable order. */
export async function listGraphFiles(j1Dir: string): Promise<{ kind: GraphObjectKind; path: string }[]> {
  const graphRoot = path.join(j1Dir, GRAPH_FOLDER);
  const steps = await listFolders(graphRoot);
  const files: { kind: GraphObjectKind; path: string }[] = [];
  for (const kind of GRAPH_OBJECT_KINDS) {
    for (const step of steps) {
      for (const file of await listJsonFiles(path.join(graphRoot, step, kind))) files.push({ kind, path: file });
    }
  }
  return files;
}

/** Streams the objects of one `_type` from the files `indexGraphFiles` found for it. */
export async function* readObjectsOfType(files: readonly string[], type: string): AsyncIterable<GraphObject> {
  for (const file of files) {
    for (const graphObject of await readGraphFile(file)) {
      if (graphObject._type === type) yield graphObject;
    }
  }
}

/** Reads `summary.json`; undefined when the folder has none. */
export async function readIntegrationSummary(j1Dir: string): Promise<IntegrationSummary | undefined> {
  return readJsonFileIfPresent<IntegrationSummary>(path.join(j1Dir, SUMMARY_FILE));
}
