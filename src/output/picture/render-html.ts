/**
 * Renders `graph.html`: one self-contained page that opens offline. The drawing library
 * (cytoscape) is read from its installed npm package and inlined, the viewer script and style sit
 * beside this file, and the graph travels as JSON in a non-executable script element. A Content
 * Security Policy forbids every network request, so nothing in the page can reach out.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PictureData } from './picture-data';

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

/**
 * JSON that is safe inside a `<script>` element: `<`, `>` and `&` become `\u` escapes, so no value
 * (a user named `</script><script>…`, say) can close the element or open a comment, and U+2028/2029
 * are escaped for old JavaScript parsers. `JSON.parse` reads the text back unchanged.
 */
export function jsonForScriptElement(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
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

/** The page for `data` (pure: the same inputs give the same page). */
export function buildGraphHtml(data: PictureData, assets: PictureAssets): string {
  const title = escapeHtml(data.title);
  return `<!doctype html>
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
<script type="application/json" id="duo-graph-data">${jsonForScriptElement(data)}</script>
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

export async function renderGraphHtml(data: PictureData): Promise<string> {
  return buildGraphHtml(data, await loadPictureAssets());
}
