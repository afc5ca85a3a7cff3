/**
 * The Duo simulator's administrators' logs: one stream of administrators' actions, consistent with
 * the tenant it serves (its administrators logging in, creating integrations, viewing their
 * secret keys, switching users to bypass), served the two ways Duo serves them:
 *
 * - `/admin/v1/logs/administrator`: events named by name (the administrator's full name, the
 *   integration's name, the user's username), `timestamp` in seconds; a request gives `mintime` in
 *   seconds and gets at most the `pageSize` (Duo: 1000) earliest events at or after it, in the same
 *   order every time — several events share a second whenever the rate passes one a second.
 * - `/admin/v2/logs/activity`: the same actions with the actor and target by key, `ts` in ISO
 *   8601, a `mintime`/`maxtime` window in milliseconds paged with a `next_offset` string.
 *
 * Both only serve events older than Duo's availability delay. Event `i` happens at
 * `origin + i × (60,000 / eventsPerMinute)` ms and is drawn from its own seeded generator, so a
 * test can compute what a reader should have seen (`eventsBetween`).
 */
import type { DuoActivityLogEvent, DuoAdministratorLogEvent, DuoTrustMonitorEvent } from '../../duo/types';
import { SeededRandom } from '../seeded-random';
import { EventClock, MAX_WINDOW_AGE_MS, requestedWindow, wholeNumber } from './event-clock';
import { duoErrorAnswer, type DuoAnswer } from './answers';
import type { DuoTenant } from './tenant-generator';

export interface AdministrationLogOptions {
  /** Actions per minute over the whole tenant. Default 2. */
  eventsPerMinute?: number;
  /** How long before the simulator started the log begins. Default one day. */
  historyMs?: number;
  /** Events younger than this are not served yet. Default 120,000 (two minutes). */
  delayMs?: number;
  /** Events per answer of the administrator log. Default 1000, Duo's. */
  pageSize?: number;
  seed?: number;
  startedAt?: number;
}

/** One administrator's action, before it is written the way either log writes it. */
export interface AdministrationAction {
  index: number;
  /** Epoch ms. */
  time: number;
  action: string;
  admin: { id: string; name: string };
  target?: { type: 'integration' | 'user'; key: string; name: string };
  description?: Record<string, unknown>;
}

export class AdministrationLogStream extends EventClock {
  readonly pageSize: number;

  constructor(
    private readonly tenant: () => DuoTenant,
    options: AdministrationLogOptions = {},
  ) {
    super(options.eventsPerMinute ?? 2, options);
    this.pageSize = options.pageSize ?? 1000;
  }

  /** Every action with `mintime <= time <= maxtime` (epoch ms), oldest first. */
  *actionsBetween(mintime: number, maxtime: number): Generator<AdministrationAction> {
    for (let index = this.firstIndexAtOrAfter(mintime); this.timeOf(index) <= maxtime; index++) {
      const action = this.actionAt(index);
      if (action) yield action;
    }
  }

  /**
   * Action `index`, the same every time; undefined when the tenant has no administrator. Most are
   * logins; some create an integration, view an integration's secret key, or update a user — to
   * bypass now and then.
   */
  actionAt(index: number): AdministrationAction | undefined {
    const { admins, integrations, users } = this.tenant();
    const random = new SeededRandom((Math.imul(this.seed ^ 0x5bd1e995, 0x9e3779b1) ^ index) >>> 0);
    random.next();
    const admin = admins.length > 0 ? admins[random.int(admins.length)] : undefined;
    if (!admin?.admin_id) return undefined;
    const by = { id: admin.admin_id, name: admin.name ?? admin.admin_id };
    const time = this.timeOf(index);
    const roll = random.next();
    const integration = integrations.length > 0 ? integrations[random.int(integrations.length)] : undefined;
    const user = users.length > 0 ? users[random.int(users.length)] : undefined;
    if (roll < 0.24 && integration) {
      return {
        index,
        time,
        action: roll < 0.12 ? 'integration_create' : 'integration_skey_view',
        admin: by,
        target: { type: 'integration', key: integration.integration_key, name: integration.name ?? '' },
      };
    }
    if (roll < 0.4 && user) {
      const status = random.chance(0.4) ? 'Bypass' : random.chance(0.5) ? 'Active' : undefined;
      return {
        index,
        time,
        action: 'user_update',
        admin: by,
        target: { type: 'user', key: user.user_id, name: user.username ?? user.user_id },
        description: status ? { status } : { notes: 'Asked for a nickname.' },
      };
    }
    return { index, time, action: 'admin_login', admin: by };
  }

