// The optional NetworkPolicy: the HTTP port serves /metrics and /schedules, which list a tenant's
// functions, so it can be admitted only from the peers the user names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ciDir, helmTemplate, helmTemplateError, ofKind, one, type Values } from './helm.ts';
import { iamValues } from './fixtures.ts';
import { asDeployment, asNetworkPolicy } from './validate.ts';

const prometheus = {
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
  podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
};

async function render(values: Values) {
  const docs = await helmTemplate(values, { releaseName: 'cron', namespace: 'tenant-a' });
  return { docs, deployment: asDeployment(one(docs, 'Deployment')) };
}

describe('the NetworkPolicy', () => {
  it('is not created by default', async () => {
    const { docs } = await render(iamValues());
    expect(ofKind(docs, 'NetworkPolicy')).toEqual([]);
  });

  it('admits only the named peers, only on the http port, and restricts ingress only', async () => {
    const { docs, deployment } = await render(iamValues([], { networkPolicy: { enabled: true, from: [prometheus] } }));
    const policy = asNetworkPolicy(one(docs, 'NetworkPolicy'));
    expect(policy.metadata?.namespace).toBe('tenant-a');
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: deployment.spec?.selector.matchLabels },
      policyTypes: ['Ingress'],
      ingress: [{ from: [prometheus], ports: [{ port: 'http', protocol: 'TCP' }] }],
    });
    const ports = deployment.spec?.template.spec?.containers[0]?.ports ?? [];
    expect(ports.map((p) => p.name)).toEqual(['http']);
  });

  it('admits nothing when no peer is named, rather than everything', async () => {
    const { docs } = await render(iamValues([], { networkPolicy: { enabled: true } }));
    const policy = asNetworkPolicy(one(docs, 'NetworkPolicy'));
    expect(policy.spec?.policyTypes).toEqual(['Ingress']);
    expect(policy.spec?.ingress).toEqual([]);
  });

  it('selects the connector Pod of this release only', async () => {
    const { docs } = await render(iamValues([], { networkPolicy: { enabled: true, from: [prometheus] } }));
    expect(asNetworkPolicy(one(docs, 'NetworkPolicy')).spec?.podSelector?.matchLabels).toEqual({
      'app.kubernetes.io/name': 'cron-connector',
      'app.kubernetes.io/instance': 'cron',
    });
  });

  it('renders the ci scenario with the Prometheus of kube-prometheus-stack', async () => {
    const values = parse(readFileSync(path.join(ciDir, 'network-policy-values.yaml'), 'utf8')) as Values;
    const { docs } = await render(values);
    expect(asNetworkPolicy(one(docs, 'NetworkPolicy')).spec?.ingress?.[0]?.from).toEqual([prometheus]);
    expect(ofKind(docs, 'ServiceMonitor')).toHaveLength(1);
  });

  it('refuses an empty peer, which Kubernetes would refuse too', async () => {
    const message = await helmTemplateError(iamValues([], { networkPolicy: { enabled: true, from: [{}] } }));
    expect(message).toContain("at '/networkPolicy/from/0'");
  });

  it('refuses a peer key that is not a NetworkPolicyPeer field', async () => {
    const message = await helmTemplateError(iamValues([], { networkPolicy: { enabled: true, from: [{ namespace: 'monitoring' }] } }));
    expect(message).toMatch(/at '\/networkPolicy\/from\/0'.*'namespace'/);
  });
});
