/**
 * The connector's configuration: read once from the environment into a frozen, typed object.
 * Nothing else in the code base reads process.env. Every bad value is reported together, each
 * naming the variable, the value and what is expected.
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { formatDuration, parseDuration } from './duration.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { hasControlCharacters } from './text.ts';

export type LogEncoding = 'console' | 'json';

/** Where the ServiceAccount token exchanged at the gateway comes from (token_source). */
export type TokenSource = 'file' | 'kubernetes';

/** A ServiceAccount, from token_service_account (`<namespace>/<name>`). */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

interface IamAuthBase {
  readonly mode: 'iam';
  readonly systemIssuer: string;
  readonly tokenUrl: string;
}

/**
 * IAM mode. token_source=file (the default, `tokenSource` absent): the projected token the kubelet
 * writes at tokenFile. token_source=kubernetes: a token for `serviceAccount`, minted with the
 * TokenRequest API through the kubeconfig (no file).
 */
export type IamAuthConfig =
  | (IamAuthBase & { readonly tokenSource?: 'file'; readonly tokenMountPath: string; readonly tokenFile: string })
  | (IamAuthBase & { readonly tokenSource: 'kubernetes'; readonly serviceAccount: ServiceAccountRef });

export type AuthConfig = IamAuthConfig | { readonly mode: 'basic'; readonly secretMountPath: string } | { readonly mode: 'none' };

export interface Config {
  readonly gatewayUrl: string;
  readonly auth: AuthConfig;
  readonly topic: string;
  readonly rebuildIntervalMs: number;
  readonly rebuildTimeoutMs: number;
  readonly asyncInvocation: boolean;
  readonly contentType: string;
  readonly upstreamTimeoutMs: number;
  readonly maxInflight: number;
  readonly timezone: string;
  readonly logEncoding: LogEncoding;
  readonly debug: boolean;
  readonly shutdownTimeoutMs: number;
  /** Port of /healthz, /readyz, /metrics and /schedules; 0 turns the listener off. */
  readonly httpPort: number;
  /** Retries of an invocation after a network error or 429/502/503/504. */
  readonly retries: number;
  /** Send a per-function access token (functions deployed with jwt_auth=true); IAM mode only. */
  readonly jwtAuth: boolean;
  /** Leader election on a Lease (leader_election=true), else undefined: this replica always invokes. */
  readonly leaderElection: LeaderElectionConfig | undefined;
  /** Non-fatal remarks about the configuration, logged once at start-up. */
  readonly warnings: readonly string[];
}