  /** An action as the administrator log writes it. */
  administratorEvent(action: AdministrationAction): DuoAdministratorLogEvent {
    return {
      action: action.action,
      description: action.description ? JSON.stringify(action.description) : null,
      isotimestamp: new Date(Math.floor(action.time / 1000) * 1000).toISOString().replace('Z', '+00:00'),
      object: action.target?.name ?? null,
      timestamp: Math.floor(action.time / 1000),
      username: action.admin.name,
    };
  }

  /** An action as the activity log writes it. */
  activityEvent(action: AdministrationAction): DuoActivityLogEvent {
    return {
      action: action.action,
      activity_id: `activity-${this.seed}-${action.index}`,
      actor: { key: action.admin.id, name: action.admin.name, type: 'admin', details: null },
      target: action.target
        ? {
            key: action.target.key,
            name: action.target.name,
            type: action.target.type,
            details: action.description ? JSON.stringify(action.description) : null,
          }
        : null,
      ts: new Date(action.time).toISOString(),
    };
  }

  /** Answers one request of `/admin/v1/logs/administrator`. */
  serveAdministrator(params: Record<string, string>, now: number): DuoAnswer {
    const mintime = wholeNumber(params.mintime);
    if (mintime === undefined) return duoErrorAnswer(400, 40002, 'Invalid request parameters', 'mintime');
    if (mintime * 1000 < now - MAX_WINDOW_AGE_MS) {
      return duoErrorAnswer(400, 40002, 'Invalid request parameters', 'mintime must be within the past 180 days');
    }
    const visibleUntil = now - this.delayMs;
    const events: DuoAdministratorLogEvent[] = [];
    for (
      let index = this.firstIndexAtOrAfter(mintime * 1000);
      events.length < this.pageSize && this.timeOf(index) <= visibleUntil;
      index++
    ) {
      const action = this.actionAt(index);
      if (action) events.push(this.administratorEvent(action));
    }
    return { status: 200, body: JSON.stringify({ response: events, stat: 'OK' }), records: events.length };
  }

  /** Answers one request of `/admin/v2/logs/activity`. */
  serveActivity(params: Record<string, string>, now: number): DuoAnswer {
    const window = requestedWindow(params, now);
    if ('refusal' in window) return window.refusal;
    const { mintime, maxtime } = window;
    const limit = params.limit === undefined ? 100 : wholeNumber(params.limit);
    if (limit === undefined || limit < 1) return duoErrorAnswer(400, 40002, 'Invalid request parameters', 'limit');
    let index = this.firstIndexAtOrAfter(mintime);
    if (params.next_offset !== undefined) {
      // `<ms>,<index of the last event served>`: this simulator's own cursor, opaque to readers.
      const match = /^\d+,(\d+)$/.exec(params.next_offset);
      if (!match) return duoErrorAnswer(400, 40002, 'Invalid request parameters', 'next_offset');
      index = Math.max(index, Number(match[1]) + 1);
    }
    const visibleUntil = Math.min(maxtime, now - this.delayMs);
    const items: DuoActivityLogEvent[] = [];
    let scanned = 0;
    for (; scanned < Math.min(limit, 1000) && this.timeOf(index) <= visibleUntil; index++, scanned++) {
      const action = this.actionAt(index);
      if (action) items.push(this.activityEvent(action));
    }
    const more = this.timeOf(index) <= visibleUntil;
    const metadata = more ? { next_offset: `${this.timeOf(index - 1)},${index - 1}` } : {};
    return { status: 200, body: JSON.stringify({ response: { items, metadata }, stat: 'OK' }), records: items.length };
  }
}

export interface TrustMonitorOptions {
  /** Events per minute. Default 0.1 (six an hour). */
  eventsPerMinute?: number;
  historyMs?: number;
  delayMs?: number;
  seed?: number;
  startedAt?: number;
  /** False: the account's edition has no Trust Monitor; Duo answers 403. Default true. */
  available?: boolean;
}

