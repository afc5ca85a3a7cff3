/** Small hand-made graph objects for the output tests. */
import type { Entity, Relationship } from '../../src/graph/types';
import type { GraphStep } from '../../src/output';

/** Three steps of an account, its groups and its users, with their relationships. */
export const SAMPLE_STEPS: GraphStep[] = [
  {
    id: 'fetch-account',
    name: 'Fetch Account',
    entityTypes: ['duo_account'],
    relationshipTypes: ['duo_account_has_user', 'duo_account_has_group'],
  },
  { id: 'fetch-groups', name: 'Fetch Groups', entityTypes: ['duo_group'], relationshipTypes: ['duo_group_has_user'] },
  { id: 'fetch-users', name: 'Fetch Users', entityTypes: ['duo_user'], relationshipTypes: ['duo_user_is_employee'] },
];

/** A HAS relationship between two keys. */
export function has(from: string, to: string, type: string): Relationship {
  return {
    _key: `${from}|has|${to}`,
    _type: type,
    _class: 'HAS',
    _fromEntityKey: from,
    _toEntityKey: to,
    displayName: 'HAS',
  };
}

/** The employee mapping of a user entity carrying `email: [address]`. */
export function employeeMapping(user: Entity): Relationship {
  const email = (user.email as string[])[0];
  return {
    _key: `${user._key}|is|FORWARD:_type=employee:email=${email}`,
    _type: 'duo_user_is_employee',
    _class: 'IS',
    displayName: 'IS',
    _mapping: {
      relationshipDirection: 'REVERSE',
      sourceEntityKey: user._key,
      targetFilterKeys: [['_type', 'email']],
      targetEntity: { _type: 'employee', _class: 'Person', email, displayName: user.displayName as string },
    },
  };
}
