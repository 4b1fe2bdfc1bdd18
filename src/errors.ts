/**
 * Typed errors with stable codes. Every error the connector reports carries a `code` users can
 * search for in the README's troubleshooting table, and a diagnosis (cause and fix, from
 * src/diagnosis.ts) saying how to fix it. Messages never contain tokens, passwords,
 * Authorization headers or response bodies that could hold them.
 */
import { hintOf, type Diagnosis } from './diagnosis.ts';

export type ErrorCode =
  | 'E_CONFIG'
  | 'E_TOKEN_FILE'
  | 'E_TOKEN_EXCHANGE'
  | 'E_TOKEN_RESPONSE'
  | 'E_BASIC_AUTH'
  | 'E_GATEWAY_HTTP'
  | 'E_GATEWAY_NETWORK'
  | 'E_GATEWAY_RESPONSE'
  | 'E_GATEWAY_TIMEOUT'
  | 'E_GATEWAY_REQUEST'
  | 'E_KUBE_API'
  | 'E_KUBE_CONFIG';

export interface ErrorOptions {
  readonly diagnosis?: Diagnosis | undefined;
  readonly cause?: unknown;
}

export class ConnectorError extends Error {
  readonly code: ErrorCode;
  readonly diagnosis: Diagnosis | undefined;

  constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ConnectorError';
    this.code = code;
    this.diagnosis = opts.diagnosis;
  }

  /** Cause and fix in one line, for the `hint` field of log lines. */
  get hint(): string | undefined {
    return this.diagnosis === undefined ? undefined : hintOf(this.diagnosis);
  }
}

/** One bad configuration value: which variable, what it held, what is expected. */
export interface ConfigIssue {
  readonly variable: string;
  readonly value: string | undefined;
  readonly expected: string;
}

export class ConfigError extends ConnectorError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super('E_CONFIG', issues.map(formatIssue).join('\n'), {
      diagnosis: {
        cause: 'the environment holds values the connector cannot use',
        fix: 'Fix the environment variables above and start again; see the Configuration table in README.md.',
      },
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function formatIssue(issue: ConfigIssue): string {
  const shown = issue.value === undefined ? '(unset)' : JSON.stringify(issue.value);
  return `invalid configuration: ${issue.variable}=${shown}: expected ${issue.expected}`;
}

/** The OAuth error returned by a refused token exchange (RFC 6749 §5.2). */
export class TokenExchangeError extends ConnectorError {
  readonly status: number | undefined;
  readonly oauthError: string | undefined;
  readonly description: string | undefined;
  readonly subject: string | undefined;

  constructor(
    message: string,
    opts: ErrorOptions & {
      status?: number;
      oauthError?: string;
      description?: string;
      subject?: string;
      code?: ErrorCode;
    },
  ) {
    super(opts.code ?? 'E_TOKEN_EXCHANGE', message, opts);
    this.name = 'TokenExchangeError';
    this.status = opts.status;
    this.oauthError = opts.oauthError;
    this.description = opts.description;
    this.subject = opts.subject;
  }
}

/** A gateway REST call that did not produce a usable answer. */
export class GatewayError extends ConnectorError {
  readonly status: number | undefined;
  readonly path: string;

  constructor(
    code: Extract<ErrorCode, `E_GATEWAY_${string}`>,
    message: string,
    opts: ErrorOptions & { path: string; status?: number },
  ) {
    super(code, message, opts);
    this.name = 'GatewayError';
    this.status = opts.status;
    this.path = opts.path;
  }
}

/** A Kubernetes API call that did not produce a usable answer (status undefined: no answer). */
export class KubeApiError extends ConnectorError {
  readonly status: number | undefined;
  /** The Status body's reason (NotFound, Conflict, Forbidden, ...), when there was one. */
  readonly reason: string | undefined;

  constructor(message: string, opts: ErrorOptions & { status?: number | undefined; reason?: string | undefined; code?: Extract<ErrorCode, `E_KUBE_${string}`> }) {
    super(opts.code ?? 'E_KUBE_API', message, opts);
    this.name = 'KubeApiError';
    this.status = opts.status;
    this.reason = opts.reason;
  }
}

/**
 * An error's own message on one line. OpenSSL's messages ("402D…:error:0A00010B:SSL
 * routines:…:wrong version number:../deps/openssl/…:77:\n") are reduced to their reason.
 */
function messageOf(err: Error): string {
  const reason = (err as { reason?: unknown }).reason;
  if (typeof reason === 'string' && /^[0-9A-F]+:error:/.test(err.message)) return reason;
  const openssl = /^[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):/.exec(err.message);
  if (openssl?.[1] !== undefined) return openssl[1];
  return err.message.replace(/\s+/g, ' ').trim();
}

/** A short, single-line description of any thrown value, safe for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const own = messageOf(err);
    const inner = err.cause instanceof Error ? messageOf(err.cause) : undefined;
    const cause = inner !== undefined && !own.includes(inner) ? `: ${inner}` : '';
    const code = (err as { code?: unknown }).code;
    const suffix = typeof code === 'string' && !(err instanceof ConnectorError) && !own.includes(code) ? ` (${code})` : '';
    return `${own}${cause}${suffix}`;
  }
  return String(err).replace(/\s+/g, ' ').trim();
}