export interface LeaderElectionConfig {
  readonly leaseName: string;
  readonly leaseNamespace: string;
  /** This replica's name in the Lease (POD_NAME, else the host name). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** What the machine says, for defaults that are not in the environment (loadConfig reads them). */
export interface HostFacts {
  readonly hostname?: string | undefined;
  /** The ServiceAccount namespace file's content, in a Pod. */
  readonly serviceAccountNamespace?: string | undefined;
}

export const SERVICE_ACCOUNT_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export const TOKEN_FILE_NAME = 'openfaas-token';

export const DEFAULTS = Object.freeze({
  token_source: 'file',
  token_mount_path: '/var/secrets/tokens',
  secret_mount_path: '/var/secrets',
  topic: 'cron-function',
  rebuild_interval: '30s',
  rebuild_timeout: '10s',
  content_type: 'text/plain',
  upstream_timeout: '60s',
  max_inflight: '64',
  timezone: 'UTC',
  log_encoding: 'console',
  shutdown_timeout: '25s',
  http_port: '8081',
  retries: '2',
  lease_name: 'cron-connector',
  lease_duration: '15s',
  renew_deadline: '10s',
  retry_period: '2s',
});

export const MAX_RETRIES = 10;

export interface DurationBounds {
  readonly minMs: number;
  readonly maxMs: number;
  /** Why the bounds are what they are, shown with a refused value. */
  readonly why: string;
}

/** The range of each duration variable; the Helm chart refuses the same values (templates/_validate.tpl). */
export const DURATION_BOUNDS = Object.freeze({
  rebuild_interval: {
    minMs: 1000,
    maxMs: 24 * 3_600_000,
    why: 'each pass lists every namespace the IAM Policy allows; schedules have one-second resolution, so more often than once a second only loads the gateway',
  },
  rebuild_timeout: {
    minMs: 1000,
    maxMs: 10 * 60_000,
    why: 'a pass needs a token and a round trip per namespace; less than a second fails healthy passes',
  },
  upstream_timeout: {
    minMs: 1000,
    maxMs: 24 * 3_600_000,
    why: 'the longest a synchronous invocation may take; less than a second cuts off healthy functions',
  },
  shutdown_timeout: {
    minMs: 0,
    maxMs: 3_600_000,
    why: 'how long SIGTERM waits for invocations in flight; 0 does not wait; keep it below the Pod\'s terminationGracePeriodSeconds minus 5s',
  },
  lease_duration: {
    minMs: 1000,
    maxMs: 10 * 60_000,
    why: 'how long a standby waits without seeing a renewal before it takes over (client-go uses 15s)',
  },
  renew_deadline: {
    minMs: 500,
    maxMs: 10 * 60_000,
    why: 'how long the leader keeps invoking without a successful renewal; it must be below lease_duration',
  },
  retry_period: {
    minMs: 100,
    maxMs: 60_000,
    why: 'the time between renewals and between a standby\'s attempts; it must be below renew_deadline',
  },
} satisfies Record<string, DurationBounds>);

/** RFC 1123 subdomain, as Kubernetes requires of object names and namespaces are labels. */
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const MAX_INFLIGHT_LIMIT = 10_000;

/** Collects issues while reading variables, so every bad one is reported in one go. */
class Reader {
  readonly issues: ConfigIssue[] = [];
  private readonly env: Env;

  constructor(env: Env) {
    this.env = env;
  }

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  fail(variable: string, value: string | undefined, expected: string): void {
    this.issues.push({ variable, value, expected });
  }

  string(name: string, fallback: string, check?: (v: string) => string | undefined): string {
    const value = this.raw(name) ?? fallback;
    const problem = check?.(value);
    if (problem !== undefined) this.fail(name, value, problem);
    return value;
  }

  url(name: string, fallback?: string): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.fail(name, value, 'a URL such as http://gateway.openfaas:8080 (this variable is required)');
      return '';
    }
    const url = URL.canParse(value) ? new URL(value) : undefined;
    if (url === undefined || !/^https?:$/.test(url.protocol)) {
      this.fail(name, withoutSecrets(value), 'an http:// or https:// URL such as http://gateway.openfaas:8080');
      return '';
    }
    if (url.username !== '' || url.password !== '') {
      const instead = name === 'gateway_url' ? '; for basic auth set basic_auth=true and mount the basic-auth secret at secret_mount_path' : '';
      this.fail(name, withoutSecrets(value), `a URL without a user name or password: they would be printed wherever the URL is, and are never sent${instead}`);
      return '';
    }
    if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
      this.fail(name, withoutSecrets(value), 'a URL without a query string or fragment (the connector appends paths such as /system/functions to it)');
      return '';
    }
    return value.replace(/\/+$/, '');
  }

  bool(name: string, fallback = false): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    this.fail(name, value, 'true or false');
    return fallback;
  }

  duration(name: string, fallback: string, bounds: DurationBounds): number {
    const value = this.raw(name) ?? fallback;
    const ms = parseDuration(value);
    if (ms === undefined || ms < bounds.minMs || ms > bounds.maxMs) {
      const range = `from ${shortDuration(bounds.minMs)} to ${shortDuration(bounds.maxMs)}`;
      const problem = ms === undefined ? `a Go duration ${range} such as 30s, 5m or 1h30m` : `a duration ${range}`;
      this.fail(name, value, `${problem} (${bounds.why})`);
      return parseDuration(fallback) ?? 0;
    }
    return ms;
  }

  integer(name: string, fallback: string, min: number, max: number): number {
    const value = this.raw(name) ?? fallback;
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      this.fail(name, value, `a whole number from ${min} to ${max}`);
      return Number(fallback);
    }
    return n;
  }
}

