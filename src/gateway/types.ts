/**
 * Parsing of the gateway's JSON answers. The gateway's Go structs omit empty fields, and a
 * proxy may answer with HTML: anything unexpected is either tolerated (absent = empty) or
 * reported as one E_GATEWAY_RESPONSE error, never a crash.
 */
import { NOT_A_GATEWAY } from '../diagnosis.ts';
import { GatewayError } from '../errors.ts';
import { excerpt } from './http.ts';

export interface GatewayFunction {
  readonly name: string;
  readonly namespace: string;
  readonly annotations: Readonly<Record<string, string>>;
}

function parseJson(body: Buffer, path: string): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new GatewayError('E_GATEWAY_RESPONSE', `${path} did not answer JSON: ${excerpt(body, 120)}`, {
      path,
      diagnosis: NOT_A_GATEWAY,
    });
  }
}

function expectArray(value: unknown, path: string): unknown[] {
  if (value === null) return [];
  if (!Array.isArray(value)) {
    throw new GatewayError('E_GATEWAY_RESPONSE', `${path} answered ${typeof value} where a JSON array was expected`, {
      path,
      diagnosis: NOT_A_GATEWAY,
    });
  }
  return value;
}

export function parseNamespaceList(body: Buffer, path: string): string[] {
  const list = expectArray(parseJson(body, path), path);
  return [...new Set(list.filter((n): n is string => typeof n === 'string' && n !== ''))];
}

function readAnnotations(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  // the usual case, every value a string: the parsed object is used as it is
  const record = value as Record<string, unknown>;
  let strings = true;
  for (const key in record) {
    if (typeof record[key] !== 'string') {
      strings = false;
      break;
    }
  }
  if (strings) return record as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v === 'string') out[key] = v;
  }
  return out;
}

/** Functions with a usable name; entries of any other shape are skipped. */
export function parseFunctionList(body: Buffer, namespace: string, path: string): GatewayFunction[] {
  const list = expectArray(parseJson(body, path), path);
  const out: GatewayFunction[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    if (typeof record.name !== 'string' || record.name === '') continue;
    // The namespace asked for is authoritative: an item cannot move itself elsewhere.
    out.push({ name: record.name, namespace, annotations: readAnnotations(record.annotations) });
  }
  return out;
}
