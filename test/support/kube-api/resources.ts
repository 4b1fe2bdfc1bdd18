/**
 * The emulated kinds — `coordination.k8s.io/v1` Lease and core `v1` ConfigMap — as the registry
 * knows them: typed decoding (unknown fields dropped, values normalised as the server re-encodes
 * them), validation on create and update, and the update strategy.
 */
import {
  child,
  decodeBool,
  decodeBytesMap,
  decodeInt,
  decodeMicroTime,
  decodeObjectList,
  decodeString,
  decodeStringList,
  decodeStringMap,
  decodeTime,
  noteUnknown,
  requireObject,
} from './go-json.ts';
import type { DecodeState, FieldContext, JsonObject } from './go-json.ts';
import { fieldForbidden, fieldInvalid, fieldRequired } from './status.ts';
import type { FieldError, GroupKind, GroupResource } from './status.ts';

export type KubeResource = 'leases' | 'configmaps';

export interface ResourceDef {
  resource: KubeResource;
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** `coordination.k8s.io/v1`, `v1`. */
  apiVersion: string;
  /** The strategy's `AllowUnconditionalUpdate()`: may an update leave `metadata.resourceVersion` empty? */
  allowUnconditionalUpdate: boolean;
  gr: GroupResource;
  gk: GroupKind;
  /** Decodes the fields of the kind (not apiVersion/kind), normalised; throws DecodeError. */
  decodeBody(body: JsonObject, state: DecodeState): JsonObject;
  validate(object: JsonObject): FieldError[];
  validateUpdate(object: JsonObject, old: JsonObject): FieldError[];
}

// ObjectMeta

/** ObjectMeta's fields, in its declaration order (the order the API server encodes them in). */
export const OBJECT_META_FIELDS: readonly string[] = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];

const META_KEYS = new Set(OBJECT_META_FIELDS);

function decodeMeta(value: unknown, kind: string, state: DecodeState): JsonObject {
  const raw = requireObject(value, { struct: kind, path: 'metadata' }, 'v1.ObjectMeta') ?? {};
  const ctx: FieldContext = { struct: 'ObjectMeta', path: 'metadata' };
  noteUnknown(raw, META_KEYS, ctx, state);
  const out: JsonObject = {};
  setString(out, 'name', decodeString(raw.name, child(ctx, 'name')));
  setString(out, 'generateName', decodeString(raw.generateName, child(ctx, 'generateName')));
  setString(out, 'namespace', decodeString(raw.namespace, child(ctx, 'namespace')));
  decodeString(raw.selfLink, child(ctx, 'selfLink')); // cleared by the server
  setString(out, 'uid', decodeString(raw.uid, child(ctx, 'uid'), 'types.UID'));
  setString(out, 'resourceVersion', decodeString(raw.resourceVersion, child(ctx, 'resourceVersion')));
  setDefined(out, 'generation', nonZero(decodeInt(raw.generation, child(ctx, 'generation'), 'int64')));
  setDefined(out, 'creationTimestamp', decodeTime(raw.creationTimestamp));
  setDefined(out, 'deletionTimestamp', decodeTime(raw.deletionTimestamp));
  setDefined(out, 'deletionGracePeriodSeconds', decodeInt(raw.deletionGracePeriodSeconds, child(ctx, 'deletionGracePeriodSeconds'), 'int64'));
  setNonEmptyMap(out, 'labels', decodeStringMap(raw.labels, child(ctx, 'labels')));
  setNonEmptyMap(out, 'annotations', decodeStringMap(raw.annotations, child(ctx, 'annotations')));
  setNonEmptyList(out, 'ownerReferences', decodeObjectList(raw.ownerReferences, child(ctx, 'ownerReferences'), '[]v1.OwnerReference'));
  setNonEmptyList(out, 'finalizers', decodeStringList(raw.finalizers, child(ctx, 'finalizers')));
  decodeObjectList(raw.managedFields, child(ctx, 'managedFields'), '[]v1.ManagedFieldsEntry'); // not emulated
  return out;
}

// Lease

