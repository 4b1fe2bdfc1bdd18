// Validates rendered objects: Kubernetes kinds (core, apps, networking, policy, RBAC) with
// kubernetes-models (the OpenAPI schemas of the API server), OpenFaaS IAM kinds with ajv against
// test/chart/iam.schema.json.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding, type IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { Manifest } from './helm.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

let iamValidator: ValidateFunction | undefined;

function iamSchema(): ValidateFunction {
  if (!iamValidator) {
    const schema: unknown = JSON.parse(readFileSync(path.join(here, 'iam.schema.json'), 'utf8'));
    iamValidator = new Ajv({ allErrors: true, strict: true }).compile(schema as object);
  }
  return iamValidator;
}

/** Throws with ajv's messages unless `obj` is a valid IAM Policy or Role. */
export function validateIam(obj: unknown): void {
  const validate = iamSchema();
  if (!validate(obj)) {
    const messages = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    throw new Error(`invalid IAM object: ${messages.join('; ')}`);
  }
}

// ServiceMonitor and PrometheusRule (monitoring.coreos.com/v1) have no model in kubernetes-models;
// the chart tests check their fields one by one instead, and the rules with promtool.
const structurallyChecked = new Set(['ServiceMonitor', 'PrometheusRule']);

/** Validates one rendered object; unknown kinds fail so that a new template gets a check. */
export function validateManifest(doc: Manifest): void {
  switch (doc.kind) {
    case 'Deployment':
      new Deployment(doc).validate();
      return;
    case 'Service':
      new Service(doc).validate();
      return;
    case 'ServiceAccount':
      new ServiceAccount(doc).validate();
      return;
    case 'ConfigMap':
      new ConfigMap(doc).validate();
      return;
    case 'NetworkPolicy':
      new NetworkPolicy(doc).validate();
      return;
    case 'PodDisruptionBudget':
      new PodDisruptionBudget(doc).validate();
      return;
    case 'RoleBinding':
      asRoleBinding(doc);
      return;
    case 'Role':
      // Two kinds share the name: the Kubernetes RBAC Role (leader election) and the IAM Role.
      if (doc.apiVersion === 'rbac.authorization.k8s.io/v1') new Role(doc).validate();
      else validateIam(doc);
      return;
    case 'Policy':
      validateIam(doc);
      return;
    default:
      if (structurallyChecked.has(doc.kind)) return;
      throw new Error(`no validator for kind ${doc.kind}`);
  }
}

/** The rendered NetworkPolicy as a typed kubernetes-models object (validated). */
export function asNetworkPolicy(doc: Manifest): NetworkPolicy {
  const policy = new NetworkPolicy(doc);
  policy.validate();
  return policy;
}

/** The rendered Deployment as a typed kubernetes-models object (validated). */
export function asDeployment(doc: Manifest): Deployment {
  const deployment = new Deployment(doc);
  deployment.validate();
  return deployment;
}

/** The rendered RBAC Role as a typed kubernetes-models object (validated). */
export function asRbacRole(doc: Manifest): Role {
  const role = new Role(doc);
  role.validate();
  return role;
}

/** The rendered RoleBinding as a typed kubernetes-models object (validated). */
export function asRoleBinding(doc: Manifest): RoleBinding {
  // roleRef is required by the type; validate() checks that it is there.
  const binding = new RoleBinding(doc as Manifest & Pick<IRoleBinding, 'roleRef'>);
  binding.validate();
  return binding;
}

/** The rendered PodDisruptionBudget as a typed kubernetes-models object (validated). */
export function asPodDisruptionBudget(doc: Manifest): PodDisruptionBudget {
  const budget = new PodDisruptionBudget(doc);
  budget.validate();
  return budget;
}

/** The rendered ConfigMap as a typed kubernetes-models object (validated). */
export function asConfigMap(doc: Manifest): ConfigMap {
  const configMap = new ConfigMap(doc);
  configMap.validate();
  return configMap;
}
