/**
 * The "Data Model" section of docs/jupiterone.md, generated from the declaration between the
 * markers JupiterOne's `j1-integration document` uses, in the same table layout (so readers of
 * other JupiterOne integrations' docs find what they expect), plus each entity's key and properties.
 *
 * Tables are written the way Prettier formats Markdown (padded cells, dash rows as wide as the
 * column), so formatting the repository never changes the generated text.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { RESOURCE_NAMES, RESOURCE_TABLE, endpointsReadBy, grantsInWords } from '../resources/table';
import {
  ENTITY_KINDS,
  ENTITY_KIND_LIST,
  MAPPED_RELATIONSHIP_KIND_LIST,
  RELATIONSHIP_KIND_LIST,
  type EntityKind,
  type EntityKindId,
} from './data-model';
import { sourcesOf } from './partial-datasets';

export const DOCUMENTATION_MARKER_START = '<!-- {J1_DOCUMENTATION_MARKER_START} -->';
export const DOCUMENTATION_MARKER_END = '<!-- {J1_DOCUMENTATION_MARKER_END} -->';

const BANNER_START = `<!--
********************************************************************************
NOTE: ALL OF THE FOLLOWING DOCUMENTATION IS GENERATED USING THE
"duo-j1 document" COMMAND FROM src/graph/data-model.ts. DO NOT EDIT BY HAND!
********************************************************************************
-->`;

const BANNER_END = `<!--
********************************************************************************
END OF GENERATED DOCUMENTATION AFTER BELOW MARKER
********************************************************************************
-->`;

function cell(value: string): string {
  // A pipe ends a table cell even inside a code span, so it is escaped everywhere.
  return value.replace(/\|/g, '\\|');
}

/** A Markdown table padded the way Prettier prints it. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows].map((row) => row.map(cell));
  const widths = header.map((_, column) => Math.max(3, ...all.map((row) => row[column].length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((value, column) => value.padEnd(widths[column])).join(' | ')} |`;
  const [head, ...body] = all;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

const code = (value: string) => `\`${value}\``;
const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function resourceTable(): string {
  const rows = RESOURCE_NAMES.map((name) => [
    code(name),
    RESOURCE_TABLE[name].reads,
    endpointsReadBy(name)
      .map((endpoint) => code(endpoint.path))
      .join(', '),
    grantsInWords(name),
  ]);
  return markdownTable(['Resource', 'Reads', 'Duo endpoints', 'Duo permission'], rows);
}

function entityTable(): string {
  const rows = [...ENTITY_KIND_LIST]
    .sort((a, b) => byString(a.resourceName, b.resourceName))
    .map((k) => [k.resourceName, code(k._type), k._class.map(code).join(', ')]);
  return markdownTable(['Resources', 'Entity `_type`', 'Entity `_class`'], rows);
}

function relationshipTable(): string {
  const rows = RELATIONSHIP_KIND_LIST.map((k) => ({
    source: ENTITY_KINDS[k.source]._type,
    target: ENTITY_KINDS[k.target]._type,
    cls: k._class,
  }))
    .sort((a, b) => byString(a.source, b.source) || byString(a.target, b.target) || byString(a.cls, b.cls))
    .map((r) => [code(r.source), `**${r.cls}**`, code(r.target)]);
  return markdownTable(['Source Entity `_type`', 'Relationship `_class`', 'Target Entity `_type`'], rows);
}

function mappedRelationshipTable(): string {
  const rows = MAPPED_RELATIONSHIP_KIND_LIST.map((k) => [
    code(ENTITY_KINDS[k.source]._type),
    `**${k._class}**`,
    code(`*${k.targetType}*`),
    k.direction,
  ]);
  return markdownTable(['Source Entity `_type`', 'Relationship `_class`', 'Target Entity `_type`', 'Direction'], rows);
}

function relationshipOriginTable(): string {
  const rows = [
    ...RELATIONSHIP_KIND_LIST.map((k) => [code(k._type), code(k.stepId), k.origin]),
    ...MAPPED_RELATIONSHIP_KIND_LIST.map((k) => [code(k._type), code(k.stepId), k.origin]),
  ];
  return markdownTable(['Relationship `_type`', 'Step', 'Built from'], rows);
}

function entitySection(kind: EntityKind & { id: EntityKindId }): string {
  const sources = sourcesOf(kind.id).map((resource) => `${code(resource)} (${grantsInWords(resource)})`);
  const properties = Object.entries(kind.properties).map(([name, description]) => [code(name), description]);
  return [
    `#### ${code(kind._type)} (${kind._class.join(', ')})`,
    '',
    `- Key: ${kind.keyFormat}`,
    `- Step: ${code(kind.stepId)}`,
    // Entities made from Duo's logs have no resource: they come from the log tail's aggregates.
    `- Made from: ${sources.length > 0 ? sources.join(', ') : "Duo's logs, read by the log tail (Grant read log; docs/logs.md)"}`,
    '',
    markdownTable(['Property', 'Meaning'], properties),
  ].join('\n');
}

/** The whole generated section, markers included. */
export function renderDataModelSection(): string {
  return [
    DOCUMENTATION_MARKER_START,
    BANNER_START,
    '',
    '## Data Model',
    '',
    '### Duo resources read',
    '',
    'Each resource is read by its own fetch; one that cannot be read makes its types partial.',
    '',
    resourceTable(),
    '',
    '### Entities',
    '',
    'The following entities are created:',
    '',
    entityTable(),
    '',
    '### Relationships',
    '',
    'The following relationships are created:',
    '',
    relationshipTable(),
    '',
    '### Mapped Relationships',
    '',
    'The following mapped relationships are created:',
    '',
    mappedRelationshipTable(),
    '',
    '### Where relationships come from',
    '',
    relationshipOriginTable(),
    '',
    '### Entity keys and properties',
    '',
    'Every entity also carries `_rawData` (the Duo record, secrets removed) and, when the instance is',
    'set to tag with its account name, `tag.AccountName`. Times are epoch milliseconds.',
    '',
    ...ENTITY_KIND_LIST.flatMap((kind) => [entitySection(kind), '']),
    BANNER_END,
    DOCUMENTATION_MARKER_END,
  ].join('\n');
}

