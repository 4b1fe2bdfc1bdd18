/**
 * The kube-apiserver's `RequestInfoFactory`: what a path and method mean (verb, API group, version,
 * namespace, resource, subresource, name) before any handler runs; authorization works on this.
 */

export interface RequestInfo {
  isResourceRequest: boolean;
  /** The URL path (decoded). */
  path: string;
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`; the lowercased method for other paths. */
  verb: string;
  apiPrefix: 'api' | 'apis' | '';
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

const METHOD_VERBS: Record<string, string> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const parts = splitPath(path);
  const nonResource: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
  };
  const [prefix] = parts;
  if (prefix !== 'api' && prefix !== 'apis') return nonResource;
  // /api/v1/<resource...> or /apis/<group>/<version>/<resource...>
  const minimum = prefix === 'api' ? 3 : 4;
  if (parts.length < minimum) return { ...nonResource, apiPrefix: prefix };

  const apiGroup = prefix === 'api' ? '' : (parts[1] ?? '');
  const apiVersion = prefix === 'api' ? (parts[1] ?? '') : (parts[2] ?? '');
  let rest = parts.slice(minimum - 1);

  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] ?? '';
    if (rest.length > 2) rest = rest.slice(2);
  }
  const resource = rest[0] ?? '';
  const name = rest[1] ?? '';
  const subresource = rest.length >= 3 ? rest.slice(2).join('/') : '';

  let verb = METHOD_VERBS[method] ?? method.toLowerCase();
  if (name === '') {
    if (verb === 'get') verb = isWatch(url) ? 'watch' : 'list';
    else if (verb === 'delete') verb = 'deletecollection';
  } else if (verb === 'get' && isWatch(url)) {
    verb = 'watch';
  }
  return { isResourceRequest: true, path, verb, apiPrefix: prefix, apiGroup, apiVersion, namespace, resource, subresource, name };
}

/** `leases`, or `serviceaccounts/token` for a subresource: what RBAC rules name and the request log records. */
export function combinedResource(info: RequestInfo): string {
  return info.subresource === '' ? info.resource : `${info.resource}/${info.subresource}`;
}

function isWatch(url: URL): boolean {
  const value = url.searchParams.get('watch');
  return value === 'true' || value === '1';
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return [];
  return trimmed.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  });
}
