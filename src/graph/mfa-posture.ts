/**
 * Administrators' MFA posture: which kinds of MFA devices each administrator holds, worked out by
 * the build from the edges it writes (`duo_admin ASSIGNED mfa_device`) and added to the
 * administrator's entity as properties a security team can query directly
 * (`ADMIN_MFA_POSTURE_PROPERTIES`: `hasPhishingResistantMfa`, `mfaFactors`, ...).
 *
 * The edges come from records of several resources (tokens naming their administrators, WebAuthn
 * credentials naming theirs, administrators naming their hardware token), so the posture is known
 * only once all of them are applied: the build holds the entities of a resource declaring
 * `mfaPosture` until then (administrators: a few hundred at most), and leaves the properties out
 * when one of those resources was not read completely — an unknown posture, not a wrong `false`.
 */
import {
  RESOURCE_NAMES,
  RESOURCE_TABLE,
  listEndpointOf,
  type ResourceLink,
  type ResourceName,
} from '../resources/table';
import { type ADMIN_MFA_POSTURE_PROPERTIES, type RelationshipKindId } from './data-model';

/** The kinds of MFA device posture tells apart (the devices' `factorType`). */
export type MfaFactor = 'token' | 'webauthn';

/** The factor of the devices each resource's records are (what its converter sets as `factorType`). */
const FACTOR_OF_DEVICE_RESOURCE: Partial<Record<ResourceName, MfaFactor>> = { tokens: 'token', webauthn: 'webauthn' };

/** Factors a phishing page cannot relay: WebAuthn binds the sign-in to the site it is made for. */
const PHISHING_RESISTANT: ReadonlySet<MfaFactor> = new Set(['webauthn']);

/**
 * The factor of the device an edge of `link` (on `resource`'s row) reaches: the record's own when
 * its records are devices (a token naming its administrators), else that of the resource whose
 * records the link's id names (an administrator's `hardtoken` names a token by `token_id`).
 */
export function factorOfLink(resource: ResourceName, link: ResourceLink): MfaFactor | undefined {
  const own = FACTOR_OF_DEVICE_RESOURCE[resource];
  if (own) return own;
  const deviceResource = RESOURCE_NAMES.find(
    (candidate) =>
      FACTOR_OF_DEVICE_RESOURCE[candidate] !== undefined && listEndpointOf(candidate)?.idField === link.idField,
  );
  return deviceResource && FACTOR_OF_DEVICE_RESOURCE[deviceResource];
}

/** The resources whose links make edges of `relationship`: posture is known when all of them are complete. */
export function resourcesLinkingWith(relationship: RelationshipKindId): ResourceName[] {
  return RESOURCE_NAMES.filter((resource) =>
    (RESOURCE_TABLE[resource].links ?? []).some((link) => link.relationship === relationship),
  );
}

type PostureProperties = { [P in keyof typeof ADMIN_MFA_POSTURE_PROPERTIES]: string[] | number | boolean };

/** The devices each holder was linked to, by factor. */
export class MfaPostureTracker {
  private readonly devices = new Map<string, Map<string, MfaFactor>>();

  note(holderKey: string, deviceKey: string, factor: MfaFactor): void {
    let held = this.devices.get(holderKey);
    if (!held) this.devices.set(holderKey, (held = new Map()));
    held.set(deviceKey, factor);
  }

  /** The posture properties of a holder (one with no device holds none: every flag false). */
  propertiesOf(holderKey: string): PostureProperties {
    const factors = [...(this.devices.get(holderKey)?.values() ?? [])];
    const kinds = [...new Set(factors)].sort();
    return {
      mfaFactors: kinds,
      mfaDeviceCount: factors.length,
      hasHardwareToken: kinds.includes('token'),
      hasWebauthnCredential: kinds.includes('webauthn'),
      hasPhishingResistantMfa: kinds.some((factor) => PHISHING_RESISTANT.has(factor)),
    };
  }
}
