/**
 * Typed errors with stable codes. Every error the connector reports carries a `code` users can
 * search for in the README's troubleshooting table, and a `hint` saying how to fix it.
 * Messages never contain tokens, passwords or Authorization headers.
 */
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
  | 'E_GATEWAY_REQUEST';

export class ConnectorError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'ConnectorError';
    this.code = code;
    this.hint = opts.hint;
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
      hint: 'Fix the environment variables above and start again; see the Configuration table in README.md.',
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
    opts: {
      status?: number;
      oauthError?: string;
      description?: string;
      subject?: string;
      hint?: string;
      cause?: unknown;
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
    opts: { path: string; status?: number; hint?: string; cause?: unknown },
  ) {
    super(code, message, opts);
    this.name = 'GatewayError';
    this.status = opts.status;
    this.path = opts.path;
  }
}

/** A short, single-line description of any thrown value, safe for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const repeated = err.cause instanceof Error && err.message.includes(err.cause.message);
    const cause = err.cause instanceof Error && !repeated ? `: ${err.cause.message}` : '';
    const code = (err as { code?: unknown }).code;
    const suffix = typeof code === 'string' && !(err instanceof ConnectorError) ? ` (${code})` : '';
    return `${err.message}${cause}${suffix}`;
  }
  return String(err);
}
