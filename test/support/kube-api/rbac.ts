/**
 * RBAC as the real authorizer evaluates a Role's rules, and the Forbidden answer of the
 * authorization filter (`responsewriters.Forbidden`).
 */
import type { RequestInfo } from './request-info.ts';
import { combinedResource } from './request-info.ts';
import { forbidden } from './status.ts';
import type { KubeStatusError } from './status.ts';

/** A rule as in a Kubernetes Role (`rbac.authorization.k8s.io/v1` PolicyRule), resource rules only. */
export interface PolicyRule {
  verbs: string[];
  apiGroups: string[];
  /** e.g. `leases`, `configmaps`, `serviceaccounts/token`, `*`, `*\/token`. */
  resources: string[];
  /** When set, only requests naming one of these objects match. `create` and `list` carry no name, so they never match. */
  resourceNames?: string[];
}

export function allowedByRules(rules: readonly PolicyRule[], info: RequestInfo): boolean {
  return rules.some((rule) => ruleAllows(rule, info));
}

function ruleAllows(rule: PolicyRule, info: RequestInfo): boolean {
  return (
    matchesOrStar(rule.verbs, info.verb) &&
    matchesOrStar(rule.apiGroups, info.apiGroup) &&
    resourceMatches(rule.resources, info) &&
    resourceNameMatches(rule.resourceNames, info.name)
  );
}

function matchesOrStar(values: readonly string[], wanted: string): boolean {
  return values.includes('*') || values.includes(wanted);
}

/** `rbac/v1.ResourceMatches`: `*`, the exact `resource[/subresource]`, or `*\/subresource`. */
function resourceMatches(resources: readonly string[], info: RequestInfo): boolean {
  const combined = combinedResource(info);
  return resources.some(
    (resource) => resource === '*' || resource === combined || (info.subresource !== '' && resource === `*/${info.subresource}`),
  );
}

/** `rbac/v1.ResourceNameMatches`: an empty list allows any name; otherwise the request must name one of them. */
function resourceNameMatches(names: readonly string[] | undefined, name: string): boolean {
  if (names === undefined || names.length === 0) return true;
  return name !== '' && names.includes(name);
}

/** `responsewriters.forbiddenMessage` wrapped in `errors.NewForbidden`, as the authorization filter answers. */
export function forbiddenFor(user: string, info: RequestInfo): KubeStatusError {
  if (!info.isResourceRequest) {
    return forbidden({ group: '', resource: '' }, '', `User ${JSON.stringify(user)} cannot ${info.verb} path ${JSON.stringify(info.path)}`);
  }
  const where =
    info.namespace === '' ? 'at the cluster scope' : `in the namespace ${JSON.stringify(info.namespace)}`;
  const cause = `User ${JSON.stringify(user)} cannot ${info.verb} resource ${JSON.stringify(combinedResource(info))} in API group ${JSON.stringify(info.apiGroup)} ${where}`;
  return forbidden({ group: info.apiGroup, resource: info.resource }, info.name, cause);
}
