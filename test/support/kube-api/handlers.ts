/**
 * The REST handlers of a namespaced resource — get, list, create, update, patch, delete,
 * deletecollection — in the order the real handler chain and generic registry check things:
 * decoding (400), name and namespace (400), existence (404/409), resourceVersion (422/409),
 * validation (422), and no-op updates that leave the object and its resourceVersion untouched.
 */
import { randomUUID } from 'node:crypto';
import { DecodeError, DecodeState, decodeStringList, decodeInt, isObject, nowTime } from './go-json.ts';
import type { JsonObject } from './go-json.ts';
import { checkJsonBody, mediaType, warningHeader } from './http-io.ts';
import type { JsonAnswer } from './http-io.ts';
import { PatchApplyError, PatchDecodeError, applyJsonPatch, decodeJsonPatch, jsonEqual, mergePatch } from './json-patch.ts';
import type { RequestInfo } from './request-info.ts';
import { OBJECT_META_FIELDS, type ResourceDef } from './resources.ts';
import {
  KubeStatusError,
  alreadyExists,
  badRequest,
  conflict,
  fieldInvalid,
  invalid,
  notFound,
  statusBody,
  unknownServerError,
  unprocessable,
  unsupportedMediaType,
} from './status.ts';
import type { ObjectStore } from './store.ts';

export interface ResourceRequest {
  info: RequestInfo;
  url: URL;
  body: Buffer;
  contentType: string | undefined;
}

export interface HandlerContext {
  store: ObjectStore;
  /** True when the `conflictNext` fault claims this write. */
  takeConflict(): boolean;
}

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
const PATCH_TYPES = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH];

type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

interface Decoded {
  object: JsonObject;
  warnings: string[];
}

// Reads

export function getObject(ctx: HandlerContext, def: ResourceDef, request: ResourceRequest): JsonAnswer {
  const { namespace, name } = request.info;
  const existing = ctx.store.get(def.resource, namespace, name);
  if (existing === undefined) throw notFound(def.gr, name);
  return { status: 200, body: structuredClone(existing) };
}

export function listObjects(ctx: HandlerContext, def: ResourceDef, request: ResourceRequest): JsonAnswer {
  rejectSelectors(request.url);
  const namespace = request.info.namespace === '' ? undefined : request.info.namespace;
  return { status: 200, body: listBody(def, ctx.store.revision, ctx.store.list(def.resource, namespace)) };
}

function listBody(def: ResourceDef, revision: string, objects: JsonObject[]): JsonObject {
  // Items of a typed list carry no apiVersion/kind, as the real server encodes them.
  const items = objects.map((object) => {
    const item = structuredClone(object);
    delete item.apiVersion;
    delete item.kind;
    return item;
  });
  return { kind: def.listKind, apiVersion: def.apiVersion, metadata: { resourceVersion: revision }, items };
}

function rejectSelectors(url: URL): void {
  for (const param of ['labelSelector', 'fieldSelector']) {
    if ((url.searchParams.get(param) ?? '') !== '') throw badRequest(`the kube-api emulator does not support ${param}`);
  }
}

// Create

