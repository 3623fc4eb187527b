import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  containerClientOptions,
  type ContainerClientOptions,
} from '../../../shared/clusters/container-client-options.js';
import {
  ApiFailure,
  isJsonObject,
  readRestCall,
  stringFields,
  type Json,
  type JsonObject,
} from '../google-json.js';
import { CallCounts, FaultQueue, LoopbackStandin, sendJson } from '../loopback-standin.js';
import { FieldMask } from './field-mask.js';
import {
  clusterEnumsAsNumbers,
  clusterJson,
  ClusterStatuses,
  operationJson,
  type ClusterRecord,
  type ClusterStatus,
  type OperationRecord,
} from './shapes.js';

export type { ClusterRecord, ClusterStatus } from './shapes.js';

/** A cluster to put in the stand-in; everything but its identity has a realistic default. */
export interface ClusterSpec {
  project: string;
  location: string;
  name: string;
  status?: ClusterStatus;
  statusMessage?: string;
  labels?: Record<string, string>;
  /** Default: a made-up public IP (nothing answers there). */
  endpoint?: string;
  privateEndpoint?: string;
  dnsEndpoint?: string;
  /** base64 of a PEM bundle. Default: a placeholder that is not a usable CA. */
  caCertificate?: string;
  version?: string;
  /**
   * The zones its nodes run in (Cluster.locations), all in the cluster's
   * region. Default: its zone (zonal), or zones a, b and c of its region.
   */
  locations?: string[];
}

/** The API methods the stand-in serves, as counted by callCount. */
export const StandinMethods = [
  'clusters.list',
  'clusters.get',
  'clusters.create',
  'clusters.delete',
  'operations.get',
  'unsupported',
] as const;
export type StandinMethod = (typeof StandinMethods)[number];

interface Entry {
  record: ClusterRecord;
  /** The serialised Cluster, by enum encoding and field mask; cleared whenever the record changes. */
  json: Map<string, string>;
}

interface Route {
  method: StandinMethod;
  project: string;
  location: string;
  cluster?: string;
  operation?: string;
}

/** The service a denial's ErrorInfo names. */
const SERVICE = 'container.googleapis.com';

const PLACEHOLDER_CA = Buffer.from(
  '-----BEGIN CERTIFICATE-----\nTGlmZWJvYXQgc3RhbmQtaW46IG5vdCBhIHVzYWJsZSBDQQ==\n-----END CERTIFICATE-----\n',
).toString('base64');

/**
 * A GKE Container API v1 stand-in on 127.0.0.1: the REST endpoints
 * Lifeboat uses, with the real request and response shapes, so the real
 * `@google-cloud/container` ClusterManagerClient can be tested against it
 * (there is no GKE emulator anywhere).
 *
 * Served: clusters list (`locations/-` for all), get, create and delete,
 * and operations get. Google's error shape for failures; enums by name, or
 * by number when the client asks for `$alt=json;enum-encoding=int` (the
 * REST transport always does); partial responses for `X-Goog-FieldMask`
 * or `fields`, with unknown paths refused as the real API refuses them. Anything else answers 404 and counts as
 * "unsupported". Each cluster's JSON is serialised once and reused, so
 * listing thousands of clusters costs a string join.
 */
export class ContainerStandin extends LoopbackStandin {
  private readonly projects = new Map<string, Map<string, Entry>>();
  private readonly operations = new Map<string, OperationRecord>();
  private readonly counts = new CallCounts<StandinMethod>();
  private readonly faults = new FaultQueue<StandinMethod, number>();
  private readonly denied = new Set<string>();
  private readonly missingZones = new Map<string, string[]>();
  /** Every request's method, path with query and field mask, in order: what the client really sent. */
  readonly requests: { method: StandinMethod; url: string; fieldMask: string | undefined }[] = [];
  /** Added to every answer, to imitate a distant API. */
  latencyMs = 0;
  /** Answer every request that carries a field mask with 400, as an API that serves no partial responses might. */
  rejectFieldMasks = false;

  private constructor() {
    super();
  }

  static start(): Promise<ContainerStandin> {
    return new ContainerStandin().listen();
  }

  /** Options that point the real client at this stand-in (see containerClientOptions). */
  clientOptions(): ContainerClientOptions {
    return containerClientOptions(this.url);
  }

  // ---- clusters ----

