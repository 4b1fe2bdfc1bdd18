/**
 * The patch formats of a PATCH request: JSON merge patch (RFC 7386) and JSON patch (RFC 6902),
 * with error texts close to the evanphx/json-patch library the kube-apiserver uses.
 */
import { defineOwn, isObject } from './go-json.ts';
import type { JsonObject } from './go-json.ts';

/** The patch document itself is malformed: the server answers 400. */
export class PatchDecodeError extends Error {}

/** The patch does not apply to the object (a failed `test`, a missing path): the server answers 422. */
export class PatchApplyError extends Error {}

/** RFC 7386: objects merge recursively, `null` removes a member, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = {};
  if (isObject(target)) for (const [key, value] of Object.entries(target)) defineOwn(result, key, value);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else defineOwn(result, key, mergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value));
  }
  return result;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
  hasValue: boolean;
}

/** `jsonpatch.DecodePatch`: the body must be a JSON array of operation objects. */
export function decodeJsonPatch(body: unknown): Operation[] {
  if (!Array.isArray(body)) {
    throw new PatchDecodeError(`json: cannot unmarshal ${isObject(body) ? 'object' : typeof body} into Go value of type jsonpatch.Patch`);
  }
  return body.map((item) => {
    if (!isObject(item)) throw new PatchDecodeError('json: cannot unmarshal into Go value of type jsonpatch.Operation');
    return {
      op: typeof item.op === 'string' ? item.op : '',
      path: typeof item.path === 'string' ? item.path : '',
      ...(typeof item.from === 'string' ? { from: item.from } : {}),
      value: item.value,
      hasValue: Object.hasOwn(item, 'value'),
    };
  });
}

/** RFC 6902, applied to a copy of `document`. */
export function applyJsonPatch(document: unknown, operations: Operation[]): unknown {
  let doc = structuredClone(document);
  for (const operation of operations) {
    doc = applyOperation(doc, operation);
  }
  return doc;
}

function applyOperation(doc: unknown, operation: Operation): unknown {
  switch (operation.op) {
    case 'add':
      return add(doc, operation.path, valueOf(operation), 'add');
    case 'remove':
      return remove(doc, operation.path, 'remove').doc;
    case 'replace': {
      const { doc: without } = remove(doc, operation.path, 'replace');
      return add(without, operation.path, valueOf(operation), 'replace');
    }
    case 'move': {
      const from = fromOf(operation);
      const { doc: without, value } = remove(doc, from, 'move');
      return add(without, operation.path, value, 'move');
    }
    case 'copy': {
      const from = fromOf(operation);
      const value = get(doc, from);
      if (value === undefined) throw new PatchApplyError(`copy operation does not apply: doc is missing from path: ${from}: missing value`);
      return add(doc, operation.path, structuredClone(value), 'copy');
    }
    case 'test': {
      const actual = get(doc, operation.path);
      const expected = operation.hasValue ? operation.value : null;
      if (actual === undefined ? expected === null : jsonEqual(actual, expected)) return doc;
      throw new PatchApplyError(`testing value ${operation.path} failed: test failed`);
    }
    default:
      throw new PatchApplyError(`Unexpected kind: ${operation.op}`);
  }
}

function valueOf(operation: Operation): unknown {
  if (!operation.hasValue) throw new PatchApplyError(`${operation.op} operation does not apply: missing value`);
  return structuredClone(operation.value);
}

function fromOf(operation: Operation): string {
  if (operation.from === undefined) throw new PatchApplyError(`${operation.op} operation does not apply: missing from path`);
  return operation.from;
}

/** RFC 6901 tokens. */
function tokens(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchApplyError(`doc is missing path: ${path}: missing value`);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, allowEnd: boolean): number | undefined {
  if (allowEnd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
  const index = Number(token);
  return index <= (allowEnd ? length : length - 1) ? index : undefined;
}

function get(doc: unknown, path: string): unknown {
  let node = doc;
  for (const token of tokens(path)) {
    if (Array.isArray(node)) {
      const index = arrayIndex(token, node.length, false);
      if (index === undefined) return undefined;
      node = node[index] as unknown;
    } else if (isObject(node) && Object.hasOwn(node, token)) {
      node = node[token];
    } else {
      return undefined;
    }
  }
  return node;
}

function parentOf(doc: unknown, path: string, op: string): { parent: unknown; key: string } {
  const all = tokens(path);
  const key = all.pop();
  if (key === undefined) return { parent: undefined, key: '' };
  const parentPath = all.map((token) => `/${token.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
  const parent = get(doc, parentPath);
  if (parent === undefined || (!Array.isArray(parent) && !isObject(parent))) {
    throw new PatchApplyError(`${op} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
  }
  return { parent, key };
}

function add(doc: unknown, path: string, value: unknown, op: string): unknown {
  if (path === '') return value;
  const { parent, key } = parentOf(doc, path, op);
  if (Array.isArray(parent)) {
    const index = arrayIndex(key, parent.length, true);
    if (index === undefined) throw new PatchApplyError(`${op} operation does not apply: index out of bounds: ${key}`);
    parent.splice(index, 0, value);
  } else {
    defineOwn(parent as JsonObject, key, value);
  }
  return doc;
}

function remove(doc: unknown, path: string, op: string): { doc: unknown; value: unknown } {
  if (path === '') return { doc: undefined, value: doc };
  const { parent, key } = parentOf(doc, path, op);
  const missing = (): PatchApplyError => new PatchApplyError(`${op} operation does not apply: doc is missing key: ${path}: missing value`);
  if (Array.isArray(parent)) {
    const index = arrayIndex(key, parent.length, false);
    if (index === undefined) throw missing();
    const [value] = parent.splice(index, 1) as unknown[];
    return { doc, value };
  }
  const object = parent as JsonObject;
  if (!Object.hasOwn(object, key)) throw missing();
  const value = object[key];
  delete object[key];
  return { doc, value };
}

/** JSON equality: objects compare by members regardless of order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}
