import { describe, expect, it } from 'vitest';
import { invocationPath } from '../../src/gateway/client.ts';
import { parseFunctionList, parseNamespaceList } from '../../src/gateway/types.ts';
import { GatewayError } from '../../src/errors.ts';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

describe('gateway answers', () => {
  it('should treat absent and null annotations as empty and skip entries without a name', () => {
    const list = parseFunctionList(
      json([{ name: 'a' }, { name: 'b', annotations: null }, { name: 'c', annotations: { topic: 'x', n: 5 } }, { image: 'x' }, 7, null, { name: 9 }]),
      'dev',
      '/p',
    );
    expect(list).toEqual([
      { name: 'a', namespace: 'dev', annotations: {} },
      { name: 'b', namespace: 'dev', annotations: {} },
      { name: 'c', namespace: 'dev', annotations: { topic: 'x' } },
    ]);
  });

  it('should keep the namespace it asked for, whatever an item claims', () => {
    expect(parseFunctionList(json([{ name: 'a', namespace: 'prod' }]), 'dev', '/p')[0]?.namespace).toBe('dev');
  });

  it('should accept null as an empty list and drop non-string namespaces', () => {
    expect(parseNamespaceList(json(null), '/p')).toEqual([]);
    expect(parseNamespaceList(json(['dev', 3, '', 'dev', 'prod']), '/p')).toEqual(['dev', 'prod']);
  });

  it.each([
    ['<html><body>502 Bad Gateway</body></html>', /did not answer JSON: <html>/],
    ['{"items": []}', /object where a JSON array was expected/],
  ])('should refuse %j with one clear error', (body, expected) => {
    const attempt = (): unknown => parseFunctionList(Buffer.from(body), 'dev', '/system/functions');
    expect(attempt).toThrow(GatewayError);
    expect(attempt).toThrow(expected);
  });
});

describe('invocation path', () => {
  it('should path-encode the name and namespace', () => {
    expect(invocationPath('nodeinfo', 'dev', false)).toBe('/function/nodeinfo.dev');
    expect(invocationPath('a/b c', 'n%s', true)).toBe('/async-function/a%2Fb%20c.n%25s');
  });
});
