/**
 * The JupiterOne simulator's routes: which route a request is for, and what each route does with
 * the jobs. Under `/persister/synchronization/jobs`: create, get, `entities`, `relationships`,
 * `upload` (both kinds in one body), `finalize`, `abort`, `events`. Under `/__sim/`, the
 * inspection routes (`graph`, `jobs`, `requests`), which are not part of JupiterOne's API.
 */
import type { IncomingMessage } from 'node:http';
import type { SyncJob } from '../../jupiterone/types';
import { HttpError, type JupiterOneAnswer } from './answers';
import type { SyncJobs } from './jobs';
import type { HeldGraphSelector, SimulatorRequestLogEntry, SimulatorRoute } from './server';
import { parseJsonObjectBody } from './upload-body';

export const UPLOAD_ROUTES: readonly SimulatorRoute[] = ['upload-entities', 'upload-relationships', 'upload'];

const JOBS_PATH = '/persister/synchronization/jobs';

/** The route of a request, and the job id its path names. */
export function routeOf(method: string, path: string): { route: SimulatorRoute; jobId?: string } {
  if (path.startsWith('/__sim/') && method === 'GET') return { route: 'inspect' };
  if (path === JOBS_PATH || path === `${JOBS_PATH}/`) return { route: method === 'POST' ? 'start-job' : 'unknown' };
  if (!path.startsWith(`${JOBS_PATH}/`)) return { route: 'unknown' };
  const parts = path.slice(JOBS_PATH.length + 1).split('/');
  const jobId = decodeURIComponent(parts[0] ?? '');
  if (parts.length === 1) return { route: method === 'GET' ? 'get-job' : 'unknown', jobId };
  if (parts.length !== 2 || method !== 'POST') return { route: 'unknown', jobId };
  const action: Record<string, SimulatorRoute> = {
    entities: 'upload-entities',
    relationships: 'upload-relationships',
    upload: 'upload',
    finalize: 'finalize',
    abort: 'abort',
    events: 'events',
  };
  return { route: action[parts[1]] ?? 'unknown', jobId };
}

/** One request to a synchronization route, its body read, decoded and within the payload limit. */
export interface SyncApiRequest {
  route: SimulatorRoute;
  jobId?: string;
  accountId: string;
  req: IncomingMessage;
  url: URL;
  body: Buffer;
  entry: SimulatorRequestLogEntry;
}

/** Answers a request to one of the synchronization API's routes. */
export function serveSyncApi(jobs: SyncJobs, request: SyncApiRequest): JupiterOneAnswer | Promise<JupiterOneAnswer> {
  const { route, accountId, req, url, entry, body: bytes } = request;
  if (route === 'start-job') {
    const answer = jobs.start(parseJsonObjectBody(bytes), accountId);
    entry.jobId = (answer.body as { job: SyncJob }).job.id;
    return answer;
  }
  const job = jobs.jobFor(request.jobId, accountId);
  const ignoreDuplicates = url.searchParams.get('ignoreDuplicates') === 'true';
  switch (route) {
    case 'get-job':
      return { status: 200, body: { job: { ...job.job } } };
    case 'upload-entities':
      return jobs.upload(job, bytes, ['entities'], ignoreDuplicates, entry);
    case 'upload-relationships':
      return jobs.upload(job, bytes, ['relationships'], ignoreDuplicates, entry);
    case 'upload':
      return jobs.upload(job, bytes, ['entities', 'relationships'], ignoreDuplicates, entry);
    case 'finalize':
      return jobs.finalize(job, parseJsonObjectBody(bytes), entry);
    case 'abort':
      return jobs.abort(job, parseJsonObjectBody(bytes));
    case 'events':
      return jobs.addEvents(job, parseJsonObjectBody(bytes));
    default:
      throw new HttpError(404, 'NOT_FOUND', `No route ${req.method} ${url.pathname}.`);
  }
}

/** Answers an inspection request: the held graph, the jobs or the request log of this account. */
export function serveInspection(
  jobs: SyncJobs,
  requestLog: () => SimulatorRequestLogEntry[],
  url: URL,
  accountId: string,
): JupiterOneAnswer {
  if (url.pathname === '/__sim/graph') {
    const owner = url.searchParams.get('owner');
    const scope = url.searchParams.get('scope');
    const instanceId = url.searchParams.get('integrationInstanceId');
    const selector: HeldGraphSelector | undefined = instanceId
      ? { integrationInstanceId: instanceId }
      : scope
        ? { scope }
        : owner === 'system-mapper'
          ? { owner: 'system-mapper' }
          : undefined;
    if (!selector) {
      throw new HttpError(400, 'SELECTOR_REQUIRED', 'Give integrationInstanceId=…, scope=… or owner=system-mapper.');
    }
    return { status: 200, body: jobs.heldGraph({ ...selector, account: accountId }) };
  }
  if (url.pathname === '/__sim/jobs') {
    return { status: 200, body: { jobs: jobs.list().filter((info) => info.account === accountId) } };
  }
  if (url.pathname === '/__sim/requests') return { status: 200, body: { requests: requestLog() } };
  throw new HttpError(404, 'NOT_FOUND', `No inspection route ${url.pathname}.`);
}