export function createObject(ctx: HandlerContext, def: ResourceDef, request: ResourceRequest): JsonAnswer {
  checkJsonBody(request.contentType);
  const fieldValidation = fieldValidationOf(request.url);
  const dryRun = dryRunOf(request.url);
  const { object, warnings } = decodeRequestBody(def, request.body, fieldValidation);
  const { namespace } = request.info;
  const meta = metaOf(object);
  if (typeof meta.namespace === 'string' && meta.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  meta.namespace = namespace;
  // rest.BeforeCreate
  if ((meta.name ?? '') === '' && typeof meta.generateName === 'string' && meta.generateName !== '') {
    meta.name = `${meta.generateName}${randomSuffix()}`;
  }
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  meta.uid = randomUUID();
  meta.creationTimestamp = nowTime();
  const name = typeof meta.name === 'string' ? meta.name : '';
  const errors = def.validate(object);
  if (errors.length > 0) throw invalid(def.gk, name, errors);
  // etcd3 store.Create
  const requested = resourceVersionNumber(meta.resourceVersion);
  if (requested !== undefined && requested !== 0) throw unknownServerError('resourceVersion should not be set on objects to be created');
  if (ctx.store.get(def.resource, namespace, name) !== undefined) throw alreadyExists(def.gr, name);
  if (dryRun) delete meta.resourceVersion;
  else meta.resourceVersion = ctx.store.nextRevision();
  const stored = canonical(def, object);
  if (!dryRun) ctx.store.set(def.resource, namespace, name, stored);
  return { status: 201, body: structuredClone(stored), warnings };
}

// Update and patch

export function replaceObject(ctx: HandlerContext, def: ResourceDef, request: ResourceRequest): JsonAnswer {
  checkJsonBody(request.contentType);
  const dryRun = dryRunOf(request.url);
  const { object, warnings } = decodeRequestBody(def, request.body, fieldValidationOf(request.url));
  checkNameAndNamespace(object, request.info);
  const { namespace, name } = request.info;
  const existing = ctx.store.get(def.resource, namespace, name);
  if (existing === undefined) throw notFound(def.gr, name);
  if (ctx.takeConflict()) throw conflict(def.gr, name);
  return { status: 200, body: commitUpdate(ctx, def, request.info, object, existing, dryRun), warnings };
}

export function patchObject(ctx: HandlerContext, def: ResourceDef, request: ResourceRequest): JsonAnswer {
  const patchType = mediaType(request.contentType);
  if (!PATCH_TYPES.includes(patchType)) throw unsupportedMediaType(PATCH_TYPES);
  const fieldValidation = fieldValidationOf(request.url);
  const dryRun = dryRunOf(request.url);
  const patch = parsePatch(request.body, patchType);
  const { namespace, name } = request.info;
  const existing = ctx.store.get(def.resource, namespace, name);
  if (existing === undefined) throw notFound(def.gr, name);
  if (ctx.takeConflict()) throw conflict(def.gr, name);

  let patched: unknown;
  if (patchType === JSON_PATCH) {
    let operations;
    try {
      operations = decodeJsonPatch(patch);
    } catch (error) {
      if (error instanceof PatchDecodeError) throw badRequest(error.message);
      throw error;
    }
    try {
      patched = applyJsonPatch(existing, operations);
    } catch (error) {
      if (error instanceof PatchApplyError) throw unprocessable(error.message);
      throw error;
    }
  } else {
    // A strategic merge patch is a merge patch for these kinds: they have no lists with merge keys that matter.
    patched = mergePatch(existing, patch);
  }

  let decoded: Decoded;
  try {
    decoded = decodeObject(def, patched, fieldValidation);
  } catch (error) {
    if (error instanceof KubeStatusError && error.code === 400) {
      // jsonPatcher.applyPatchToCurrentObject: the patched object does not decode.
      throw invalid({ group: '', kind: '' }, '', [fieldInvalid('patch', JSON.stringify(patched), stripDecodePrefix(def, error.message))]);
    }
    throw error;
  }
  checkNameAndNamespace(decoded.object, request.info);
  return { status: 200, body: commitUpdate(ctx, def, request.info, decoded.object, existing, dryRun), warnings: decoded.warnings };
}

/** `registry.Store.Update` after the new object is known: resourceVersion, BeforeUpdate, validation, no-op detection. */
function commitUpdate(ctx: HandlerContext, def: ResourceDef, info: RequestInfo, object: JsonObject, existing: JsonObject, dryRun: boolean): JsonObject {
  const { namespace, name } = info;
  const meta = metaOf(object);
  const existingMeta = metaOf(existing);
  const existingVersion = text(existingMeta.resourceVersion);
  const resourceGroupKind = { group: def.group, kind: def.resource };
  const requested = resourceVersionNumber(meta.resourceVersion);
  if (requested === undefined) {
    throw invalid(resourceGroupKind, name, [fieldInvalid('resourceVersion', meta.resourceVersion, `strconv.ParseUint: parsing ${JSON.stringify(meta.resourceVersion)}: invalid syntax`)]);
  }
  if (requested === 0) {
    if (!def.allowUnconditionalUpdate) {
      throw invalid(resourceGroupKind, name, [fieldInvalid('metadata.resourceVersion', 0, 'must be specified for an update')]);
    }
  } else if (String(requested) !== existingVersion) {
    throw conflict(def.gr, name);
  }
  // rest.BeforeUpdate
  meta.namespace = namespace;
  if ((meta.uid ?? '') === '') meta.uid = existingMeta.uid;
  meta.creationTimestamp = existingMeta.creationTimestamp;
  if (existingMeta.generation === undefined) delete meta.generation;
  else meta.generation = existingMeta.generation;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  const errors = def.validateUpdate(object, existing);
  if (errors.length > 0) throw invalid(def.gk, name, errors);

  meta.resourceVersion = existingVersion;
  const updated = canonical(def, object);
  // etcd3 GuaranteedUpdate: an update that changes nothing is not written and keeps its resourceVersion.
  if (jsonEqual(updated, existing)) return structuredClone(existing);
  if (dryRun) return updated;
  metaOf(updated).resourceVersion = ctx.store.nextRevision();
  ctx.store.set(def.resource, namespace, name, updated);
  return structuredClone(updated);
}

function checkNameAndNamespace(object: JsonObject, info: RequestInfo): void {
  const meta = metaOf(object);
  const objectName = typeof meta.name === 'string' ? meta.name : '';
  if (objectName !== info.name) {
    throw badRequest(`the name of the object (${objectName}) does not match the name on the URL (${info.name})`);
  }
  if (typeof meta.namespace === 'string' && meta.namespace !== '' && meta.namespace !== info.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

function parsePatch(body: Buffer, patchType: string): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    if (patchType === JSON_PATCH) throw badRequest(errorMessage(error));
    throw badRequest('Invalid JSON Patch');
  }
}

// Delete

export function deleteObject(ctx: HandlerContext, def: ResourceDef, request: ResourceRequest): JsonAnswer {
  const options = decodeDeleteOptions(request);
  const { namespace, name } = request.info;
  const existing = ctx.store.get(def.resource, namespace, name);
  if (existing === undefined) throw notFound(def.gr, name);
  const meta = metaOf(existing);
  const key = `/registry/${def.resource}/${namespace}/${name}`;
  const failed = (detail: string): KubeStatusError =>
    conflict(def.gr, name, `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${detail}`);
  if (options.uid !== undefined && options.uid !== meta.uid) {
    throw failed(`UID in precondition: ${options.uid}, UID in object meta: ${text(meta.uid)}`);
  }
  if (options.resourceVersion !== undefined && options.resourceVersion !== meta.resourceVersion) {
    throw failed(`ResourceVersion in precondition: ${options.resourceVersion}, ResourceVersion in object meta: ${text(meta.resourceVersion)}`);
  }
  if (!options.dryRun) {
    ctx.store.delete(def.resource, namespace, name);
    ctx.store.nextRevision();
  }
  return {
    status: 200,
    body: statusBody('Success', { details: { name, group: def.group, kind: def.resource, uid: text(meta.uid) } }),
  };
}

export function deleteCollection(ctx: HandlerContext, def: ResourceDef, request: ResourceRequest): JsonAnswer {
  rejectSelectors(request.url);
  const options = decodeDeleteOptions(request);
  const { namespace } = request.info;
  const objects = ctx.store.list(def.resource, namespace);
  if (!options.dryRun) {
    for (const object of objects) {
      ctx.store.delete(def.resource, namespace, text(metaOf(object).name));
      ctx.store.nextRevision();
    }
  }
  return { status: 200, body: listBody(def, ctx.store.revision, objects) };
}

interface DeleteOptions {
  uid?: string;
  resourceVersion?: string;
  dryRun: boolean;
}

function decodeDeleteOptions(request: ResourceRequest): DeleteOptions {
  const options: DeleteOptions = { dryRun: dryRunOf(request.url) };
  if (request.body.length === 0) return options;
  checkJsonBody(request.contentType);
  let body: unknown;
  try {
    body = JSON.parse(request.body.toString('utf8'));
  } catch (error) {
    throw badRequest(`the object provided is unrecognized (must be of type DeleteOptions): couldn't get version/kind; json parse error: ${errorMessage(error)} (${summarize(request.body)})`);
  }
  if (!isObject(body)) throw badRequest('the object provided is unrecognized (must be of type DeleteOptions)');
  try {
    decodeInt(body.gracePeriodSeconds, { struct: 'DeleteOptions', path: 'gracePeriodSeconds' }, 'int64');
    const dryRun = decodeStringList(body.dryRun, { struct: 'DeleteOptions', path: 'dryRun' });
    if (dryRun?.includes('All') === true) options.dryRun = true;
    const preconditions = body.preconditions;
    if (isObject(preconditions)) {
      if (typeof preconditions.uid === 'string') options.uid = preconditions.uid;
      if (typeof preconditions.resourceVersion === 'string') options.resourceVersion = preconditions.resourceVersion;
    } else if (preconditions !== undefined && preconditions !== null) {
      throw new DecodeError('json: cannot unmarshal into Go struct field DeleteOptions.preconditions of type v1.Preconditions');
    }
  } catch (error) {
    if (error instanceof DecodeError) throw badRequest(error.message);
    throw error;
  }
  return options;
}

// Decoding

function decodeRequestBody(def: ResourceDef, body: Buffer, fieldValidation: FieldValidation): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    const detail = body.length === 0 ? 'unexpected end of JSON input' : errorMessage(error);
    throw badRequest(
      `the object provided is unrecognized (must be of type ${def.kind}): couldn't get version/kind; json parse error: ${detail} (${summarize(body)})`,
    );
  }
  return decodeObject(def, value, fieldValidation);
}

