import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { RelationshipClass, entityClasses, relationshipRules } from '@jupiterone/data-model';
import ts from 'typescript';
import {
  DECLARED_TYPES,
  ENTITY_KINDS,
  ENTITY_KIND_LIST,
  GRAPH_DATASETS,
  GRAPH_STEPS,
  LOG_RELATIONSHIP_KINDS,
  MAPPED_RELATIONSHIP_KIND_LIST,
  RELATIONSHIP_KIND_LIST,
  RELATIONSHIP_KINDS,
  graphDatasets,
  stepOfType,
  typesOfStep,
} from '../src/graph/data-model';

/**
 * Why the data model's relationship rules refuse `verb` from an entity of `sourceClass` to one of
 * `targetClass`: a rule for the pair that does not allow the verb, or a rule enforcing the other
 * direction. Undefined when they allow it (most pairs have no rule at all).
 */
function ruleRefusing(sourceClass: string, targetClass: string, verb: string): string | undefined {
  for (const rule of relationshipRules) {
    if (
      rule.sourceClass === sourceClass &&
      rule.targetClass === targetClass &&
      !rule.allowedVerbs.includes(verb as never)
    )
      return rule.description;
    if (rule.directionEnforced && rule.sourceClass === targetClass && rule.targetClass === sourceClass)
      return `${rule.description} (the other direction)`;
  }
  return undefined;
}

/**
 * JupiterOne SDK's `generateRelationshipType`, restated from its documentation: the target type
 * loses the leading `_`-separated parts it shares with the source type, keeping at least its last.
 */