const LEASE_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
const LEASE_SPEC_KEYS = new Set([
  'holderIdentity',
  'leaseDurationSeconds',
  'acquireTime',
  'renewTime',
  'leaseTransitions',
  'strategy',
  'preferredHolder',
]);

function decodeLease(body: JsonObject, state: DecodeState): JsonObject {
  noteUnknown(body, LEASE_KEYS, { struct: 'Lease', path: '' }, state);
  const metadata = decodeMeta(body.metadata, 'Lease', state);
  const raw = requireObject(body.spec, { struct: 'Lease', path: 'spec' }, 'v1.LeaseSpec') ?? {};
  const ctx: FieldContext = { struct: 'LeaseSpec', path: 'spec' };
  noteUnknown(raw, LEASE_SPEC_KEYS, ctx, state);
  const spec: JsonObject = {};
  setDefined(spec, 'holderIdentity', decodeString(raw.holderIdentity, child(ctx, 'holderIdentity')));
  setDefined(spec, 'leaseDurationSeconds', decodeInt(raw.leaseDurationSeconds, child(ctx, 'leaseDurationSeconds'), 'int32'));
  setDefined(spec, 'acquireTime', decodeMicroTime(raw.acquireTime));
  setDefined(spec, 'renewTime', decodeMicroTime(raw.renewTime));
  setDefined(spec, 'leaseTransitions', decodeInt(raw.leaseTransitions, child(ctx, 'leaseTransitions'), 'int32'));
  setDefined(spec, 'strategy', decodeString(raw.strategy, child(ctx, 'strategy'), 'v1.CoordinatedLeaseStrategy'));
  setDefined(spec, 'preferredHolder', decodeString(raw.preferredHolder, child(ctx, 'preferredHolder')));
  return { metadata, spec };
}

