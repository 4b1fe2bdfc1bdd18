/**
 * Policy evaluation: a statement allows action A on a resource when its effect is Allow, one of
 * its actions matches A (exact, `Function:*`-style prefix wildcard, or `*`) and one of its
 * resources matches (`*`, `<namespace>:*`, or `<namespace>:<function>`).
 */
import type { PolicySpec, PolicyStatement } from './iam-types.ts';

export interface Resource {
  namespace: string;
  /** A function name, for function-level checks such as `Function:Invoke`. */
  name?: string;
}

export function isAllowed(policies: readonly PolicySpec[], action: string, resource: Resource): boolean {
  return policies.some((policy) => policy.statement.some((statement) => statementAllows(statement, action, resource)));
}

function statementAllows(statement: PolicyStatement, action: string, resource: Resource): boolean {
  return (
    statement.effect === 'Allow' &&
    statement.action.some((pattern) => actionMatches(pattern, action)) &&
    statement.resource.some((pattern) => resourceMatches(pattern, resource))
  );
}

export function actionMatches(pattern: string, action: string): boolean {
  if (pattern === '*' || pattern === action) return true;
  return pattern.endsWith(':*') && action.startsWith(pattern.slice(0, -1));
}

export function resourceMatches(pattern: string, resource: Resource): boolean {
  if (pattern === '*') return true;
  const separator = pattern.indexOf(':');
  if (separator < 0) return false;
  const namespace = pattern.slice(0, separator);
  const name = pattern.slice(separator + 1);
  return namespace === resource.namespace && (name === '*' || name === resource.name);
}
