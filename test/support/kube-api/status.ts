/**
 * `metav1.Status` bodies and the constructors of `k8s.io/apimachinery/pkg/api/errors`, with their
 * messages, reasons and details as the real kube-apiserver writes them.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  /** The resource (`leases`) for most errors, the Kind (`Lease`) for Invalid, as the real API does. */
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

export interface GroupResource {
  group: string;
  resource: string;
}

export interface GroupKind {
  group: string;
  kind: string;
}

/** `schema.GroupResource.String()`: `leases.coordination.k8s.io`, `configmaps`. */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

/** `schema.GroupKind.String()`: `Lease.coordination.k8s.io`, `ConfigMap`. */
export function qualifiedKind(gk: GroupKind): string {
  return gk.group === '' ? gk.kind : `${gk.kind}.${gk.group}`;
}

/** A failure the emulator answers with a Status body. */
export class KubeStatusError extends Error {
  readonly code: number;
  readonly body: KubeStatus;
  readonly headers: Record<string, string>;

  constructor(code: number, reason: string, message: string, details?: StatusDetails, headers: Record<string, string> = {}) {
    super(message);
    this.code = code;
    this.headers = headers;
    this.body = statusBody('Failure', { message, reason, details, code });
  }
}

/** A Status with the real key order; empty strings and absent fields are left out (Go's `omitempty`). */
export function statusBody(
  status: 'Failure' | 'Success',
  fields: { message?: string; reason?: string; details?: StatusDetails; code?: number },
): KubeStatus {
  const body: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status };
  if (fields.message !== undefined && fields.message !== '') body.message = fields.message;
  if (fields.reason !== undefined && fields.reason !== '') body.reason = fields.reason;
  if (fields.details !== undefined) body.details = compactDetails(fields.details);
  if (fields.code !== undefined) body.code = fields.code;
  return body;
}

function compactDetails(details: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (details.name) out.name = details.name;
  if (details.group) out.group = details.group;
  if (details.kind) out.kind = details.kind;
  if (details.uid) out.uid = details.uid;
  if (details.causes !== undefined && details.causes.length > 0) out.causes = details.causes;
  if (details.retryAfterSeconds !== undefined && details.retryAfterSeconds > 0) out.retryAfterSeconds = details.retryAfterSeconds;
  return out;
}

function resourceDetails(gr: GroupResource, name: string): StatusDetails {
  return { name, group: gr.group, kind: gr.resource };
}

export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function notFound(gr: GroupResource, name: string): KubeStatusError {
  return new KubeStatusError(404, 'NotFound', `${qualifiedResource(gr)} ${goQuote(name)} not found`, resourceDetails(gr, name));
}

/** What the real server says for a path it does not serve. */
export function pathNotFound(): KubeStatusError {
  return new KubeStatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(gr: GroupResource, name: string): KubeStatusError {
  return new KubeStatusError(409, 'AlreadyExists', `${qualifiedResource(gr)} ${goQuote(name)} already exists`, resourceDetails(gr, name));
}

export function conflict(gr: GroupResource, name: string, cause = OPTIMISTIC_LOCK_MESSAGE): KubeStatusError {
  return new KubeStatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(gr)} ${goQuote(name)}: ${cause}`, resourceDetails(gr, name));
}

export function badRequest(message: string): KubeStatusError {
  return new KubeStatusError(400, 'BadRequest', message);
}

export function unauthorized(): KubeStatusError {
  return new KubeStatusError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(gr: GroupResource, name: string, cause: string): KubeStatusError {
  let message: string;
  if (gr.resource === '' && gr.group === '') message = `forbidden: ${cause}`;
  else if (name === '') message = `${qualifiedResource(gr)} is forbidden: ${cause}`;
  else message = `${qualifiedResource(gr)} ${goQuote(name)} is forbidden: ${cause}`;
  return new KubeStatusError(403, 'Forbidden', message, resourceDetails(gr, name));
}

export function methodNotAllowed(): KubeStatusError {
  return new KubeStatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function notAcceptable(accepted: string[]): KubeStatusError {
  return new KubeStatusError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

export function unsupportedMediaType(accepted: string[]): KubeStatusError {
  return new KubeStatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function requestEntityTooLarge(message: string): KubeStatusError {
  return new KubeStatusError(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`);
}