/**
 * Trust Monitor's events, consistent with the tenant: anomalous authentications of its users with
 * their own phones and endpoints, administrators switching users to bypass, new devices
 * registered; some triaged, some priority. Served as `/admin/v1/trust_monitor/events` serves
 * them: a required `mintime`/`maxtime` window in milliseconds, at most 200 a page, the cursor in
 * `metadata.next_offset` given back as `offset`.
 */
export class TrustMonitorStream extends EventClock {
  readonly available: boolean;

  constructor(
    private readonly tenant: () => DuoTenant,
    options: TrustMonitorOptions = {},
  ) {
    super(options.eventsPerMinute ?? 0.1, options);
    this.available = options.available ?? true;
  }

  *eventsBetween(mintime: number, maxtime: number): Generator<DuoTrustMonitorEvent> {
    for (let index = this.firstIndexAtOrAfter(mintime); this.timeOf(index) <= maxtime; index++) {
      yield this.eventAt(index);
    }
  }

  eventAt(index: number): DuoTrustMonitorEvent {
    const { users, admins, endpoints } = this.tenant();
    const random = new SeededRandom((Math.imul(this.seed ^ 0x27d4eb2f, 0x85ebca6b) ^ index) >>> 0);
    random.next();
    const user = users.length > 0 ? users[random.int(users.length)] : undefined;
    const roll = random.next();
    const type = roll < 0.5 ? 'auth' : roll < 0.8 ? 'bypass_status_enabled' : 'device_registration';
    const admin = admins.length > 0 ? admins[random.int(admins.length)] : undefined;
    const endpoint = endpoints.find((candidate) => candidate.email && candidate.email === user?.email);
    const phone = user?.phones?.[0];
    const time = this.timeOf(index);
    const processed = random.chance(0.4);
    return {
      sekey: `SEK${this.seed.toString(16).padStart(4, '0')}${index.toString(16).padStart(12, '0')}`,
      type,
      surfaced_timestamp: time,
      state: processed ? 'processed' : 'new',
      triaged_as_interesting: processed && random.chance(0.5),
      priority_event: random.chance(0.3),
      priority_reasons: [],
      explanations:
        type === 'auth'
          ? [{ summary: 'The user authenticated from a new country.', type: 'NEW_COUNTRY' }]
          : type === 'bypass_status_enabled'
            ? [{ summary: 'An administrator set the user to bypass.', type: 'BYPASS_STATUS_ENABLED' }]
            : [{ summary: 'A device was registered from an unusual network.', type: 'NEW_DEVICE_NETWORK' }],
      user: user ? { key: user.user_id, name: user.username ?? null } : null,
      ...(type !== 'bypass_status_enabled' && phone
        ? { auth_device: { key: phone.phone_id, name: phone.number ?? null } }
        : {}),
      ...(type === 'auth' && endpoint ? { access_device: { epkey: endpoint.epkey } } : {}),
      ...(type === 'bypass_status_enabled'
        ? {
            bypass_status_enabled: {
              bypass_status_enabled: time,
              enabled_by: admin ? { key: admin.admin_id, name: admin.name ?? null } : null,
              enabled_for: user ? { key: user.user_id, name: user.username ?? null } : null,
            },
          }
        : {}),
    };
  }

  serve(params: Record<string, string>, now: number): DuoAnswer {
    if (!this.available) return duoErrorAnswer(403, 40301, 'Access forbidden');
    const window = requestedWindow(params, now);
    if ('refusal' in window) return window.refusal;
    const { mintime, maxtime } = window;
    const limit = Math.min(params.limit === undefined ? 50 : (wholeNumber(params.limit) ?? 50), 200);
    let index = this.firstIndexAtOrAfter(mintime);
    if (params.offset !== undefined) {
      if (!/^\d+$/.test(params.offset)) return duoErrorAnswer(400, 40002, 'Invalid request parameters', 'offset');
      index = Math.max(index, Number(params.offset));
    }
    const visibleUntil = Math.min(maxtime, now - this.delayMs);
    const events: DuoTrustMonitorEvent[] = [];
    for (; events.length < limit && this.timeOf(index) <= visibleUntil; index++) events.push(this.eventAt(index));
    const metadata = this.timeOf(index) <= visibleUntil ? { next_offset: String(index) } : {};
    return {
      status: 200,
      body: JSON.stringify({ response: { events, metadata }, stat: 'OK' }),
      records: events.length,
    };
  }
}
