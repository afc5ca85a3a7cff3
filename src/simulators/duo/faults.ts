/**
 * The Duo simulator's fault injection: given the current `DuoSimulatorFaults`, decides for each
 * request whether it gets a forced error, a random fault (reset, 500, 429, truncated body), a
 * short page or broken paging metadata. Random decisions come from seeded dice, so a faulty run
 * can be repeated.
 */
import {
  arrayOf,
  boolean,
  byEndpointPath,
  endpointPath,
  FaultSettingsError,
  type FieldRules,
  httpStatus,
  objectOf,
  oneOf,
  parseFaultSettings,
  rate,
  text,
  wholeNumber,
} from '../fault-json';
import { SeededRandom } from '../seeded-random';
import type { DuoForcedError, DuoPagingAnomaly, DuoSimulatorFaults } from './server';

const PAGING_ANOMALIES: readonly DuoPagingAnomaly[] = ['missing-metadata', 'stuck-offset', 'empty-page', 'ends-early'];

/**
 * One rule per field of `DuoSimulatorFaults`: a field added to the shape without a rule here does
 * not compile (and docs/simulators.md must describe it: a test checks).
 */
export const DUO_FAULT_RULES: FieldRules<DuoSimulatorFaults> = {
  serverErrorRate: rate,
  tooManyRequestsRate: rate,
  connectionResetRate: rate,
  malformedBodyRate: rate,
  faultPaths: arrayOf(endpointPath),
  shortPages: boolean,
  endpointErrors: byEndpointPath(
    objectOf<DuoForcedError>(
      { status: httpStatus(), code: wholeNumber(0), message: text, times: wholeNumber(0), location: text },
      ['status', 'code'],
    ),
  ),
  pagingAnomalies: byEndpointPath(
    objectOf<{ kind: DuoPagingAnomaly; fromOffset?: number }>(
      { kind: oneOf(PAGING_ANOMALIES), fromOffset: wholeNumber(0) },
      ['kind'],
    ),
  ),
};
const DUO_FAULTS_RULE = objectOf(DUO_FAULT_RULES);

/**
 * Parses Duo fault settings written by a person (JSON text or a parsed value), e.g.
 * `{"pagingAnomalies":{"/admin/v1/users":{"kind":"stuck-offset","fromOffset":3000}}}`. Throws
 * `FaultSettingsError` listing every problem.
 */
export function parseDuoSimulatorFaults(input: unknown): DuoSimulatorFaults {
  const faults = parseFaultSettings(input, DUO_FAULTS_RULE);
  const total =
    (faults.connectionResetRate ?? 0) +
    (faults.serverErrorRate ?? 0) +
    (faults.tooManyRequestsRate ?? 0) +
    (faults.malformedBodyRate ?? 0);
  if (total > 1) {
    throw new FaultSettingsError([
      `connectionResetRate, serverErrorRate, tooManyRequestsRate and malformedBodyRate add up to ${total}; they share one roll of the dice per request, so together they may be at most 1`,
    ]);
  }
  return faults;
}

/** A random fault drawn for one request. */
export type DuoRandomFault = 'connection-reset' | 'server-error' | 'too-many-requests' | 'malformed-body';

export class DuoFaultInjector {
  #faults: DuoSimulatorFaults;
  /** Forced errors still to answer, per endpoint path (counts down from `times`). */
  #forcedErrorsLeft = new Map<string, number>();
  readonly #dice: SeededRandom;

  constructor(faults: DuoSimulatorFaults = {}, seed = 1) {
    this.#faults = faults;
    this.#dice = new SeededRandom(seed);
  }

  get faults(): DuoSimulatorFaults {
    return this.#faults;
  }

  /** Replaces every fault setting (`{}` clears them); forced-error counts start again. */
  replace(faults: DuoSimulatorFaults): void {
    this.#faults = faults;
    this.#forcedErrorsLeft = new Map();
  }

  /** The forced error for this request to `path`, counting it against its `times`. */
  forcedError(path: string): DuoForcedError | undefined {
    const forced = this.#faults.endpointErrors?.[path];
    if (!forced) return undefined;
    const left = this.#forcedErrorsLeft.get(path) ?? forced.times ?? Infinity;
    if (left <= 0) return undefined;
    this.#forcedErrorsLeft.set(path, left - 1);
    return forced;
  }

  /** Rolls the dice for one request to `path` (one roll, whatever the rates). */
  randomFault(path: string): DuoRandomFault | undefined {
    const faults = this.#faults;
    if (faults.faultPaths && !faults.faultPaths.includes(path)) return undefined;
    const roll = this.#dice.next();
    let threshold = faults.connectionResetRate ?? 0;
    if (roll < threshold) return 'connection-reset';
    threshold += faults.serverErrorRate ?? 0;
    if (roll < threshold) return 'server-error';
    threshold += faults.tooManyRequestsRate ?? 0;
    if (roll < threshold) return 'too-many-requests';
    threshold += faults.malformedBodyRate ?? 0;
    if (roll < threshold) return 'malformed-body';
    return undefined;
  }

  /** The broken paging to serve for a page of `path` requested at `offset`, if any. */
  pagingAnomaly(path: string, offset: number): DuoPagingAnomaly | undefined {
    const anomaly = this.#faults.pagingAnomalies?.[path];
    return anomaly !== undefined && offset >= (anomaly.fromOffset ?? 1) ? anomaly.kind : undefined;
  }

  /**
   * How many of `count` available records a page holds: all of them, or with `shortPages` a
   * reproducible number between 1 and `count` (the same for the same path and offset).
   */
  pageRecordCount(path: string, offset: number, count: number): number {
    return this.#faults.shortPages && count > 1 ? 1 + (hashOffset(offset, path) % count) : count;
  }
}

/** A stable pseudo-random number per (offset, path), so short pages are reproducible. */
function hashOffset(offset: number, path: string): number {
  let hash = Math.imul(offset + 1, 2654435761) >>> 0;
  for (let i = 0; i < path.length; i++) hash = Math.imul(hash ^ path.charCodeAt(i), 16777619) >>> 0;
  return hash;
}
