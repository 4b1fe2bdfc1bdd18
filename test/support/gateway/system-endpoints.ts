/** The `/system/*` REST API: namespaces and functions, filtered by the caller's permissions. */
import { authenticate, isCallerAllowed } from './auth.ts';
import type { Caller } from './auth.ts';
import type { GatewayContext, GatewayRequest } from './context.ts';
import { DEFAULT_FUNCTION_NAMESPACE } from './function-registry.ts';
import { HttpError, methodNotAllowed, sendJson } from './http-io.ts';
import { actOutScriptedResponse } from './scripted-response.ts';

/** `GET /system/namespaces`: the namespaces the caller may `Namespace:List` (or the scripted answer, if set). */
export async function handleListNamespaces(context: GatewayContext, request: GatewayRequest): Promise<void> {
  const caller = await authorizedGet(context, request);
  const scripted = context.scripted.namespaces;
  if (scripted !== undefined) {
    await actOutScriptedResponse(scripted, request.res, context.closing, request.record);
    return;
  }
  const visible = context.registry
    .namespaces()
    .filter((namespace) => isCallerAllowed(caller, 'Namespace:List', { namespace }, context.iam));
  sendJson(request.res, 200, visible);
}

/** `GET /system/functions?namespace=X`: requires `Function:List` on X; a scripted answer for X replaces the list. */
export async function handleListFunctions(context: GatewayContext, request: GatewayRequest): Promise<void> {
  const caller = await authorizedGet(context, request);
  const namespace = request.url.searchParams.get('namespace') || DEFAULT_FUNCTION_NAMESPACE;
  if (!isCallerAllowed(caller, 'Function:List', { namespace }, context.iam)) {
    throw new HttpError(403, `forbidden: Function:List is not allowed on namespace ${namespace}`);
  }
  const scripted = context.scripted.functions.get(namespace);
  if (scripted !== undefined) {
    await actOutScriptedResponse(scripted, request.res, context.closing, request.record);
    return;
  }
  const functions = context.registry.list(namespace);
  if (functions === undefined) throw new HttpError(404, `namespace ${namespace} not found`);
  sendJson(request.res, 200, functions);
}

/** Any other `/system/*` path: authenticated like the rest, then not found. */
export async function handleUnknownSystemPath(context: GatewayContext, request: GatewayRequest): Promise<void> {
  await authenticate(request.req.headers.authorization, context.auth);
  throw new HttpError(404, 'not found');
}

async function authorizedGet(context: GatewayContext, { req }: GatewayRequest): Promise<Caller> {
  const caller = await authenticate(req.headers.authorization, context.auth);
  if (req.method !== 'GET') throw methodNotAllowed('GET');
  return caller;
}
