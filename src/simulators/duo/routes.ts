/**
 * The Duo simulator's routes: every endpoint the product reads, from the resource table in
 * src/resources/table.ts, each served from the tenant the way Duo serves it — object endpoints in
 * `{"response": {...}}`, list endpoints in offset pages (limit clamped to the endpoint's maximum,
 * `next_offset` absent on the last page, `total_objects`), and single records by id.
 */
import { DUO_LIST_ENDPOINTS, DUO_LOG_ENDPOINTS, DUO_OBJECT_ENDPOINTS, type DuoGrant } from '../../resources/table';
import type { DuoSignatureVersion } from '../../duo/signing';
import { duoErrorAnswer, type DuoAnswer } from './answers';
import type { AdministrationLogStream, TrustMonitorStream } from './administration-log';
import type { AuthenticationLogStream } from './authentication-log';
import type { DuoFaultInjector } from './faults';
import type { DuoTenantListField, ServedTenant } from './state';

export interface DuoRoute {
  /** Rate-limit and fault key: the endpoint path (single-record routes share their list's). */
  path: string;
  grant: DuoGrant;
  requiredSignatureVersion?: DuoSignatureVersion;
  serve: (request: DuoRouteRequest) => DuoAnswer;
}

/** What a route needs of a request that passed authentication. */
export interface DuoRouteRequest {
  params: Record<string, string>;
  limit?: number;
  offset?: number;
  /** The record id of a single-record route. */
  id?: string;
}

interface TenantList {
  field: DuoTenantListField;
  maxPageSize: number;
  idField: string;
}

const COMMA = Buffer.from(',');
const PAGE_END = Buffer.from('],"stat":"OK"}');
const RESPONSE_START = Buffer.from('{"response":');
const OBJECT_END = Buffer.from(',"stat":"OK"}');

export class DuoRoutes {
  readonly #exact = new Map<string, DuoRoute>();
  readonly #single: Array<{ prefix: string; route: DuoRoute }> = [];

  constructor(
    private readonly tenant: ServedTenant,
    private readonly faults: DuoFaultInjector,
    authenticationLog: AuthenticationLogStream,
    administrationLog: AdministrationLogStream,
    trustMonitor: TrustMonitorStream,
  ) {
    const logs = [
      { endpoint: DUO_LOG_ENDPOINTS.authenticationLog, serve: authenticationLog.serve.bind(authenticationLog) },
      {
        endpoint: DUO_LOG_ENDPOINTS.administratorLog,
        serve: administrationLog.serveAdministrator.bind(administrationLog),
      },
      { endpoint: DUO_LOG_ENDPOINTS.activityLog, serve: administrationLog.serveActivity.bind(administrationLog) },
      { endpoint: DUO_LOG_ENDPOINTS.trustMonitor, serve: trustMonitor.serve.bind(trustMonitor) },
    ];
    for (const { endpoint, serve } of logs) {
      this.#exact.set(endpoint.path, {
        path: endpoint.path,
        grant: endpoint.grant,
        serve: (request) => serve(request.params, Date.now()),
      });
    }
    // Each endpoint of the resource table is served from the tenant's field of its own name.
    for (const endpoint of Object.values(DUO_OBJECT_ENDPOINTS)) {
      this.#addObject(
        endpoint.path,
        endpoint.grant,
        () => this.tenant.tenant[endpoint.name],
        endpoint.requiredSignatureVersion,
      );
    }
    for (const endpoint of Object.values(DUO_LIST_ENDPOINTS)) {
      this.#addList(
        endpoint.path,
        endpoint.grant,
        { field: endpoint.name, maxPageSize: endpoint.maxPageSize, idField: endpoint.idField },
        endpoint.requiredSignatureVersion,
      );
    }
    // The legacy v1 integrations handler: accepts v2 signatures and returns secret keys in clear.
    this.#addList('/admin/v1/integrations', DUO_LIST_ENDPOINTS.integrations.grant, {
      field: 'integrations',
      maxPageSize: DUO_LIST_ENDPOINTS.integrations.maxPageSize,
      idField: 'integration_key',
    });
  }

  /** The route serving `path`, with the record id of a single-record path. */
  find(path: string): { route: DuoRoute; id?: string } | undefined {
    const route = this.#exact.get(path);
    if (route) return { route };
    for (const single of this.#single) {
      const rest = path.startsWith(single.prefix) ? path.slice(single.prefix.length) : '';
      // One path segment only: `/admin/v1/integrations/{ikey}/skey` (a secret) is not served.
      if (rest !== '' && !rest.includes('/')) return { route: single.route, id: decodeURIComponent(rest) };
    }
    return undefined;
  }

  #addObject(path: string, grant: DuoGrant, value: () => object, requiredSignatureVersion?: DuoSignatureVersion): void {
    this.#exact.set(path, {
      path,
      grant,
      requiredSignatureVersion,
      serve: () => ({ status: 200, body: `{"response":${JSON.stringify(value())},"stat":"OK"}` }),
    });
  }

  #addList(path: string, grant: DuoGrant, list: TenantList, requiredSignatureVersion?: DuoSignatureVersion): void {
    this.#exact.set(path, {
      path,
      grant,
      requiredSignatureVersion,
      serve: (request) => this.#page(list, path, request),
    });
    this.#single.push({
      prefix: `${path}/`,
      route: {
        path,
        grant,
        requiredSignatureVersion,
        serve: (request) => {
          const record =
            request.id === undefined ? undefined : this.tenant.recordById(list.field, list.idField, request.id);
          if (!record) return duoErrorAnswer(404, 40401, 'Resource not found');
          return { status: 200, body: Buffer.concat([RESPONSE_START, this.tenant.json(record), OBJECT_END]) };
        },
      },
    });
  }

  /** One page of a list, as Duo pages — or as the configured paging anomaly breaks it. */
  #page(list: TenantList, path: string, request: DuoRouteRequest): DuoAnswer {
    const records = this.tenant.list(list.field);
    const limit = Math.min(request.limit ?? 100, list.maxPageSize);
    const offset = request.offset ?? 0;
    const anomaly = this.faults.pagingAnomaly(path, offset);
    let count = this.faults.pageRecordCount(path, offset, Math.min(limit, Math.max(0, records.length - offset)));
    if (anomaly === 'empty-page') count = 0;
    const pageRecords = records.slice(offset, offset + count);
    let nextOffset: number | undefined = offset + count < records.length ? offset + count : undefined;
    if (anomaly === 'empty-page') nextOffset = offset + limit;
    if (anomaly === 'stuck-offset' && nextOffset !== undefined) nextOffset = offset;
    if (anomaly === 'ends-early') nextOffset = undefined;
    const metadata =
      anomaly === 'missing-metadata'
        ? ''
        : `"metadata":{${[
            nextOffset !== undefined ? `"next_offset":${nextOffset}` : '',
            offset > 0 ? `"prev_offset":${Math.max(offset - limit, 0)}` : '',
            `"total_objects":${records.length}`,
          ]
            .filter(Boolean)
            .join(',')}},`;
    const pieces: Buffer[] = [Buffer.from(`{${metadata}"response":[`)];
    pageRecords.forEach((record, index) => {
      if (index > 0) pieces.push(COMMA);
      pieces.push(this.tenant.json(record));
    });
    pieces.push(PAGE_END);
    return { status: 200, body: Buffer.concat(pieces), records: pageRecords.length };
  }
}
