/**
 * Renders `graph.html`: one self-contained page that opens offline. The drawing library
 * (cytoscape) is read from its installed npm package and inlined, the viewer script and style sit
 * beside this file, and the graph travels as JSON in a non-executable script element. A Content
 * Security Policy forbids every network request, so nothing in the page can reach out.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { JsonTextList, type PictureData } from './picture-data';
import { scriptSafe, scriptSafeJson } from './script-safe-json';

export interface PictureAssets {
  cytoscape: string;
  viewerScript: string;
  viewerStyle: string;
}

let cachedAssets: Promise<PictureAssets> | undefined;

/** Reads the library and viewer files once per process. */
export function loadPictureAssets(): Promise<PictureAssets> {
  cachedAssets ??= (async () => {
    const [cytoscape, viewerScript, viewerStyle] = await Promise.all([
      readFile(require.resolve('cytoscape/dist/cytoscape.min.js'), 'utf8'),
      readFile(path.join(__dirname, 'viewer.js'), 'utf8'),
      readFile(path.join(__dirname, 'viewer.css'), 'utf8'),
    ]);
    return { cytoscape, viewerScript, viewerStyle };
  })();
  cachedAssets.catch(() => {
    cachedAssets = undefined;
  });
  return cachedAssets;
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** JSON safe inside a `<script>` element (see script-safe-json.ts). */
export function jsonForScriptElement(value: unknown): string {
  return scriptSafeJson(value);
}

/** Array elements per piece of the embedded JSON. */
const ELEMENTS_PER_PIECE = 1_000;

/**
 * `jsonForScriptElement(data)` in pieces, long arrays a slice at a time: the same text, but the
 * picture of a large tenant (tens of megabytes of JSON) never exists as one string, nor as the
 * copies escaping, joining and encoding one would make.
 */
export function* jsonPiecesForScriptElement(data: object): Generator<string, void, undefined> {
  let separator = '{';
  for (const [name, value] of Object.entries(data)) {
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    yield `${separator}${scriptSafe(JSON.stringify(name))}:`;
    separator = ',';
    if (value instanceof JsonTextList) {
      // Elements held as their (script-safe) texts already: joined, never parsed or serialised again.
      if (value.length === 0) yield '[]';
      for (let start = 0; start < value.length; start += ELEMENTS_PER_PIECE) {
        const end = Math.min(start + ELEMENTS_PER_PIECE, value.length);
        yield `${start === 0 ? '[' : ','}${value.texts.slice(start, end).join(',')}${end === value.length ? ']' : ''}`;
      }
      continue;
    }
    if (!Array.isArray(value) || value.length <= ELEMENTS_PER_PIECE) {
      yield jsonForScriptElement(value);
      continue;
    }
    for (let start = 0; start < value.length; start += ELEMENTS_PER_PIECE) {
      const slice = JSON.stringify(value.slice(start, start + ELEMENTS_PER_PIECE));
      // A slice's elements without its brackets: `[` before the first, `,` between, `]` after the last.
      yield `${start === 0 ? '[' : ','}${scriptSafe(slice.slice(1, -1))}`;
    }
    yield ']';
  }
  yield separator === '{' ? '{}' : '}';
}

/**
 * Library code inlined in a script element must not contain `</script`; `<\/script` means the same
 * in JavaScript strings and regular expressions.
 */
function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1');
}

const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  "connect-src 'none'",
  "form-action 'none'",
  "base-uri 'none'",
].join('; ');

/**
 * The page for `data`, piece by piece, to be written as it comes (see jsonPiecesForScriptElement);
 * pure: the same inputs give the same page.
 */
export function* graphHtmlPieces(data: PictureData, assets: PictureAssets): Generator<string, void, undefined> {
  const title = escapeHtml(data.title);
  yield `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
${assets.viewerStyle}
</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <span id="totals"></span>
  <input id="search" type="search" placeholder="Search names and keys" autocomplete="off" aria-label="Search names and keys">
  <button id="show-summary" type="button">Type summary</button>
  <button id="show-all" type="button">Draw all types</button>
</header>
<main>
  <nav id="sidebar">
    <section>
      <h2>Entity types</h2>
      <div id="entity-types"></div>
    </section>
    <section>
      <h2>Relationship types</h2>
      <div id="relationship-types"></div>
    </section>
    <section id="search-section">
      <h2>Search results</h2>
      <ol id="search-results"></ol>
    </section>
  </nav>
  <div id="graph" data-node-count="0" data-edge-count="0" data-view="" data-ready="false"></div>
  <aside id="details"><p class="hint">Click a node to see its details.</p></aside>
</main>
<p id="notice" role="status"></p>
<script type="application/json" id="duo-graph-data">`;
  yield* jsonPiecesForScriptElement(data);
  yield `</script>
<script>
${inlineScript(assets.cytoscape)}
</script>
<script>
${inlineScript(assets.viewerScript)}
</script>
</body>
</html>
`;
}

/** The page for `data` in pieces (write them as they come: `writeNewPrivateFile` takes them). */
export async function renderGraphHtml(data: PictureData): Promise<Iterable<string>> {
  return graphHtmlPieces(data, await loadPictureAssets());
}