  addCluster(spec: ClusterSpec): ClusterRecord {
    const record: ClusterRecord = {
      project: spec.project,
      location: spec.location,
      name: spec.name,
      status: spec.status ?? 'RUNNING',
      resourceLabels: { ...(spec.labels ?? {}) },
      endpoint: spec.endpoint ?? fakeIp(),
      caCertificate: spec.caCertificate ?? PLACEHOLDER_CA,
      currentMasterVersion: spec.version ?? '1.31.6-gke.1020000',
      id: randomBytes(16).toString('hex'),
      createTime: new Date().toISOString(),
      ...(spec.statusMessage ? { statusMessage: spec.statusMessage } : {}),
      ...(spec.privateEndpoint ? { privateEndpoint: spec.privateEndpoint } : {}),
      ...(spec.dnsEndpoint ? { dnsEndpoint: spec.dnsEndpoint } : {}),
      ...(spec.locations ? { locations: nodeLocations(spec.location, spec.locations) } : {}),
    };
    this.projectMap(spec.project).set(keyOf(spec.location, spec.name), { record, json: new Map() });
    return record;
  }

  /**
   * A cluster whose endpoint and CA are those of the current context of a
   * kubeconfig (a local kube-apiserver): `https://127.0.0.1:PORT` becomes
   * endpoint `127.0.0.1:PORT`. GKE hands out no tokens: the caller gives
   * the inventory one.
   */
  addClusterFromKubeConfig(
    kc: KubeConfig,
    spec: Omit<ClusterSpec, 'endpoint' | 'caCertificate'>,
  ): ClusterRecord {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('stand-in: the kubeconfig has no current cluster');
    const server = new URL(cluster.server);
    if (server.protocol !== 'https:') throw new Error(`stand-in: ${cluster.server} is not https`);
    const caCertificate =
      cluster.caData ??
      (cluster.caFile ? readFileSync(cluster.caFile).toString('base64') : undefined);
    if (!caCertificate) throw new Error(`stand-in: no CA for ${cluster.server}`);
    return this.addCluster({ ...spec, endpoint: server.host, caCertificate });
  }

  cluster(ref: { project: string; location: string; name: string }): ClusterRecord | undefined {
    return this.projects.get(ref.project)?.get(keyOf(ref.location, ref.name))?.record;
  }

  clusterCount(): number {
    let n = 0;
    for (const clusters of this.projects.values()) n += clusters.size;
    return n;
  }

  setStatus(
    ref: { project: string; location: string; name: string },
    status: ClusterStatus,
    statusMessage?: string,
  ): void {
    const entry = this.projects.get(ref.project)?.get(keyOf(ref.location, ref.name));
    if (!entry) throw new Error(`stand-in: no cluster ${JSON.stringify(ref)}`);
    entry.record.status = status;
    if (statusMessage) entry.record.statusMessage = statusMessage;
    else delete entry.record.statusMessage;
    entry.json.clear();
  }

  removeCluster(ref: { project: string; location: string; name: string }): boolean {
    return this.projects.get(ref.project)?.delete(keyOf(ref.location, ref.name)) ?? false;
  }

  // ---- faults and counts ----

  /** The next `count` requests (of `method`, or of any method) fail with `code` in Google's shape. */
  failNext(count: number, code: 403 | 429 | 500 | 503, method?: StandinMethod): void {
    this.faults.add(count, code, method);
  }

  /** Every request about `project` answers 403 PERMISSION_DENIED, as for a project the caller cannot see. */
  denyProject(project: string): void {
    this.denied.add(project);
  }

  /** Zones listings of `project` report in `missingZones` (and whose clusters they leave out). */
  setMissingZones(project: string, zones: string[]): void {
    this.missingZones.set(project, [...zones]);
  }

  clearFaults(): void {
    this.faults.clear();
    this.denied.clear();
    this.missingZones.clear();
    this.rejectFieldMasks = false;
  }

  /** Forgets every cluster, operation, fault and count. */
  reset(): void {
    this.projects.clear();
    this.operations.clear();
    this.clearFaults();
    this.resetCounts();
  }

  callCount(method: StandinMethod): number {
    return this.counts.of(method);
  }

  resetCounts(): void {
    this.counts.clear();
    this.requests.length = 0;
  }

