import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoopbackStandin } from '../loopback-standin.js';

/**
 * A Compute Engine metadata server stand-in on 127.0.0.1: what a Cloud
 * Function (or any Google Cloud runtime) gets Application Default
 * Credentials from. google-auth-library, through gcp-metadata, asks the
 * host named by GCE_METADATA_HOST instead of 169.254.169.254, so a function
 * started with `environment()` takes this server for its runtime's.
 *
 * Served as the real one serves it: every request must carry
 * `Metadata-Flavor: Google` (or the legacy `X-Google-Metadata-Request:
 * True`) and none may carry `X-Forwarded-For` (403 otherwise); every answer
 * carries `Metadata-Flavor: Google`. A path ending in `/` lists a
 * directory, one without it is redirected there (301); `?recursive=true`
 * gives a directory as JSON (keys in camelCase), `?alt=json` a value as
 * JSON. The service account's token comes as `{access_token, expires_in,
 * token_type: "Bearer"}`, the same token until it is due to expire, as the
 * real server caches it. Unknown paths answer 404.
 */
export interface MetadataStandinOptions {
  /** project/project-id: the project the function runs in. */
  projectId: string;
  /** project/numeric-project-id. */
  numericProjectId?: string;
  /** The access token of the default service account. */
  accessToken: string;
  /** Seconds a token lives, counted from when it is first handed out; default 3599. */
  tokenLifetimeSeconds?: number;
  /** Default: lifeboat@PROJECT.iam.gserviceaccount.com. */
  serviceAccountEmail?: string;
  /** Where the instance runs; default us-central1-a. */
  zone?: string;
}

export interface MetadataRequest {
  path: string;
  query: string;
  status: number;
}

type Leaf = () => string | object;
type Tree = { [name: string]: Tree | Leaf };

const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

export class MetadataStandin extends LoopbackStandin {
  /** Every request, in order, with the status it got. */
  readonly requests: MetadataRequest[] = [];
  private accessToken: string;
  private tokenExpires = 0;
  private failures: { remaining: number; status: number }[] = [];

  private constructor(private readonly options: MetadataStandinOptions) {
    super();
    this.accessToken = options.accessToken;
  }

  static start(options: MetadataStandinOptions): Promise<MetadataStandin> {
    return new MetadataStandin(options).listen();
  }

  /** The variables that make google-auth-library in a process use this server. */
  environment(): Record<string, string> {
    return { GCE_METADATA_HOST: this.host };
  }

  /** Tokens of the default service account handed out so far. */
  get tokensIssued(): number {
    return this.requests.filter((r) => r.status === 200 && /\/token$/.test(r.path)).length;
  }

  /** From now on, this token (as when the old one has expired). */
  rotateToken(token: string): void {
    this.accessToken = token;
    this.tokenExpires = 0;
  }

  /** The next `count` requests answer `status` (a metadata server hiccup). */
  failNext(count: number, status: 500 | 503 = 503): void {
    this.failures.push({ remaining: count, status });
  }

  private get email(): string {
    return (
      this.options.serviceAccountEmail ??
      `lifeboat@${this.options.projectId}.iam.gserviceaccount.com`
    );
  }

  private get numericProjectId(): string {
    return this.options.numericProjectId ?? '123456789012';
  }

  private tree(): Tree {
    const zone = this.options.zone ?? 'us-central1-a';
    const region = zone.slice(0, zone.lastIndexOf('-'));
    const account = (): Tree => ({
      aliases: () => 'default',
      email: () => this.email,
      scopes: () => `${CLOUD_PLATFORM}\n`,
      token: () => this.token(),
    });
    return {
      instance: {
        id: () => '4520031799277581759',
        zone: () => `projects/${this.numericProjectId}/zones/${zone}`,
        region: () => `projects/${this.numericProjectId}/regions/${region}`,
        'service-accounts': { default: account(), [this.email]: account() },
      },
      project: {
        'project-id': () => this.options.projectId,
        'numeric-project-id': () => this.numericProjectId,
      },
      universe: { 'universe-domain': () => 'googleapis.com' },
    };
  }

