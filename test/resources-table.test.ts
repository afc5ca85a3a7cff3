import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ENTITY_KIND_LIST,
  LOG_ENTITY_KINDS,
  LOG_RELATIONSHIP_KINDS,
  MAPPED_RELATIONSHIP_KIND_LIST,
  RELATIONSHIP_KINDS,
} from '../src/graph/data-model';
import { sourcesOf } from '../src/graph/partial-datasets';
import {
  APPLY_ORDER,
  RESOURCE_NAMES,
  RESOURCE_TABLE,
  endpointsReadBy,
  grantsInWords,
  listEndpointOf,
  type ResourceName,
} from '../src/resources/table';

const applied = (resource: ResourceName) => APPLY_ORDER.indexOf(resource);

describe('resource table', () => {
  it('declares each resource with its endpoints, grants and page size, in the order runs fetch them', () => {
    const table = RESOURCE_NAMES.map((name) => [
      name,
      endpointsReadBy(name).map((endpoint) => endpoint.path),
      grantsInWords(name),
      listEndpointOf(name)?.maxPageSize,
    ]);
    assert.deepEqual(table, [
      [
        'account',
        [
          '/admin/v1/settings',
          '/admin/v1/info/summary',
          '/admin/v1/admins/allowed_auth_methods',
          '/admin/v1/info/authentication_attempts',
        ],
        'Grant settings; Grant read information adds the summary counts and edition; ' +
          "Grant administrators adds the administrators' allowed sign-in methods; " +
          'Grant read information adds the authentication attempt counts of the last 30 days',
        undefined,
      ],
      ['admins', ['/admin/v1/admins'], 'Grant administrators', 100],
      ['groups', ['/admin/v1/groups'], 'Grant read resource', 500],
      ['users', ['/admin/v1/users'], 'Grant read resource', 300],
      ['phones', ['/admin/v1/phones'], 'Grant read resource', 500],
      ['tokens', ['/admin/v1/tokens'], 'Grant read resource', 500],
      ['webauthn', ['/admin/v1/webauthncredentials'], 'Grant read resource', 500],
      ['integrations', ['/admin/v3/integrations'], 'Grant read resource', 100],
      ['bypassCodes', ['/admin/v1/bypass_codes'], 'Grant read resource', 500],
      ['endpoints', ['/admin/v1/endpoints'], 'Grant read resource (Advantage and Premier only)', 500],
      // The summary first: its answer is joined to each policy of the list.
      ['policies', ['/admin/v2/policies/summary', '/admin/v2/policies'], 'Grant read resource', 100],
      ['adminUnits', ['/admin/v1/administrative_units'], 'Grant administrators', 100],
    ]);
  });

  it('reads one list endpoint per resource, or only object endpoints', () => {
    for (const name of RESOURCE_NAMES) {
      const { endpoints } = RESOURCE_TABLE[name];
      const lists = endpoints.filter((endpoint) => endpoint.paged);
      assert.ok(lists.length === 0 || endpoints.length === 1, `${name}: a list endpoint is read on its own`);
      assert.ok(endpoints.length > 0, name);
    }
  });

  it('applies the account first and every resource after what its records link to (but the few held links)', () => {
    // The build holds the edges of a link to a resource applied later until the end: only the
    // administrators' (a few hundred at most) may, never a resource the size of the tenant.
    const mayHoldLinks: readonly ResourceName[] = ['admins'];
    assert.equal(APPLY_ORDER[0], 'account');
    assert.equal(new Set(RESOURCE_NAMES.map((name) => RESOURCE_TABLE[name].applyOrder)).size, RESOURCE_NAMES.length);
    for (const name of RESOURCE_NAMES) {
      const { entity, links = [], embedded = [], accountEdge } = RESOURCE_TABLE[name];
      if (accountEdge) {
        const kind = RELATIONSHIP_KINDS[accountEdge];
        assert.deepEqual([kind.source, kind.target], ['account', entity], `${name}: ${accountEdge}`);
      }
      for (const link of links) {
        const kind = RELATIONSHIP_KINDS[link.relationship];
        assert.ok(kind.source === entity || kind.target === entity, `${name}: ${link.relationship} touches ${entity}`);
        const linked = kind.source === entity ? kind.target : kind.source;
        for (const source of sourcesOf(linked).filter((source) => source !== name)) {
          assert.ok(
            applied(source) < applied(name) || mayHoldLinks.includes(name),
            `${name} links to ${linked}, made by ${source}, applied before`,
          );
        }
      }
      for (const inside of embedded) {
        const kind = RELATIONSHIP_KINDS[inside.relationship];
        assert.deepEqual([kind.source, kind.target], [entity, inside.entity], `${name}: ${inside.relationship}`);
      }
    }
  });

  it('makes every entity, relationship and mapped relationship kind of the data model from some resource', () => {
    // Trust Monitor's findings come from Duo's logs, not from a resource.
    for (const kind of ENTITY_KIND_LIST) {
      assert.ok(LOG_ENTITY_KINDS.includes(kind.id) || sourcesOf(kind.id).length > 0, kind.id);
    }
    const made = new Set(
      RESOURCE_NAMES.flatMap((name) => {
        const { accountEdge, links = [], emailLinks = [], embedded = [], mapping } = RESOURCE_TABLE[name];
        return [
          ...(accountEdge ? [accountEdge] : []),
          ...links.map((link) => link.relationship),
          ...emailLinks.map((link) => link.relationship),
          ...embedded.map((inside) => inside.relationship),
          ...(mapping ? [mapping] : []),
        ];
      }),
    );
    // The log facts' edges come from Duo's logs, not from a resource.
    for (const id of LOG_RELATIONSHIP_KINDS) made.add(id);
    for (const id of Object.keys(RELATIONSHIP_KINDS)) assert.ok(made.has(id as never), id);
    for (const kind of MAPPED_RELATIONSHIP_KIND_LIST) assert.ok(made.has(kind.id), kind.id);
  });

  it('joins object answers only to list resources, on the field their records are keyed by', () => {
    for (const name of RESOURCE_NAMES) {
      const { joins = [] } = RESOURCE_TABLE[name];
      if (joins.length === 0) continue;
      const list = listEndpointOf(name);
      assert.ok(list, `${name}: joins add to the records of a list`);
      for (const join of joins) {
        assert.equal(join.endpoint.paged, false, `${name}: ${join.endpoint.path} is read once`);
        assert.equal(join.matchField, list.idField, `${name}: ${join.endpoint.path} names records by their id`);
        assert.equal(join.endpoint.grant, list.grant, `${name}: no other grant than the list's`);
      }
    }
  });

  it('names each patch a resource was introduced with once', () => {
    const ids = RESOURCE_NAMES.flatMap((name) => RESOURCE_TABLE[name].introducedWith ?? []);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('is a pure leaf: it imports types only, so the workflow bundle can load it', () => {
    const source = readFileSync(path.join(__dirname, '..', 'src', 'resources', 'table.ts'), 'utf8');
    const imports = source.match(/^import .*$/gm) ?? [];
    assert.ok(imports.length > 0);
    for (const line of imports) assert.match(line, /^import type /, line);
  });
});