  // ---- HTTP ----

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { verb, url, body, numericEnums } = await readRestCall(req, this.url);
    const route = routeOf(verb, url.pathname);
    this.counts.add(route.method);
    const header = req.headers['x-goog-fieldmask'];
    const mask =
      (Array.isArray(header) ? header.join(',') : header) ??
      url.searchParams.get('fields') ??
      undefined;
    this.requests.push({
      method: route.method,
      url: `${url.pathname}${url.search}`,
      fieldMask: mask,
    });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    let status = 200;
    let payload: string;
    try {
      this.injectFault(route, mask);
      payload = this.run(route, body, { numericEnums, mask });
    } catch (error) {
      const failure = ApiFailure.of(error);
      status = failure.code;
      payload = JSON.stringify(failure.body());
    }
    sendJson(res, status, payload);
  }

  private injectFault(route: Route, mask: string | undefined): void {
    if (this.rejectFieldMasks && mask !== undefined) {
      throw new ApiFailure(
        400,
        `Invalid FieldMask '${mask}': partial responses are not served here.`,
      );
    }
    const code = this.faults.take(route.method);
    if (code !== undefined) throw injected(code);
    if (this.denied.has(route.project)) {
      const permission =
        route.method === 'unsupported' ? 'container.clusters.get' : `container.${route.method}`;
      throw new ApiFailure(
        403,
        `Permission '${permission}' denied on resource '//container.googleapis.com/projects/${route.project}/locations/${route.location}' (or it may not exist).`,
        { errorInfo: { reason: 'IAM_PERMISSION_DENIED', service: SERVICE } },
      );
    }
  }

  private run(
    route: Route,
    body: Json,
    format: { numericEnums: boolean; mask: string | undefined },
  ): string {
    const { numericEnums } = format;
    const operation = (op: OperationRecord): string => {
      const mask = FieldMask.parse(format.mask, 'Operation');
      const json = operationJson(op, numericEnums);
      return JSON.stringify(mask ? mask.apply(json) : json);
    };
    switch (route.method) {
      case 'clusters.list':
        return this.list(
          route.project,
          route.location,
          numericEnums,
          FieldMask.parse(format.mask, 'ListClustersResponse'),
        );
      case 'clusters.get':
        return this.serialise(
          this.entry(route),
          numericEnums,
          FieldMask.parse(format.mask, 'Cluster'),
        );
      case 'clusters.create':
        return operation(this.create(route, body));
      case 'clusters.delete':
        return operation(this.delete(route));
      case 'operations.get':
        return operation(this.operation(route));
      case 'unsupported':
        throw new ApiFailure(404, 'Method not found.');
    }
  }

  private list(
    project: string,
    location: string,
    numericEnums: boolean,
    mask: FieldMask | undefined,
  ): string {
    const missing = new Set(this.missingZones.get(project) ?? []);
    const parts: string[] = [];
    if (!mask || mask.has('clusters')) {
      const clusterMask = mask?.below('clusters');
      for (const entry of this.projects.get(project)?.values() ?? []) {
        const l = entry.record.location;
        if ((location === '-' || l === location) && !missing.has(l)) {
          parts.push(this.serialise(entry, numericEnums, clusterMask));
        }
      }
    }
    const zones = [...missing].filter(
      (z) => location === '-' || z === location || z.startsWith(`${location}-`),
    );
    const fields: string[] = [];
    // Empty lists are omitted in proto3 JSON, as the real API does.
    if (parts.length > 0) fields.push(`"clusters":[${parts.join(',')}]`);
    if (zones.length > 0 && (!mask || mask.has('missingZones')))
      fields.push(`"missingZones":${JSON.stringify(zones)}`);
    return `{${fields.join(',')}}`;
  }

  private serialise(entry: Entry, numericEnums: boolean, mask: FieldMask | undefined): string {
    const key = `${numericEnums ? 'int' : 'name'}|${mask?.text ?? '*'}`;
    let json = entry.json.get(key);
    if (json === undefined) {
      const full = clusterJson(entry.record);
      const encoded = numericEnums ? clusterEnumsAsNumbers(full) : full;
      json = JSON.stringify(mask ? mask.apply(encoded) : encoded);
      entry.json.set(key, json);
    }
    return json;
  }

  private entry(route: Route): Entry {
    const entry = this.projects.get(route.project)?.get(keyOf(route.location, route.cluster ?? ''));
    if (!entry) {
      throw new ApiFailure(
        404,
        `Not found: projects/${route.project}/locations/${route.location}/clusters/${route.cluster ?? ''}.`,
      );
    }
    return entry;
  }

  private create(route: Route, body: Json): OperationRecord {
    const cluster = (
      isJsonObject(body) && isJsonObject(body['cluster']) ? body['cluster'] : {}
    ) as JsonObject;
    const name = typeof cluster['name'] === 'string' ? cluster['name'] : '';
    if (!/^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/.test(name)) {
      throw new ApiFailure(400, `Invalid value for field "cluster.name": "${name}".`);
    }
    if (route.location === '-') throw new ApiFailure(400, 'Location "-" is not valid for create.');
    if (this.cluster({ ...route, name })) {
      throw new ApiFailure(
        409,
        `Already exists: projects/${route.project}/locations/${route.location}/clusters/${name}.`,
      );
    }
    const labels = isJsonObject(cluster['resourceLabels'])
      ? stringFields(cluster['resourceLabels'])
      : {};
    const version = cluster['initialClusterVersion'];
    const locations = Array.isArray(cluster['locations'])
      ? cluster['locations'].filter((z): z is string => typeof z === 'string')
      : [];
    this.addCluster({
      project: route.project,
      location: route.location,
      name,
      status: 'PROVISIONING',
      labels,
      ...(typeof version === 'string' && version ? { version } : {}),
      ...(locations.length > 0 ? { locations } : {}),
    });
    return this.newOperation(route, name, 'CREATE_CLUSTER', 'RUNNING');
  }

  private delete(route: Route): OperationRecord {
    const entry = this.entry(route);
    this.removeCluster(entry.record);
    return this.newOperation(route, entry.record.name, 'DELETE_CLUSTER', 'DONE');
  }

  /** A create's operation finishes the first time it is looked at, and the cluster is then RUNNING. */
  private operation(route: Route): OperationRecord {
    const op = this.operations.get(`${route.project}/${route.location}/${route.operation ?? ''}`);
    if (!op) {
      throw new ApiFailure(
        404,
        `Not found: projects/${route.project}/locations/${route.location}/operations/${route.operation ?? ''}.`,
      );
    }
    if (op.status !== 'DONE') {
      op.status = 'DONE';
      op.endTime = new Date().toISOString();
      const created = this.cluster({
        project: op.project,
        location: op.location,
        name: op.cluster,
      });
      if (created && op.operationType === 'CREATE_CLUSTER') this.setStatus(created, 'RUNNING');
    }
    return op;
  }

  private newOperation(
    route: Route,
    cluster: string,
    operationType: OperationRecord['operationType'],
    status: OperationRecord['status'],
  ): OperationRecord {
    const now = new Date().toISOString();
    const op: OperationRecord = {
      name: `operation-${Date.now()}-${randomBytes(4).toString('hex')}`,
      project: route.project,
      location: route.location,
      operationType,
      status,
      cluster,
      startTime: now,
      ...(status === 'DONE' ? { endTime: now } : {}),
    };
    this.operations.set(`${op.project}/${op.location}/${op.name}`, op);
    return op;
  }

  private projectMap(project: string): Map<string, Entry> {
    let clusters = this.projects.get(project);
    if (!clusters) {
      clusters = new Map();
      this.projects.set(project, clusters);
    }
    return clusters;
  }
}