  private token(): object {
    const now = Date.now();
    // The server keeps a token until shortly before it expires, and says how long it has left.
    if (now >= this.tokenExpires - 60_000) {
      this.tokenExpires = now + (this.options.tokenLifetimeSeconds ?? 3599) * 1000;
    }
    return {
      access_token: this.accessToken,
      expires_in: Math.max(0, Math.floor((this.tokenExpires - now) / 1000)),
      token_type: 'Bearer',
    };
  }

  protected handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    const reply = (status: number, body: string, type = 'application/text'): void => {
      this.requests.push({ path: url.pathname, query: url.search, status });
      res.writeHead(status, {
        'metadata-flavor': 'Google',
        server: 'Metadata Server for VM',
        'content-type': type,
        'x-xss-protection': '0',
        'x-frame-options': 'SAMEORIGIN',
        ...(status === 301 ? { location: `http://${this.host}${url.pathname}/${url.search}` } : {}),
      });
      res.end(body);
    };
    const flavor = req.headers['metadata-flavor'];
    const legacy = req.headers['x-google-metadata-request'];
    if (flavor !== 'Google' && legacy !== 'True') {
      return reply(403, 'Missing required header "Metadata-Flavor": "Google"\n', 'text/html');
    }
    if (req.headers['x-forwarded-for'] !== undefined) {
      return reply(403, 'Forbidden: request with X-Forwarded-For header\n', 'text/html');
    }
    if (req.method !== 'GET') return reply(405, 'Method Not Allowed\n', 'text/html');
    const failure = this.failures[0];
    if (failure) {
      if (--failure.remaining <= 0) this.failures.shift();
      return reply(failure.status, 'Service Unavailable\n', 'text/html');
    }
    if (url.pathname === '/') return reply(200, 'computeMetadata/\n');
    const prefix = '/computeMetadata/v1';
    if (!url.pathname.startsWith(prefix)) return reply(404, 'Not Found\n', 'text/html');
    const rest = url.pathname.slice(prefix.length);
    const directory = rest === '' || rest.endsWith('/');
    const names = rest.split('/').filter((s) => s !== '');
    let node: Tree | Leaf = this.tree();
    for (const name of names) {
      const next: Tree | Leaf | undefined =
        typeof node === 'function' ? undefined : (node[decodeURIComponent(name)] ?? undefined);
      if (!next) return reply(404, 'Not Found\n', 'text/html');
      node = next;
    }
    if (typeof node === 'function') {
      if (directory) return reply(404, 'Not Found\n', 'text/html');
      const value = node();
      if (typeof value === 'object') return reply(200, JSON.stringify(value), 'application/json');
      return url.searchParams.get('alt') === 'json'
        ? reply(200, JSON.stringify(value), 'application/json')
        : reply(200, value);
    }
    if (!directory) return reply(301, '', 'text/html');
    if (url.searchParams.get('recursive') === 'true') {
      return reply(200, JSON.stringify(recursive(node)), 'application/json');
    }
    const listing = Object.entries(node).map(([k, v]) => (typeof v === 'function' ? k : `${k}/`));
    return reply(200, `${listing.join('\n')}\n`);
  }
}

/** Field names go to camelCase; names that are data (a service account's email) stay. */
const camel = (name: string): string =>
  name.includes('@') ? name : name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * A directory as `?recursive=true` gives it: values as they are, keys in
 * camelCase; tokens are left out (they are only handed out when asked for).
 */
function recursive(tree: Tree): object {
  return Object.fromEntries(
    Object.entries(tree)
      .filter(([k]) => k !== 'token')
      .map(([k, v]) => [camel(k), typeof v === 'function' ? v() : recursive(v)]),
  );
}