/** 24h rather than 24h0m0s, 0 rather than 0ms: for the bounds in messages. */
function shortDuration(ms: number): string {
  return ms === 0 ? '0' : formatDuration(ms).replace(/(?<=[hm])0m0s$|(?<=[hm])0s$/, '');
}

/**
 * `value` for messages, without what could be a secret: anything before the last "@" (user info,
 * whatever characters the password holds) and any query or fragment (an access_token=...).
 */
function withoutSecrets(value: string): string {
  // an "@" after a "?" or "#" may belong to a secret in the query: nothing after the scheme is shown
  if (/[?#].*@/s.test(value)) return `${/^[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0] ?? ''}REDACTED`;
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, '$1REDACTED@').replace(/[?#].*$/s, '?REDACTED');
}

/**
 * Each Intl.DateTimeFormat costs native memory V8 does not see, so the answer is remembered:
 * 10,000 functions in one zone build one formatter, not 10,000.
 */
const zoneChecks = new Map<string, boolean>();
const ZONE_CHECKS_LIMIT = 1024;

export function isValidTimezone(zone: string): boolean {
  const known = zoneChecks.get(zone);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    valid = true;
  } catch {
    valid = false;
  }
  if (zoneChecks.size >= ZONE_CHECKS_LIMIT) zoneChecks.clear();
  zoneChecks.set(zone, valid);
  return valid;
}

const TOKEN_SOURCE_EXPECTED =
  'file (the projected ServiceAccount token at token_mount_path, in a Pod) or kubernetes (a token minted with the TokenRequest API through KUBECONFIG, e.g. from a laptop)';

function readTokenSource(r: Reader): TokenSource {
  const value = r.string('token_source', DEFAULTS.token_source, (v) => (v === 'file' || v === 'kubernetes' ? undefined : TOKEN_SOURCE_EXPECTED));
  return value === 'kubernetes' ? 'kubernetes' : 'file';
}

/** token_service_account: `<namespace>/<name>`, required with token_source=kubernetes. */
function readServiceAccount(r: Reader): ServiceAccountRef {
  const value = r.raw('token_service_account');
  const example = 'such as openfaas/cron-connector: the ServiceAccount whose subject (system:serviceaccount:<namespace>:<name>) your IAM Role names';
  if (value === undefined) {
    r.fail('token_service_account', value, `<namespace>/<name> of the ServiceAccount to mint tokens for, ${example} (required with token_source=kubernetes)`);
    return { namespace: '', name: '' };
  }
  const subject = /^system:serviceaccount:([^:]*):([^:]*)$/.exec(value);
  if (subject !== null) {
    r.fail('token_service_account', value, `<namespace>/<name>, not a subject: write ${subject[1] ?? ''}/${subject[2] ?? ''}`);
    return { namespace: '', name: '' };
  }
  const parts = value.split('/');
  const [namespace = '', name = ''] = parts;
  if (parts.length !== 2 || namespace === '' || name === '') {
    r.fail('token_service_account', value, `<namespace>/<name> (one "/"), ${example}`);
  } else if (!DNS_LABEL.test(namespace)) {
    r.fail('token_service_account', value, `<namespace>/<name> where the namespace is a Kubernetes namespace name: lower-case letters, digits and "-" (at most 63), ${example}`);
  } else if (!DNS_SUBDOMAIN.test(name)) {
    r.fail('token_service_account', value, `<namespace>/<name> where the name is a Kubernetes object name: lower-case letters, digits, "-" and "." (at most 253), ${example}`);
  }
  return { namespace, name };
}

function readAuth(r: Reader, gatewayUrl: string, warnings: string[]): AuthConfig {
  const basicAuth = r.bool('basic_auth');
  const issuer = r.raw('system_issuer');
  const tokenSource = readTokenSource(r);
  if (issuer !== undefined) {
    const systemIssuer = r.url('system_issuer');
    const tokenUrlOf = (): string => r.url('token_url', `${gatewayUrl || 'http://invalid'}/oauth/token`);
    if (basicAuth) warnings.push('basic_auth is ignored because system_issuer is set (IAM mode).');
    if (tokenSource === 'kubernetes') {
      const serviceAccount = readServiceAccount(r);
      if (r.raw('token_mount_path') !== undefined) warnings.push('token_mount_path is ignored because token_source=kubernetes (the token is minted with the TokenRequest API).');
      return { mode: 'iam', systemIssuer, tokenUrl: tokenUrlOf(), tokenSource, serviceAccount };
    }
    if (r.raw('token_service_account') !== undefined) warnings.push('token_service_account is ignored because token_source=file (the projected token at token_mount_path is used).');
    const tokenMountPath = r.string('token_mount_path', DEFAULTS.token_mount_path);
    return { mode: 'iam', systemIssuer, tokenMountPath, tokenFile: join(tokenMountPath, TOKEN_FILE_NAME), tokenUrl: tokenUrlOf() };
  }
  if (tokenSource === 'kubernetes') warnings.push('token_source=kubernetes is ignored: it needs IAM mode (set system_issuer).');
  if (basicAuth) {
    return { mode: 'basic', secretMountPath: r.string('secret_mount_path', DEFAULTS.secret_mount_path) };
  }
  return { mode: 'none' };
}

const noControlChars = (v: string): string | undefined =>
  hasControlCharacters(v) ? 'a value without control characters' : undefined;

function readLeaderElection(r: Reader, host: HostFacts): LeaderElectionConfig | undefined {
  if (!r.bool('leader_election')) return undefined;
  const leaseName = r.string('lease_name', DEFAULTS.lease_name, (v) =>
    DNS_SUBDOMAIN.test(v) ? undefined : 'a Kubernetes object name: lower-case letters, digits, "-" and "." (at most 253)',
  );
  const fromPod = r.raw('POD_NAMESPACE') ?? host.serviceAccountNamespace?.trim();
  const namespace = r.raw('lease_namespace') ?? fromPod;
  let leaseNamespace = '';
  if (namespace === undefined || namespace === '') {
    r.fail('lease_namespace', undefined, `the namespace of the Lease: set lease_namespace or POD_NAMESPACE (in a Pod it defaults to ${SERVICE_ACCOUNT_NAMESPACE_FILE})`);
  } else if (!DNS_LABEL.test(namespace)) {
    r.fail(r.raw('lease_namespace') === undefined ? 'POD_NAMESPACE' : 'lease_namespace', namespace, 'a Kubernetes namespace name: lower-case letters, digits and "-" (at most 63)');
  } else leaseNamespace = namespace;
  const identity = r.raw('POD_NAME') ?? host.hostname?.trim() ?? '';
  if (identity === '' || identity.length > 253 || hasControlCharacters(identity)) {
    r.fail('POD_NAME', identity, 'this replica\'s name in the Lease, without control characters (at most 253); the chart sets it from the downward API');
  }
  const leaseDurationMs = r.duration('lease_duration', DEFAULTS.lease_duration, DURATION_BOUNDS.lease_duration);
  const renewDeadlineMs = r.duration('renew_deadline', DEFAULTS.renew_deadline, DURATION_BOUNDS.renew_deadline);
  const retryPeriodMs = r.duration('retry_period', DEFAULTS.retry_period, DURATION_BOUNDS.retry_period);
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) {
    r.fail(
      'renew_deadline',
      `lease_duration=${formatDuration(leaseDurationMs)} renew_deadline=${formatDuration(renewDeadlineMs)} retry_period=${formatDuration(retryPeriodMs)}`,
      'lease_duration > renew_deadline > retry_period: the leader must stop before a standby may take over, and try to renew more than once before it stops',
    );
  }
  return { leaseName, leaseNamespace, identity, leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

/** Parses the environment. Pure: no file system access. Throws ConfigError listing every issue. */
export function parseConfig(env: Env, host: HostFacts = {}): Config {
  const r = new Reader(env);
  const warnings: string[] = [];
  const gatewayUrl = r.url('gateway_url');
  const config: Config = {
    gatewayUrl,
    auth: readAuth(r, gatewayUrl, warnings),
    topic: r.string('topic', DEFAULTS.topic, (v) =>
      /^[^,\s]+$/.test(v) ? undefined : 'a single topic name without commas or spaces, such as cron-function',
    ),
    rebuildIntervalMs: r.duration('rebuild_interval', DEFAULTS.rebuild_interval, DURATION_BOUNDS.rebuild_interval),
    rebuildTimeoutMs: r.duration('rebuild_timeout', DEFAULTS.rebuild_timeout, DURATION_BOUNDS.rebuild_timeout),
    asyncInvocation: r.bool('asynchronous_invocation'),
    contentType: r.string('content_type', DEFAULTS.content_type, noControlChars),
    upstreamTimeoutMs: r.duration('upstream_timeout', DEFAULTS.upstream_timeout, DURATION_BOUNDS.upstream_timeout),
    maxInflight: r.integer('max_inflight', DEFAULTS.max_inflight, 1, MAX_INFLIGHT_LIMIT),
    timezone: r.string('timezone', DEFAULTS.timezone, (v) =>
      isValidTimezone(v) ? undefined : 'an IANA time zone such as UTC, Europe/London or America/New_York',
    ),
    logEncoding: r.string('log_encoding', DEFAULTS.log_encoding, (v) =>
      v === 'console' || v === 'json' ? undefined : 'console or json',
    ) as LogEncoding,
    debug: r.bool('debug'),
    shutdownTimeoutMs: r.duration('shutdown_timeout', DEFAULTS.shutdown_timeout, DURATION_BOUNDS.shutdown_timeout),
    httpPort: r.integer('http_port', DEFAULTS.http_port, 0, 65_535),
    retries: r.integer('retries', DEFAULTS.retries, 0, MAX_RETRIES),
    jwtAuth: r.bool('jwt_auth'),
    leaderElection: readLeaderElection(r, host),
    warnings,
  };
  if (config.jwtAuth && config.auth.mode !== 'iam') {
    warnings.push('jwt_auth needs IAM mode (system_issuer): functions are invoked without a per-function token.');
  }
  if (r.issues.length > 0) throw new ConfigError(r.issues);
  return Object.freeze(config);
}

/** Checks what the configuration points at on disk (start-up only). Returns the problems found. */
export function checkFilesystem(config: Config): ConfigIssue[] {
  const auth = config.auth;
  if (auth.mode === 'iam' && auth.tokenSource !== 'kubernetes' && !isDirectory(auth.tokenMountPath)) {
    return [
      {
        variable: 'token_mount_path',
        value: auth.tokenMountPath,
        expected: `an existing directory holding the projected ServiceAccount token file ${TOKEN_FILE_NAME} (mount a projected serviceAccountToken volume there)`,
      },
    ];
  }
  if (auth.mode === 'basic' && !isDirectory(auth.secretMountPath)) {
    return [
      {
        variable: 'secret_mount_path',
        value: auth.secretMountPath,
        expected: 'an existing directory holding the files basic-auth-user and basic-auth-password',
      },
    ];
  }
  return [];
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Reads and checks everything; throws ConfigError with every issue found. */
export function loadConfig(env: Env): Config {
  const config = parseConfig(env, { hostname: hostname(), serviceAccountNamespace: readIfPresent(SERVICE_ACCOUNT_NAMESPACE_FILE) });
  const issues = checkFilesystem(config);
  if (issues.length > 0) throw new ConfigError(issues);
  return config;
}