const keyOf = (location: string, name: string): string => `${location}/${name}`;

/** Node zones as GKE takes them: at least one, each a zone of the cluster's region. */
function nodeLocations(location: string, zones: string[]): string[] {
  const region = /-[a-z]$/.test(location) ? location.slice(0, location.lastIndexOf('-')) : location;
  const foreign = zones.filter((z) => !z.startsWith(`${region}-`) || !/-[a-z]$/.test(z));
  if (zones.length === 0 || foreign.length > 0) {
    throw new ApiFailure(
      400,
      `Invalid value for field "cluster.locations": ${JSON.stringify(zones)} must be zones of ${region}.`,
    );
  }
  return [...new Set(zones)];
}

const PATH = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/(clusters|operations)(?:\/([^/]+))?$/;

function routeOf(verb: string, pathname: string): Route {
  const m = PATH.exec(pathname);
  if (!m) return { method: 'unsupported', project: '', location: '' };
  const [, project = '', location = '', kind, name] = m.map((s) =>
    s === undefined ? s : decodeURIComponent(s),
  );
  const base = { project, location };
  if (kind === 'operations') {
    return verb === 'GET' && name
      ? { ...base, method: 'operations.get', operation: name }
      : { ...base, method: 'unsupported' };
  }
  if (name === undefined) {
    if (verb === 'GET') return { ...base, method: 'clusters.list' };
    if (verb === 'POST') return { ...base, method: 'clusters.create' };
  } else {
    if (verb === 'GET') return { ...base, method: 'clusters.get', cluster: name };
    if (verb === 'DELETE') return { ...base, method: 'clusters.delete', cluster: name };
  }
  return { ...base, method: 'unsupported' };
}

function injected(code: number): ApiFailure {
  switch (code) {
    case 429:
      return new ApiFailure(
        429,
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'container.googleapis.com'.",
        { errorInfo: { reason: 'RATE_LIMIT_EXCEEDED', service: SERVICE } },
      );
    case 503:
      return new ApiFailure(503, 'The service is currently unavailable.');
    case 403:
      return new ApiFailure(403, 'The caller does not have permission', {
        errorInfo: { reason: 'IAM_PERMISSION_DENIED', service: SERVICE },
      });
    default:
      return new ApiFailure(code, 'Internal error encountered.');
  }
}

let nextIp = 1;
/** A public-looking IP from TEST-NET-3 (203.0.113.0/24 and up), unique per cluster. */
function fakeIp(): string {
  const n = nextIp++;
  return `203.0.${113 + Math.floor(n / 250)}.${(n % 250) + 1}`;
}

export { ClusterStatuses };
