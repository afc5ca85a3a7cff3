/**
 * The JupiterOne simulator's fault injection: random faults by rate (seeded dice, so a run with
 * faults can be repeated) and deterministic faults queued for the next matching requests.
 */
import { SeededRandom } from '../seeded-random';
import type { JupiterOneSimulatorFaults, ScheduledFault, SimulatorRoute } from './server';

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

  /** Queues a deterministic fault for the next matching requests. */
  schedule(fault: ScheduledFault): void {
    this.#scheduled.push({ kind: fault.kind, count: fault.count ?? 1, route: fault.route });
  }

  /** Faults still queued, oldest first. */
  scheduled(): ScheduledFault[] {
    return this.#scheduled.map((fault) => ({ ...fault }));
  }

  /** Drops every queued fault. */
  clearScheduled(): void {
    this.#scheduled.length = 0;
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