/** `errors.NewInternalError`. */
export function internalError(cause: string): KubeStatusError {
  return new KubeStatusError(500, 'InternalError', `Internal error occurred: ${cause}`, { causes: [{ message: cause }] });
}

/** A plain Go error that reached the response writer: 500, reason left empty (`StatusReasonUnknown`). */
export function unknownServerError(message: string): KubeStatusError {
  return new KubeStatusError(500, '', message);
}

/** `errors.NewGenericServerResponse(422, "", {}, "", serverMessage, 0, false)`, as for a failed JSON patch. */
export function unprocessable(serverMessage: string): KubeStatusError {
  return new KubeStatusError(422, 'Invalid', 'the server rejected our request due to an error in our request', {
    causes: [{ reason: 'UnexpectedServerResponse', message: serverMessage }],
  });
}

// Field errors (k8s.io/apimachinery/pkg/util/validation/field)

export type FieldErrorType = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  value?: unknown;
  detail: string;
}

export function fieldInvalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, value, detail };
}

export function fieldRequired(field: string, detail: string): FieldError {
  return { type: 'FieldValueRequired', field, detail };
}

export function fieldForbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, detail };
}

/** `field.Error.ErrorBody()`. */
function errorBody(error: FieldError): string {
  switch (error.type) {
    case 'FieldValueInvalid':
      return `Invalid value: ${goValue(error.value)}: ${error.detail}`;
    case 'FieldValueRequired':
      return error.detail === '' ? 'Required value' : `Required value: ${error.detail}`;
    case 'FieldValueForbidden':
      return error.detail === '' ? 'Forbidden' : `Forbidden: ${error.detail}`;
  }
}

/** `errors.NewInvalid(qualifiedKind, name, errs)`: 422, reason Invalid, one cause per field error. */
export function invalid(gk: GroupKind, name: string, errors: FieldError[]): KubeStatusError {
  const messages = errors.map((error) => `${error.field}: ${errorBody(error)}`);
  const aggregate = messages.length === 1 ? (messages[0] ?? '') : `[${messages.join(', ')}]`;
  return new KubeStatusError(422, 'Invalid', `${qualifiedKind(gk)} ${goQuote(name)} is invalid: ${aggregate}`, {
    name,
    group: gk.group,
    kind: gk.kind,
    causes: errors.map((error) => ({ reason: error.type, message: errorBody(error), field: error.field })),
  });
}

/** Go's `%q` for the strings the emulator meets (JSON string escaping is the same for printable text). */
export function goQuote(text: string): string {
  return JSON.stringify(text);
}

function goValue(value: unknown): string {
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return 'null';
  return JSON.stringify(value);
}

// Injected failures

const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** The Status the real server (or something in front of it) answers with for `code`. */
export function injectedFailure(code: number): KubeStatusError {
  const retry = RETRY_AFTER_STATUSES.has(code);
  const headers: Record<string, string> = retry ? { 'retry-after': '1' } : {};
  const details: StatusDetails | undefined = retry ? { retryAfterSeconds: 1 } : undefined;
  switch (code) {
    case 429:
      return new KubeStatusError(429, 'TooManyRequests', 'Too many requests, please try again later.', details, headers);
    case 500:
      return new KubeStatusError(500, 'InternalError', 'Internal error occurred: injected by the kube-api emulator', {
        causes: [{ message: 'injected by the kube-api emulator' }],
      });
    case 503:
      return new KubeStatusError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', details, headers);
    case 504:
      return new KubeStatusError(
        504,
        'Timeout',
        'the server was unable to return a response in the time allotted, but may still be processing the request',
        {},
      );
    case 401:
      return unauthorized();
    case 404:
      return pathNotFound();
    case 409:
      return new KubeStatusError(409, 'Conflict', 'the server reported a conflict', {});
    default:
      return new KubeStatusError(code, '', `the server responded with the status code ${code} but did not return more information`, {});
  }
}
