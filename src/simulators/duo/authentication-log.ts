/**
 * The Duo simulator's authentication log: a stream of events consistent with the tenant it serves
 * (its users authenticating to its integrations with their own phones, tokens and security keys),
 * generated from a seed at a configurable rate, and served the way Duo serves
 * `/admin/v2/logs/authentication`: a `mintime`/`maxtime` window in milliseconds, oldest first,
 * paged with a `next_offset` cursor of `[<ms timestamp>, <txid>]`, and only events older than
 * Duo's availability delay (about two minutes).
 *
 * Event `i` happens at `origin + i × (60,000 / eventsPerMinute)` ms and is drawn from its own seeded
 * generator, so any event can be made on its own, in any order, by the server and by a test that
 * computes what a reader should have seen (`eventsBetween`). Its txid ends with its index, which is
 * how the cursor is followed without an index of txids.
 */
import type { DuoAuthenticationLogEvent, DuoUser } from '../../duo/types';
import { SeededRandom } from '../seeded-random';
import { EventClock, requestedWindow, wholeNumber } from './event-clock';
import { duoErrorAnswer, type DuoAnswer } from './answers';
import type { DuoTenant } from './tenant-generator';

export interface AuthenticationLogOptions {
  /** Events per minute over the whole tenant. Default: one per 100 users, at least 1. */
  eventsPerMinute?: number;
  /** How long before the simulator started the log begins. Default one day. */
  historyMs?: number;
  /** Events younger than this are not served yet, as at Duo. Default 120,000 (two minutes). */
  delayMs?: number;
  /** Default: the tenant's seed, 1. */
  seed?: number;
  /** The moment the history ends and the live stream starts. Default: when the simulator starts. */
  startedAt?: number;
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

/** Factors Duo names in its logs, by how a user can authenticate. */
const PHONE_FACTORS = [
  'duo_push',
  'duo_push',
  'duo_push',
  'duo_push',
  'sms_passcode',
  'phone_call',
  'duo_mobile_passcode',
];

export class AuthenticationLogStream extends EventClock {
  readonly #endpointIndex = new WeakMap<DuoTenant, Map<string, string[]>>();

  constructor(
    private readonly tenant: () => DuoTenant,
    options: AuthenticationLogOptions = {},
  ) {
    super(options.eventsPerMinute ?? Math.max(1, Math.ceil(tenant().users.length / 100)), options);
  }

  /** Every event with `mintime <= time <= maxtime`, oldest first. */
  *eventsBetween(mintime: number, maxtime: number): Generator<DuoAuthenticationLogEvent> {
    for (let index = this.firstIndexAtOrAfter(mintime); this.timeOf(index) <= maxtime; index++) {
      yield this.eventAt(index);
    }
  }

  /** Event `index`, the same every time it is asked for. */
  eventAt(index: number): DuoAuthenticationLogEvent {
    const { users, integrations } = this.tenant();
    const random = new SeededRandom((Math.imul(this.seed, 0x9e3779b1) ^ index) >>> 0);
    random.next();
    const time = this.timeOf(index);
    const userIndex = random.int(Math.max(1, users.length));
    const user = users[userIndex] as DuoUser | undefined;
    // Each user works with two or three integrations of their own, as people do.
    const integration =
      integrations.length === 0
        ? undefined
        : integrations[(userIndex * 7 + random.int(userIndex % 3 === 0 ? 3 : 2)) % integrations.length];
    const { factor, device } = chooseFactor(user, userIndex, random);
    const roll = random.next();
    const accessDevice = this.#accessDeviceOf(user, index, random.next());
    const [result, reason] =
      roll < 0.9
        ? ['success', 'user_approved']
        : roll < 0.95
          ? ['denied', 'user_cancelled']
          : roll < 0.98
            ? ['failure', 'invalid_passcode']
            : ['fraud', 'user_marked_fraud'];
    return {
      txid: txidOf(this.seed, index),
      timestamp: Math.floor(time / 1000),
      isotimestamp: new Date(time).toISOString().replace('Z', '+00:00'),
      event_type: 'authentication',
      user: user ? { key: user.user_id, name: user.username } : { key: null, name: 'unknown-user' },
      application: integration ? { key: integration.integration_key, name: integration.name } : null,
      factor,
      result,
      reason,
      auth_device: device,
      access_device: { epkey: accessDevice },
    };
  }

  /**
   * The endpoint an authentication comes from: mostly one of the user's own trusted endpoints (as
   * the inventory links them, by email), now and then another user's (a shared machine), or one
   * Duo never listed as trusted, or none (a phone call names no endpoint).
   */
  #accessDeviceOf(user: DuoUser | undefined, index: number, roll: number): string | null {
    const { endpoints } = this.tenant();
    const own = user?.email ? this.#endpointsByEmail().get(user.email.toLowerCase()) : undefined;
    if (own && roll < 0.8) return own[index % own.length]!;
    if (endpoints.length > 0 && roll < 0.88) return endpoints[(index * 13) % endpoints.length]!.epkey;
    if (roll < 0.94) return `EPUNLISTED${(index % 97).toString().padStart(10, '0')}`;
    return null;
  }