/** Decodes a JSON value into the kind; every failure is a 400 BadRequest as the create/update handlers answer it. */
function decodeObject(def: ResourceDef, value: unknown, fieldValidation: FieldValidation): Decoded {
  if (!isObject(value)) {
    const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value === 'boolean' ? 'bool' : typeof value;
    throw badRequest(
      `the object provided is unrecognized (must be of type ${def.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${type} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`,
    );
  }
  const apiVersion = value.apiVersion ?? '';
  const kind = value.kind ?? '';
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    throw badRequest(`the object provided is unrecognized (must be of type ${def.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal non-string into Go struct field .apiVersion of type string`);
  }
  if (apiVersion !== '' && apiVersion !== def.apiVersion) {
    throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${def.apiVersion})`);
  }
  if (kind !== '' && kind !== def.kind) {
    throw badRequest(`${kind} in version ${JSON.stringify(def.version)} cannot be handled as a ${def.kind}: no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(def.apiVersion)}`);
  }
  const state = new DecodeState();
  let decoded: JsonObject;
  try {
    decoded = def.decodeBody(value, state);
  } catch (error) {
    if (error instanceof DecodeError) throw badRequest(`${decodePrefix(def)}${error.message}`);
    throw error;
  }
  const unknown = state.unknownFields.map((path) => `unknown field ${JSON.stringify(path)}`);
  if (fieldValidation === 'Strict' && unknown.length > 0) throw badRequest(`strict decoding error: ${unknown.join(', ')}`);
  return { object: { kind: def.kind, apiVersion: def.apiVersion, ...decoded }, warnings: fieldValidation === 'Warn' ? unknown.map(warningHeader) : [] };
}

function decodePrefix(def: ResourceDef): string {
  return `${def.kind} in version ${JSON.stringify(def.version)} cannot be handled as a ${def.kind}: `;
}

function stripDecodePrefix(def: ResourceDef, message: string): string {
  const prefix = decodePrefix(def);
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

function fieldValidationOf(url: URL): FieldValidation {
  const value = url.searchParams.get('fieldValidation') ?? '';
  if (value === '' || value === 'Warn') return 'Warn';
  if (value === 'Strict' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(value)}: supported values: "Ignore", "Strict", "Warn"`);
}