function sdkRelationshipType(relationshipClass: string, fromType: string, toType: string): string {
  const from = fromType.split('_');
  const to = toType.split('_');
  let shared = 0;
  while (shared < to.length - 1 && to[shared] === from[shared]) shared += 1;
  return `${fromType}_${relationshipClass.toLowerCase()}_${to.slice(shared).join('_')}`;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const full = path.join(folder, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

describe('graph data model declaration', () => {
  it('declares exactly the entity types and classes of the design', () => {
    assert.deepEqual(Object.fromEntries(ENTITY_KIND_LIST.map((k) => [k._type, k._class.join(',')])), {
      duo_account: 'Account',
      duo_admin: 'User',
      duo_group: 'UserGroup',
      duo_integration: 'Application',
      mfa_device: 'AccessKey',
      duo_phone: 'Device',
      duo_bypass_code: 'AccessKey',
      duo_endpoint: 'Device',
      duo_policy: 'ControlPolicy',
      duo_trust_monitor_event: 'Finding',
      duo_admin_unit: 'Group',
      duo_user: 'User',
    });
    for (const kind of ENTITY_KIND_LIST) {
      for (const cls of kind._class) {
        assert.ok((entityClasses as readonly string[]).includes(cls), `${cls} is a data model class`);
      }
    }
  });

  it('declares the relationships of the design, typed by the SDK rule', () => {
    assert.deepEqual(
      RELATIONSHIP_KIND_LIST.map(
        (k) => `${ENTITY_KINDS[k.source]._type} ${k._class} ${ENTITY_KINDS[k.target]._type} ${k._type}`,
      ).sort(),
      [
        'duo_account HAS duo_admin duo_account_has_admin',
        'duo_account HAS duo_admin_unit duo_account_has_admin_unit',
        'duo_account HAS duo_endpoint duo_account_has_endpoint',
        'duo_account HAS duo_group duo_account_has_group',
        'duo_account HAS duo_integration duo_account_has_integration',
        'duo_account HAS duo_policy duo_account_has_policy',
        'duo_account HAS duo_user duo_account_has_user',
        'duo_admin ALLOWS duo_user duo_admin_allows_user',
        'duo_admin ASSIGNED mfa_device duo_admin_assigned_mfa_device',
        'duo_admin CREATED duo_bypass_code duo_admin_created_bypass_code',
        'duo_admin CREATED duo_integration duo_admin_created_integration',
        'duo_admin HAS duo_trust_monitor_event duo_admin_has_trust_monitor_event',
        'duo_admin IS duo_user duo_admin_is_user',
        'duo_admin KNOWS duo_integration duo_admin_knows_integration',
        'duo_admin_unit HAS duo_admin duo_admin_unit_has_admin',
        'duo_admin_unit HAS duo_group duo_admin_unit_has_group',
        'duo_admin_unit HAS duo_integration duo_admin_unit_has_integration',
        'duo_endpoint HAS duo_trust_monitor_event duo_endpoint_has_trust_monitor_event',
        'duo_group HAS duo_user duo_group_has_user',
        'duo_integration ALLOWS duo_group duo_integration_allows_group',
        'duo_integration USES duo_policy duo_integration_uses_policy',
        'duo_phone HAS duo_trust_monitor_event duo_phone_has_trust_monitor_event',
        'duo_policy ENFORCES duo_group duo_policy_enforces_group',
        'duo_user ASSIGNED mfa_device duo_user_assigned_mfa_device',
        'duo_user HAS duo_bypass_code duo_user_has_bypass_code',
        'duo_user HAS duo_trust_monitor_event duo_user_has_trust_monitor_event',
        'duo_user USES duo_endpoint duo_user_uses_endpoint',
        'duo_user USES duo_integration duo_user_uses_integration',
        'duo_user USES duo_phone duo_user_uses_phone',
      ],
    );
    for (const kind of RELATIONSHIP_KIND_LIST) {
      assert.equal(
        kind._type,
        sdkRelationshipType(kind._class, ENTITY_KINDS[kind.source]._type, ENTITY_KINDS[kind.target]._type),
      );
      assert.ok((Object.values(RelationshipClass) as string[]).includes(kind._class));
    }
  });

  it('uses only verbs the data model’s relationship rules allow between the classes they join', () => {
    // The rules bite: the pairs they name refuse other verbs and the other direction.
    assert.ok(ruleRefusing('Device', 'Finding', 'USES'));
    assert.ok(ruleRefusing('Finding', 'Device', 'HAS'));
    assert.equal(ruleRefusing('Device', 'Finding', 'HAS'), undefined);
    for (const kind of RELATIONSHIP_KIND_LIST) {
      for (const sourceClass of ENTITY_KINDS[kind.source]._class) {
        for (const targetClass of ENTITY_KINDS[kind.target]._class) {
          assert.equal(ruleRefusing(sourceClass, targetClass, kind._class), undefined, kind._type);
        }
      }
    }
    for (const mapping of MAPPED_RELATIONSHIP_KIND_LIST) {
      for (const sourceClass of ENTITY_KINDS[mapping.source]._class) {
        const [from, to] =
          mapping.direction === 'FORWARD' ? [sourceClass, mapping.targetClass] : [mapping.targetClass, sourceClass];
        assert.equal(ruleRefusing(from, to, mapping._class), undefined, mapping._type);
      }
    }
  });

  it('declares the employee mappings of the design: users and administrators alike', () => {
    const employees = MAPPED_RELATIONSHIP_KIND_LIST.filter((mapping) => mapping.targetType === 'employee');
    assert.deepEqual(
      employees.map((mapping) => mapping._type),
      ['duo_user_is_employee', 'duo_admin_is_employee'],
    );
    for (const mapping of employees) {
      assert.equal(
        mapping._type,
        sdkRelationshipType(mapping._class, ENTITY_KINDS[mapping.source]._type, mapping.targetType),
      );
      assert.equal(mapping.direction, 'REVERSE');
      assert.deepEqual(mapping.targetFilterKeys, [['_type', 'email']]);
      assert.equal(mapping.targetClass, 'Person');
    }
  });

  it('maps each trusted endpoint to the same machine in other integrations, on hostname, creating nothing', () => {
    const mapping = MAPPED_RELATIONSHIP_KIND_LIST.find((kind) => kind.id === 'endpointIsDevice')!;
    assert.equal(mapping._type, 'duo_endpoint_is_device');
    assert.equal(
      mapping._type,
      sdkRelationshipType(mapping._class, ENTITY_KINDS[mapping.source]._type, mapping.targetType),
    );
    assert.deepEqual(
      { direction: mapping.direction, keys: mapping.targetFilterKeys, skip: mapping.skipTargetCreation },
      { direction: 'FORWARD', keys: [['_class', 'hostname']], skip: true },
    );
    assert.ok((Object.values(RelationshipClass) as string[]).includes(mapping._class));
  });

  it('gives every declared type exactly one step, and every step a type', () => {
    const owned = GRAPH_STEPS.flatMap((step) => {
      const types = typesOfStep(step.id);
      // The step summarising Duo's logs owns what the logs make: Trust Monitor's findings and edges.
      if (step.id === 'summarize-logs') {
        assert.deepEqual(types.entities, ['duo_trust_monitor_event']);
        assert.deepEqual(
          [...types.relationships].sort(),
          LOG_RELATIONSHIP_KINDS.map((id) => RELATIONSHIP_KINDS[id]._type).sort(),
        );
      } else assert.ok(types.entities.length > 0, `${step.id} owns an entity type`);
      return [...types.entities, ...types.relationships, ...types.mappedRelationships];
    });
    assert.deepEqual([...owned].sort(), [...DECLARED_TYPES].sort());
    assert.equal(stepOfType('duo_user_uses_phone'), 'fetch-phones');
    assert.equal(stepOfType('employee'), undefined);
  });

  it('lists one graph dataset per declared type, entities first', () => {
    assert.deepEqual(
      GRAPH_DATASETS.map((d) => d.type),
      [...DECLARED_TYPES],
    );
    assert.ok(GRAPH_DATASETS.every((d) => d.dataset === `graph/${d.kind}/${d.type}`));
    assert.ok(GRAPH_DATASETS.every((d) => d.indexDataset === `graph-index/${d.kind}/${d.type}`));
    const firstRelationship = GRAPH_DATASETS.findIndex((d) => d.kind === 'relationships');
    assert.ok(GRAPH_DATASETS.slice(firstRelationship).every((d) => d.kind === 'relationships'));
    assert.deepEqual(graphDatasets({ type: 'duo_user_is_employee' }), [
      {
        dataset: 'graph/relationships/duo_user_is_employee',
        indexDataset: 'graph-index/relationships/duo_user_is_employee',
        kind: 'relationships',
        type: 'duo_user_is_employee',
        stepId: 'fetch-users',
        mapped: true,
      },
    ]);
    assert.equal(graphDatasets({ kind: 'entities' }).length, 12);
  });

  it('is the only place in src that spells a Duo _type in a string', () => {
    const root = path.join(__dirname, '..', 'src');
    const declaration = path.join(root, 'graph', 'data-model.ts');
    const ours = DECLARED_TYPES.filter((type) => type !== 'employee');
    const patterns = ours.map((type) => ({ type, pattern: new RegExp(`\\b${type}\\b`) }));
    const offenders: string[] = [];
    for (const file of sourceFiles(root)) {
      if (file === declaration) continue;
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
      const visit = (node: ts.Node): void => {
        if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) {
          for (const { type, pattern } of patterns) {
            if (pattern.test(node.text)) offenders.push(`${path.relative(root, file)}: ${type}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    assert.deepEqual(offenders, [], 'import the type from src/graph/data-model.ts instead');
  });
});
