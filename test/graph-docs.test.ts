import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import { DECLARED_TYPES, ENTITY_KIND_LIST } from '../src/graph/data-model';
import {
  DOCUMENTATION_MARKER_END,
  DOCUMENTATION_MARKER_START,
  renderDataModelSection,
  updateDocumentationFile,
  withDataModelSection,
} from '../src/graph/documentation';
import { optionalSources } from '../src/resources/table';

const USER_GUIDE = path.join(__dirname, '..', 'docs', 'jupiterone.md');
const README = path.join(__dirname, '..', 'README.md');

const folders: string[] = [];

function temporaryFile(name: string): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'duo-j1-docs-'));
  folders.push(folder);
  return path.join(folder, name);
}

describe('generated data model documentation', () => {
  after(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  });

  it('the committed docs/jupiterone.md holds exactly what the declaration generates (run `duo-j1 document`)', async () => {
    const committed = await readFile(USER_GUIDE, 'utf8');
    const start = committed.indexOf(DOCUMENTATION_MARKER_START);
    const end = committed.indexOf(DOCUMENTATION_MARKER_END);
    assert.ok(start >= 0 && end > start, 'docs/jupiterone.md has both markers');
    assert.equal(committed.slice(start, end + DOCUMENTATION_MARKER_END.length), renderDataModelSection());
    assert.equal((await updateDocumentationFile(USER_GUIDE, { check: true })).changed, false);
  });

  it('names every declared type and every entity property', () => {
    const section = renderDataModelSection();
    for (const type of DECLARED_TYPES) assert.ok(section.includes(`\`${type}\``), type);
    for (const kind of ENTITY_KIND_LIST) {
      for (const property of Object.keys(kind.properties)) {
        assert.ok(section.includes(`| \`${property}\``), `${kind._type}.${property}`);
      }
    }
  });

  it('the README lists every optional source, with its grant and editions', async () => {
    const readme = await readFile(README, 'utf8');
    for (const { source, endpoint } of optionalSources()) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${source.name}\``));
      assert.ok(row, `README has a row for ${source.name}`);
      assert.ok(row.includes(endpoint.grant), `${source.name}: ${endpoint.grant}`);
      assert.ok(row.includes(source.editions ?? 'all'), `${source.name}: editions`);
    }
  });

  it('is formatted the way Prettier formats Markdown, so `npm run format` leaves it alone', async () => {
    const section = `${renderDataModelSection()}\n`;
    const formatted = await prettier.format(section, { parser: 'markdown', printWidth: 120 });
    assert.equal(formatted, section);
  });

  it('check mode reports a stale section without writing; write mode replaces only the section', async () => {
    const file = temporaryFile('guide.md');
    const stale = `# Guide\n\nIntro.\n\n${DOCUMENTATION_MARKER_START}\nold tables\n${DOCUMENTATION_MARKER_END}\n\n## After\n`;
    await writeFile(file, stale);

    assert.deepEqual(await updateDocumentationFile(file, { check: true }), { path: file, changed: true });
    assert.equal(await readFile(file, 'utf8'), stale, 'check mode writes nothing');

    assert.deepEqual(await updateDocumentationFile(file), { path: file, changed: true });
    const updated = await readFile(file, 'utf8');
    assert.equal(updated, `# Guide\n\nIntro.\n\n${renderDataModelSection()}\n\n## After\n`);
    assert.deepEqual(await updateDocumentationFile(file, { check: true }), { path: file, changed: false });
  });

  it('appends the section to a guide without markers, and refuses a start marker without an end', async () => {
    assert.equal(withDataModelSection('# Guide\n\n'), `# Guide\n\n${renderDataModelSection()}\n`);
    assert.throws(
      () => withDataModelSection(`# Guide\n${DOCUMENTATION_MARKER_START}\n`, 'docs/x.md'),
      /docs\/x\.md .*no <!-- \{J1_DOCUMENTATION_MARKER_END\} -->/,
    );
  });

  it('names the file it cannot read', async () => {
    const missing = temporaryFile('missing.md');
    await assert.rejects(updateDocumentationFile(missing), (error: Error) => error.message.includes(missing));
  });
});