function validateLease(object: JsonObject): FieldError[] {
  const errors = validateMeta(object);
  const spec = (object.spec ?? {}) as JsonObject;
  const duration = spec.leaseDurationSeconds;
  if (typeof duration === 'number' && duration <= 0) errors.push(fieldInvalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = spec.leaseTransitions;
  if (typeof transitions === 'number' && transitions < 0) {
    errors.push(fieldInvalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  }
  if (typeof spec.preferredHolder === 'string' && spec.preferredHolder !== '' && (spec.strategy === undefined || spec.strategy === '')) {
    errors.push(fieldForbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  }
  return errors;
}

export const LEASES: ResourceDef = {
  resource: 'leases',
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  listKind: 'LeaseList',
  apiVersion: 'coordination.k8s.io/v1',
  allowUnconditionalUpdate: false,
  gr: { group: 'coordination.k8s.io', resource: 'leases' },
  gk: { group: 'coordination.k8s.io', kind: 'Lease' },
  decodeBody: decodeLease,
  validate: validateLease,
  validateUpdate: (object, old) => [...validateMetaUpdate(object, old), ...validateLease(object)],
};

// ConfigMap

const CONFIG_MAP_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'immutable', 'data', 'binaryData']);

function decodeConfigMap(body: JsonObject, state: DecodeState): JsonObject {
  noteUnknown(body, CONFIG_MAP_KEYS, { struct: 'ConfigMap', path: '' }, state);
  const ctx: FieldContext = { struct: 'ConfigMap', path: '' };
  const out: JsonObject = { metadata: decodeMeta(body.metadata, 'ConfigMap', state) };
  setDefined(out, 'immutable', decodeBool(body.immutable, child(ctx, 'immutable')));
  setNonEmptyMap(out, 'data', decodeStringMap(body.data, child(ctx, 'data')));
  setNonEmptyMap(out, 'binaryData', decodeBytesMap(body.binaryData, child(ctx, 'binaryData')));
  return out;
}

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

function validateConfigMap(object: JsonObject): FieldError[] {
  const errors = validateMeta(object);
  const data = (object.data ?? {}) as Record<string, string>;
  const binary = (object.binaryData ?? {}) as Record<string, string>;
  for (const [field, map] of [['data', data], ['binaryData', binary]] as const) {
    for (const key of Object.keys(map)) {
      const path = `${field}[${key}]`;
      if (key.length > 253) errors.push(fieldInvalid(path, key, 'must be no more than 253 characters'));
      if (!CONFIG_KEY.test(key)) errors.push(fieldInvalid(path, key, CONFIG_KEY_MESSAGE));
      if (key === '.' || key === '..' || key.startsWith('..')) errors.push(fieldInvalid(path, key, "must not be '.' or '..' and must not start with '..'"));
    }
  }
  for (const key of Object.keys(data)) {
    if (Object.hasOwn(binary, key)) errors.push(fieldInvalid(`data[${key}]`, key, 'duplicate of key present in binaryData'));
  }
  return errors;
}

function validateConfigMapUpdate(object: JsonObject, old: JsonObject): FieldError[] {
  const errors = [...validateMetaUpdate(object, old), ...validateConfigMap(object)];
  if (old.immutable === true) {
    const message = 'field is immutable when `immutable` is set';
    if (object.immutable !== true) errors.push(fieldForbidden('immutable', message));
    if (JSON.stringify(object.data ?? {}) !== JSON.stringify(old.data ?? {})) errors.push(fieldForbidden('data', message));
    if (JSON.stringify(object.binaryData ?? {}) !== JSON.stringify(old.binaryData ?? {})) errors.push(fieldForbidden('binaryData', message));
  }
  return errors;
}

export const CONFIG_MAPS: ResourceDef = {
  resource: 'configmaps',
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  listKind: 'ConfigMapList',
  apiVersion: 'v1',
  allowUnconditionalUpdate: true,
  gr: { group: '', resource: 'configmaps' },
  gk: { group: '', kind: 'ConfigMap' },
  decodeBody: decodeConfigMap,
  validate: validateConfigMap,
  validateUpdate: validateConfigMapUpdate,
};

export const RESOURCES: readonly ResourceDef[] = [LEASES, CONFIG_MAPS];

export function resourceDef(resource: KubeResource): ResourceDef {
  return resource === 'leases' ? LEASES : CONFIG_MAPS;
}

/** The definition serving `/api[s]/<group>/<version>/.../<resource>`, if any. */
export function findResource(group: string, version: string, resource: string): ResourceDef | undefined {
  return RESOURCES.find((def) => def.group === group && def.version === version && def.resource === resource);
}

// ObjectMeta validation

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function metaOf(object: JsonObject): JsonObject {
  return (object.metadata ?? {}) as JsonObject;
}

function validateMeta(object: JsonObject): FieldError[] {
  const name = metaOf(object).name;
  if (typeof name !== 'string' || name === '') return [fieldRequired('metadata.name', 'name or generateName is required')];
  const errors: FieldError[] = [];
  if (name.length > 253) errors.push(fieldInvalid('metadata.name', name, 'must be no more than 253 characters'));
  if (!DNS1123_SUBDOMAIN.test(name)) errors.push(fieldInvalid('metadata.name', name, DNS1123_SUBDOMAIN_MESSAGE));
  return errors;
}

function validateMetaUpdate(object: JsonObject, old: JsonObject): FieldError[] {
  const uid = metaOf(object).uid;
  if (uid !== metaOf(old).uid) return [fieldInvalid('metadata.uid', uid, 'field is immutable')];
  return [];
}

// helpers

function setDefined(target: JsonObject, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

/** Go's `omitempty` for strings. */
function setString(target: JsonObject, key: string, value: string | undefined): void {
  if (value !== undefined && value !== '') target[key] = value;
}

function setNonEmptyMap(target: JsonObject, key: string, value: Record<string, string> | undefined): void {
  if (value !== undefined && Object.keys(value).length > 0) target[key] = value;
}

function setNonEmptyList(target: JsonObject, key: string, value: unknown[] | undefined): void {
  if (value !== undefined && value.length > 0) target[key] = value;
}

function nonZero(value: number | undefined): number | undefined {
  return value === 0 ? undefined : value;
}