function dryRunOf(url: URL): boolean {
  const values = url.searchParams.getAll('dryRun');
  for (const value of values) {
    if (value !== 'All') throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(value)}: supported values: "All"`);
  }
  return values.length > 0;
}

// Objects

function metaOf(object: JsonObject): JsonObject {
  if (!isObject(object.metadata)) object.metadata = {};
  return object.metadata as JsonObject;
}

/** What the emulator encodes of ObjectMeta, in order: neither selfLink (gone since 1.20) nor managedFields (no server-side apply here). */
const META_ORDER = OBJECT_META_FIELDS.filter((f) => f !== 'selfLink' && f !== 'managedFields');

/** The object as the server encodes it: kind, apiVersion, metadata in ObjectMeta's field order, then the rest. */
export function canonical(def: ResourceDef, object: JsonObject): JsonObject {
  const meta = metaOf(object);
  const orderedMeta: JsonObject = {};
  for (const key of META_ORDER) if (meta[key] !== undefined && meta[key] !== '') orderedMeta[key] = meta[key];
  const out: JsonObject = { kind: def.kind, apiVersion: def.apiVersion, metadata: orderedMeta };
  for (const [key, value] of Object.entries(object)) {
    if (key !== 'kind' && key !== 'apiVersion' && key !== 'metadata') out[key] = value;
  }
  return structuredClone(out);
}

/** `APIObjectVersioner.ParseResourceVersion`: '' and '0' mean none (0); undefined when not a number. */
function resourceVersionNumber(value: unknown): number | undefined {
  if (value === undefined || value === '' || value === '0') return 0;
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let suffix = '';
  for (let i = 0; i < 5; i += 1) suffix += alphabet[Math.floor(Math.random() * alphabet.length)] ?? 'x';
  return suffix;
}

/** `summarizeData`: a JSON object's first 30 bytes, anything else in hex. */
function summarize(body: Buffer): string {
  if (body.length === 0) return '<empty>';
  const head = body.subarray(0, 30);
  const more = body.length > 30 ? ' ...' : '';
  return body[0] === 0x7b ? `${head.toString('utf8')}${more}` : `${head.toString('hex')}${more}`;
}

/** A metadata string field, '' when absent. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
