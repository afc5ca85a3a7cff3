/** Small hand-made graph objects for the output tests. */
import type { Entity, Relationship } from '../../src/graph/types';

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
