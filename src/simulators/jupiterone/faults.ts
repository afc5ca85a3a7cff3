/**
 * The JupiterOne simulator's fault injection: random faults by rate (seeded dice, so a run with
 * faults can be repeated) and deterministic faults queued for the next matching requests.
 */
import {
  arrayOf,
  type FieldRules,
  httpStatus,
  nonNegative,
  objectOf,
  oneOf,
  parseFaultSettings,
  rate,
  wholeNumber,
} from '../fault-json';
import { SeededRandom } from '../seeded-random';
import type { JupiterOneSimulatorFaults, ScheduledFault, SimulatorRoute } from './server';

/** Fault settings as a person writes them: any of the fault knobs, and faults queued for the next requests. */
export type JupiterOneFaultSettings = Partial<JupiterOneSimulatorFaults> & { scheduled?: ScheduledFault[] };

/** Every route, once (a route missing here does not compile). */
const ROUTES = Object.keys({
  'start-job': true,
  'get-job': true,
  'upload-entities': true,
  'upload-relationships': true,
  upload: true,
  finalize: true,
  abort: true,
  events: true,
  inspect: true,
  unknown: true,
} satisfies Record<SimulatorRoute, true>) as SimulatorRoute[];

const SCHEDULED_KINDS: readonly ScheduledFault['kind'][] = [
  'server-error',
  'rate-limit',
  'connection-reset',
  'reset-after-processing',
];

/**
 * One rule per field of `JupiterOneSimulatorFaults` and for `scheduled`: a field added to the shape
 * without a rule here does not compile (and docs/simulators.md must describe it: a test checks).
 */
export const JUPITERONE_FAULT_RULES: FieldRules<JupiterOneFaultSettings> = {
  serverErrorRate: rate,
  rateLimitRate: rate,
  connectionResetRate: rate,
  latencyMs: wholeNumber(0),
  retryAfterSeconds: nonNegative,
  payloadLimitBytes: wholeNumber(1),
  eventsErrorStatus: httpStatus(400),
  routes: arrayOf(oneOf(ROUTES)),
  seed: wholeNumber(0),
  scheduled: arrayOf(
    objectOf<ScheduledFault>({ kind: oneOf(SCHEDULED_KINDS), count: wholeNumber(1), route: oneOf(ROUTES) }, ['kind']),
  ),
};
const JUPITERONE_FAULTS_RULE = objectOf(JUPITERONE_FAULT_RULES);

/**
 * Parses JupiterOne fault settings written by a person (JSON text or a parsed value), e.g.
 * `{"serverErrorRate":0.1,"scheduled":[{"kind":"reset-after-processing","route":"start-job"}]}`.
 * Throws `FaultSettingsError` listing every problem.
 */
export function parseJupiterOneFaultSettings(input: unknown): JupiterOneFaultSettings {
  return parseFaultSettings(input, JUPITERONE_FAULTS_RULE);
}

/** The settings of a simulator started without faults. */
export const NO_JUPITERONE_FAULTS: JupiterOneSimulatorFaults = {
  serverErrorRate: 0,
  rateLimitRate: 0,
  connectionResetRate: 0,
  latencyMs: 0,
  seed: 1,
};

export class JupiterOneFaultInjector {
  #faults: JupiterOneSimulatorFaults;
  #dice: SeededRandom;
  readonly #scheduled: { kind: ScheduledFault['kind']; count: number; route?: SimulatorRoute }[] = [];

  constructor(faults: Partial<JupiterOneSimulatorFaults> = {}) {
    this.#faults = { ...NO_JUPITERONE_FAULTS, ...faults };
    this.#dice = new SeededRandom(this.#faults.seed);
  }

  get faults(): JupiterOneSimulatorFaults {
    return this.#faults;
  }

  /** Replaces the given settings (others keep their value); a new seed restarts the dice. */
  update(next: Partial<JupiterOneSimulatorFaults>): void {
    this.#faults = { ...this.#faults, ...next };
    if (next.seed !== undefined) this.#dice = new SeededRandom(next.seed);
  }

  /** Replaces every setting and the queue of scheduled faults (what is not given takes its default). */
  replaceAll(settings: JupiterOneFaultSettings): void {
    const { scheduled = [], ...faults } = settings;
    this.#faults = { ...NO_JUPITERONE_FAULTS, ...faults };
    this.#dice = new SeededRandom(this.#faults.seed);
    this.#scheduled.length = 0;
    for (const fault of scheduled) this.schedule(fault);
  }

  /** The settings and the faults still queued, as `replaceAll` takes them. */
  settings(): JupiterOneFaultSettings {
    return { ...this.#faults, scheduled: this.scheduled() };
  }

  /** Queues a deterministic fault for the next matching requests. */
  schedule(fault: ScheduledFault): void {
    this.#scheduled.push({ kind: fault.kind, count: fault.count ?? 1, route: fault.route });
  }

  /** Faults still queued, oldest first. */
  scheduled(): ScheduledFault[] {
    return this.#scheduled.map((fault) => ({ ...fault }));
  }

  /** The injected fault for a request to `route`, if any: scheduled ones first, then the dice. */
  draw(route: SimulatorRoute): ScheduledFault['kind'] | undefined {
    const index = this.#scheduled.findIndex((fault) => fault.route === undefined || fault.route === route);
    if (index >= 0) {
      const fault = this.#scheduled[index];
      if (--fault.count <= 0) this.#scheduled.splice(index, 1);
      return fault.kind;
    }
    const faults = this.#faults;
    if (faults.routes !== undefined && !faults.routes.includes(route)) return undefined;
    const roll = this.#dice.next();
    if (roll < faults.connectionResetRate) return 'connection-reset';
    if (roll < faults.connectionResetRate + faults.serverErrorRate) return 'server-error';
    if (roll < faults.connectionResetRate + faults.serverErrorRate + faults.rateLimitRate) return 'rate-limit';
    return undefined;
  }
}