  /** The tenant's endpoints by their user's email, made once per tenant. */
  #endpointsByEmail(): Map<string, string[]> {
    const tenant = this.tenant();
    let byEmail = this.#endpointIndex.get(tenant);
    if (!byEmail) {
      byEmail = new Map();
      for (const endpoint of tenant.endpoints) {
        const email = typeof endpoint.email === 'string' ? endpoint.email.toLowerCase() : undefined;
        if (email) byEmail.set(email, [...(byEmail.get(email) ?? []), endpoint.epkey]);
      }
      this.#endpointIndex.set(tenant, byEmail);
    }
    return byEmail;
  }

  /** Answers one request of `/admin/v2/logs/authentication`. */
  serve(params: Record<string, string>, now: number): DuoAnswer {
    const window = requestedWindow(params, now);
    if ('refusal' in window) return window.refusal;
    const { mintime, maxtime } = window;
    const limit = params.limit === undefined ? DEFAULT_PAGE : wholeNumber(params.limit);
    if (limit === undefined || limit < 1) return duoErrorAnswer(400, 40002, 'Invalid request parameters', 'limit');
    const pageSize = Math.min(limit, MAX_PAGE);
    let first = this.firstIndexAtOrAfter(mintime);
    if (params.next_offset !== undefined) {
      const after = indexOfCursor(params.next_offset, this.seed);
      if (after === undefined) return duoErrorAnswer(400, 40002, 'Invalid request parameters', 'next_offset');
      first = Math.max(first, after + 1);
    }
    // What Duo has made available: nothing younger than the delay.
    const visibleUntil = Math.min(maxtime, now - this.delayMs);
    const events: DuoAuthenticationLogEvent[] = [];
    let index = first;
    for (; events.length < pageSize && this.timeOf(index) <= visibleUntil; index++) events.push(this.eventAt(index));
    const more = this.timeOf(index) <= visibleUntil;
    const last = events[events.length - 1];
    const total =
      this.timeOf(this.firstIndexAtOrAfter(mintime)) > visibleUntil
        ? 0
        : this.firstIndexAtOrAfter(visibleUntil + 1) - this.firstIndexAtOrAfter(mintime);
    const metadata = {
      ...(more && last ? { next_offset: [String(this.timeOf(index - 1)), last.txid] } : {}),
      total_objects: total,
    };
    return {
      status: 200,
      body: JSON.stringify({ response: { authlogs: events, metadata }, stat: 'OK' }),
      records: events.length,
    };
  }
}

/** The factor and device of one authentication, from what the user has enrolled. */
function chooseFactor(
  user: DuoUser | undefined,
  userIndex: number,
  random: SeededRandom,
): { factor: string; device: DuoAuthenticationLogEvent['auth_device'] } {
  const phone = user?.phones?.[0];
  // One user in ten only ever uses SMS: the graph should show them.
  if (phone && userIndex % 10 === 0) return { factor: 'sms_passcode', device: deviceOf(phone) };
  const roll = random.next();
  if (user?.webauthncredentials?.length && roll < 0.3) {
    return { factor: 'webauthn_security_key', device: { name: user.webauthncredentials[0]!.label ?? 'Security Key' } };
  }
  if (user?.tokens?.length && roll < 0.5) return { factor: 'hardware_token', device: null };
  if (phone) return { factor: random.pick(PHONE_FACTORS), device: deviceOf(phone) };
  return { factor: random.chance(0.5) ? 'bypass_code' : 'passcode', device: null };
}

function deviceOf(phone: { phone_id: string; number?: string | null }): DuoAuthenticationLogEvent['auth_device'] {
  return { name: phone.number ?? null, key: phone.phone_id };
}

/** A txid in Duo's UUID form whose last twelve hex digits are the event's index. */
function txidOf(seed: number, index: number): string {
  const seedHex = (seed >>> 0).toString(16).padStart(8, '0');
  return `${seedHex}-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
}

/** The index named by a `next_offset` of this stream (`<ms>,<txid>`), if it is one. */
function indexOfCursor(cursor: string, seed: number): number | undefined {
  const txid = cursor.split(',')[1];
  const match = /^([0-9a-f]{8})-0000-4000-8000-([0-9a-f]{12})$/.exec(txid ?? '');
  if (!match || parseInt(match[1]!, 16) !== seed >>> 0) return undefined;
  return parseInt(match[2]!, 16);
}
