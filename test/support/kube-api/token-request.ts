/**
 * `POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token` (authentication.k8s.io/v1
 * TokenRequest), in the order of the real `TokenREST.Create`: body decoding (400), name/namespace
 * match (422), the ServiceAccount lookup (404), defaults, validation (422), then a token signed by
 * the emulator's KubeIssuer (201).
 */
import { randomUUID } from 'node:crypto';
import type { KubeIssuer } from '../kube-issuer.ts';
import { DecodeError, decodeInt, decodeString, decodeStringList, isObject, nowTime } from './go-json.ts';
import type { JsonObject } from './go-json.ts';
import { checkJsonBody } from './http-io.ts';
import type { JsonAnswer } from './http-io.ts';
import type { ResourceRequest } from './handlers.ts';
import { badRequest, fieldInvalid, invalid, notFound } from './status.ts';
import type { FieldError } from './status.ts';

export const TOKEN_REQUEST_API_VERSION = 'authentication.k8s.io/v1';
const TOKEN_REQUEST_KIND = { group: 'authentication.k8s.io', kind: 'TokenRequest' };
/** `MinTokenAgeSec`: the real API refuses (422) anything shorter; it does not round up. */
export const MIN_TOKEN_SECONDS = 600;
export const DEFAULT_TOKEN_SECONDS = 3600;

export interface IssuedServiceAccountToken {
  namespace: string;
  serviceAccount: string;
  audiences: string[];
  expirationSeconds: number;
  /** `exp` of the token, Unix seconds. */
  exp: number;
  token: string;
}

export interface TokenRequestContext {
  issuer: KubeIssuer;
  /** Audiences a TokenRequest without `spec.audiences` gets (the API server's `--api-audiences`). */
  apiAudiences: readonly string[];
  /** The uid of a registered ServiceAccount, undefined when there is none. */
  serviceAccountUid(namespace: string, name: string): string | undefined;
  recordToken(token: IssuedServiceAccountToken): void;
}

export async function handleTokenRequest(ctx: TokenRequestContext, request: ResourceRequest): Promise<JsonAnswer> {
  checkJsonBody(request.contentType);
  const { namespace, name } = request.info;
  const body = decodeBody(request.body);

  const metadata = isObject(body.metadata) ? body.metadata : {};
  const requestedName = typeof metadata.name === 'string' ? metadata.name : '';
  const requestedNamespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
  if (requestedName !== '' && requestedName !== name) {
    throw invalid(TOKEN_REQUEST_KIND, name, [fieldInvalid('metadata.name', requestedName, 'must match the service account name if specified')]);
  }
  if (requestedNamespace !== '' && requestedNamespace !== namespace) {
    throw invalid(TOKEN_REQUEST_KIND, name, [
      fieldInvalid('metadata.namespace', requestedNamespace, 'must match the service account namespace if specified'),
    ]);
  }

  const uid = ctx.serviceAccountUid(namespace, name);
  if (uid === undefined) throw notFound({ group: '', resource: 'serviceaccounts' }, name);

  const spec = isObject(body.spec) ? body.spec : {};
  let audiences: string[];
  let expirationSeconds: number;
  try {
    audiences = decodeStringList(spec.audiences, { struct: 'TokenRequestSpec', path: 'spec.audiences' }) ?? [];
    expirationSeconds =
      decodeInt(spec.expirationSeconds, { struct: 'TokenRequestSpec', path: 'spec.expirationSeconds' }, 'int64') ?? DEFAULT_TOKEN_SECONDS;
  } catch (error) {
    if (error instanceof DecodeError) throw badRequest(`TokenRequest in version "v1" cannot be handled as a TokenRequest: ${error.message}`);
    throw error;
  }
  if (audiences.length === 0) audiences = [...ctx.apiAudiences];
  const creationTimestamp = nowTime();

  const errors: FieldError[] = [];
  if (expirationSeconds < MIN_TOKEN_SECONDS) {
    errors.push(fieldInvalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  }
  if (expirationSeconds > 2 ** 32) {
    errors.push(fieldInvalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration larger than 2^32 seconds'));
  }
  if (errors.length > 0) throw invalid(TOKEN_REQUEST_KIND, '', errors);

  const issuedAt = Math.floor(Date.now() / 1000);
  const token = await ctx.issuer.issue({
    namespace,
    serviceAccount: name,
    aud: audiences,
    lifetimeSeconds: expirationSeconds,
    issuedAt,
    // A token bound to nothing carries only the namespace and ServiceAccount, plus a jti.
    extra: { jti: randomUUID(), 'kubernetes.io': { namespace, serviceaccount: { name, uid } } },
  });
  const exp = issuedAt + expirationSeconds;
  ctx.recordToken({ namespace, serviceAccount: name, audiences: [...audiences], expirationSeconds, exp, token });

  const response: JsonObject = {
    kind: 'TokenRequest',
    apiVersion: TOKEN_REQUEST_API_VERSION,
    metadata: { name, namespace, creationTimestamp },
    spec: { audiences, expirationSeconds, boundObjectRef: isObject(spec.boundObjectRef) ? spec.boundObjectRef : null },
    status: { token, expirationTimestamp: `${new Date(exp * 1000).toISOString().slice(0, 19)}Z` },
  };
  return { status: 201, body: response };
}

function decodeBody(raw: Buffer): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    const detail = raw.length === 0 ? 'unexpected end of JSON input' : error instanceof Error ? error.message : String(error);
    throw badRequest(`the object provided is unrecognized (must be of type TokenRequest): couldn't get version/kind; json parse error: ${detail}`);
  }
  if (!isObject(value)) throw badRequest('the object provided is unrecognized (must be of type TokenRequest)');
  const apiVersion = decodeStringOrBadRequest(value.apiVersion);
  const kind = decodeStringOrBadRequest(value.kind);
  if (apiVersion !== '' && apiVersion !== TOKEN_REQUEST_API_VERSION) {
    throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${TOKEN_REQUEST_API_VERSION})`);
  }
  if (kind !== '' && kind !== 'TokenRequest') {
    throw badRequest(`${kind} in version "v1" cannot be handled as a TokenRequest: no kind ${JSON.stringify(kind)} is registered for version "${TOKEN_REQUEST_API_VERSION}"`);
  }
  return value;
}

function decodeStringOrBadRequest(value: unknown): string {
  try {
    return decodeString(value, { struct: '', path: 'kind' }) ?? '';
  } catch {
    throw badRequest('the object provided is unrecognized (must be of type TokenRequest)');
  }
}