/** The document with its generated section replaced (or appended when it has none). */
export function withDataModelSection(document: string, documentPath = 'the document'): string {
  const section = renderDataModelSection();
  const start = document.indexOf(DOCUMENTATION_MARKER_START);
  if (start === -1) return `${document.replace(/\s*$/, '')}\n\n${section}\n`;
  const end = document.indexOf(DOCUMENTATION_MARKER_END, start);
  if (end === -1) {
    throw new Error(
      `${documentPath} has ${DOCUMENTATION_MARKER_START} but no ${DOCUMENTATION_MARKER_END} after it; add the end marker where the generated section should stop.`,
    );
  }
  return document.slice(0, start) + section + document.slice(end + DOCUMENTATION_MARKER_END.length);
}

export interface DocumentationUpdate {
  path: string;
  /** True when the file's generated section differs from the declaration (in check mode: would change). */
  changed: boolean;
}

/**
 * Regenerates the Data Model section of the user guide at `path`. With `check`, writes nothing and
 * only reports whether the committed section is out of date.
 */
export async function updateDocumentationFile(
  path: string,
  options: { check?: boolean } = {},
): Promise<DocumentationUpdate> {
  let current: string;
  try {
    current = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(
      `Cannot read the user guide ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); create it, or pass the path of docs/jupiterone.md.`,
      { cause: error },
    );
  }
  const updated = withDataModelSection(current, path);
  const changed = updated !== current;
  if (changed && !options.check) await writeFile(path, updated, 'utf8');
  return { path, changed };
}
