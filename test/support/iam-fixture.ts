/**
 * Registers what an IAM-enabled install plus the cron-connector chart create: the `kubernetes`
 * JwtIssuer, and a Policy and Role for the connector's ServiceAccount.
 */
import type { GatewayEmulator } from './gateway.ts';
import { KubeIssuer } from './kube-issuer.ts';
import type { ServiceAccountTokenRequest } from './kube-issuer.ts';

export interface ConnectorIamOptions {
  /** Policy and Role name. Default `cron-connector`. */
  name?: string;
  /** The chart's `iam.resource`. Default `["*"]`. */
  resource?: string[];
  /** Default `openfaas`. */
  namespace?: string;
  /** Default `cron-connector`. */
  serviceAccount?: string;
  /** The JwtIssuer's `tokenExpiry`. Default `2h`, like the OpenFaaS chart. */
  tokenExpiry?: string;
  /** Reuse an issuer (e.g. for several connectors). Default: a new one. */
  kube?: KubeIssuer;
}

export interface ConnectorIam {
  kube: KubeIssuer;
  /** `system:serviceaccount:<namespace>:<serviceAccount>`. */
  subject: string;
  /** A projected token for the connector's ServiceAccount, audience = the system issuer. */
  serviceAccountToken(overrides?: Partial<ServiceAccountTokenRequest>): Promise<string>;
}

export async function setupConnectorIam(gateway: GatewayEmulator, opts: ConnectorIamOptions = {}): Promise<ConnectorIam> {
  const name = opts.name ?? 'cron-connector';
  const namespace = opts.namespace ?? 'openfaas';
  const serviceAccount = opts.serviceAccount ?? 'cron-connector';
  const subject = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const kube = opts.kube ?? (await KubeIssuer.create());

  gateway.addJwtIssuer('kubernetes', { iss: kube.iss, aud: [gateway.systemIssuer], tokenExpiry: opts.tokenExpiry ?? '2h', jwks: () => kube.jwks() });
  gateway.setPolicy(name, {
    statement: [{ sid: '1-fn-r', effect: 'Allow', action: ['Function:List', 'Namespace:List'], resource: opts.resource ?? ['*'] }],
  });
  gateway.setRole(name, {
    policy: [name],
    principal: { 'jwt:sub': [subject] },
    condition: { StringEqual: { 'jwt:iss': [kube.iss] } },
  });

  return {
    kube,
    subject,
    serviceAccountToken: (overrides = {}) => kube.issue({ namespace, serviceAccount, aud: gateway.systemIssuer, ...overrides }),
  };
}
