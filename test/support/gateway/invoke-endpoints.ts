/**
 * Function invocation: `/function/<name>.<namespace>` (sync) and `/async-function/<name>.<namespace>`
 * (202 + X-Call-Id). Public like OpenFaaS functions by default; a function deployed with the
 * `jwt_auth=true` environment variable requires a per-function token (audience `<namespace>:<name>`).
 */
import { randomUUID } from 'node:crypto';
import { preciseNow, sleep } from '../wait.ts';
import type { GatewayContext, GatewayRequest } from './context.ts';
import { DEFAULT_FUNCTION_NAMESPACE } from './function-registry.ts';
import type { FunctionStatus } from './function-registry.ts';
import { HttpError, bearerToken, headerRecord, methodNotAllowed, send, sendText } from './http-io.ts';
import type { Invocation } from './records.ts';

export const SYNC_PREFIX = '/function/';
export const ASYNC_PREFIX = '/async-function/';

interface FunctionRef {
  name: string;
  namespace: string;
}

export async function handleInvoke(context: GatewayContext, request: GatewayRequest): Promise<void> {
  const { req, url } = request;
  const kind = url.pathname.startsWith(ASYNC_PREFIX) ? 'async' : 'sync';
  if (kind === 'async' && req.method !== 'POST') throw methodNotAllowed('POST');
  const target = parseFunctionRef(url.pathname, kind === 'async' ? ASYNC_PREFIX : SYNC_PREFIX);
  const fn = context.registry.find(target.namespace, target.name);
  if (fn === undefined) throw new HttpError(404, 'function not found');
  await requireFunctionToken(context, request, fn, target);

  const invocation: Invocation = {
    kind,
    ...target,
    path: url.pathname,
    headers: headerRecord(req),
    body: request.body.toString('utf8'),
    at: preciseNow(),
  };
  context.records.invocations.push(invocation);
  if (kind === 'async') send(request.res, 202, '', { 'x-call-id': randomUUID() });
  else await answerAsFunction(context, request, target);
}

/** `<name>.<namespace>` split at the last dot, each part URL-decoded; no dot means `openfaas-fn`. */
export function parseFunctionRef(pathname: string, prefix: string): FunctionRef {
  const segment = pathname.slice(prefix.length).split('/')[0] ?? '';
  const dot = segment.lastIndexOf('.');
  const rawName = dot < 0 ? segment : segment.slice(0, dot);
  const rawNamespace = dot < 0 ? DEFAULT_FUNCTION_NAMESPACE : segment.slice(dot + 1);
  const ref = { name: decode(rawName), namespace: decode(rawNamespace) };
  if (ref.name === '' || ref.namespace === '') throw new HttpError(404, 'function not found');
  return ref;
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `invalid function name: ${part}`);
  }
}

async function requireFunctionToken(context: GatewayContext, { req }: GatewayRequest, fn: FunctionStatus, target: FunctionRef): Promise<void> {
  if (fn.envVars?.['jwt_auth'] !== 'true') return;
  const token = bearerToken(req.headers.authorization);
  if (token === undefined) throw new HttpError(401, 'unauthorized: missing bearer token');
  const result = await context.auth.systemIssuer.verify(token, `${target.namespace}:${target.name}`);
  if (!result.ok) throw new HttpError(401, `unauthorized: ${result.reason}`);
}

async function answerAsFunction(context: GatewayContext, { res }: GatewayRequest, target: FunctionRef): Promise<void> {
  const behavior = context.registry.behavior(target.namespace, target.name);
  if (behavior.delayMs > 0) await sleep(behavior.delayMs, context.closing);
  sendText(res, behavior.status, behavior.body);
}
