// Values files written for the Go connector's chart (faas-netes chart/cron-connector): the keys it
// shares with this chart keep their meaning; its images and its `pro.image` are refused with a
// message saying what to use instead, since the Go connector would crash-loop on this chart's
// probes.
import { describe, expect, it } from 'vitest';
import { helmProbe, helmTemplate, helmTemplateError, one, type Values } from './helm.ts';
import { connector, envOf, iamValues, podSpec } from './fixtures.ts';
import { asDeployment } from './validate.ts';

/** The Go chart's values.yaml as published (keys and defaults). */
const goChartValues: Values = {
  openfaasPro: false,
  pro: { image: 'ghcr.io/openfaasltd/cron-connector:0.2.14' },
  image: 'ghcr.io/openfaas/cron-connector:0.7.0',
  logs: { debug: false, format: 'console' },
  asyncInvocation: false,
  contentType: 'text/plain',
  rebuildInterval: '30s',
  gatewayURL: 'http://gateway.openfaas:8080',
  nodeSelector: {},
  tolerations: [],
  affinity: {},
  basicAuth: true,
  iam: {
    enabled: false,
    systemIssuer: { url: 'https://gateway.example.com' },
    kubernetesIssuer: { url: 'https://kubernetes.default.svc.cluster.local' },
    resource: ['*'],
  },
  resources: { requests: { memory: '64Mi', cpu: '100m' } },
  securityContext: { allowPrivilegeEscalation: false },
};

const useTs = 'use ghcr.io/openfaas/cron-connector-ts: remove image to get the chart\'s default, or set image.repository to ghcr.io/openfaas/cron-connector-ts (and image.tag)';

async function render(values: Values) {
  return asDeployment(one(await helmTemplate(values, { releaseName: 'cron', namespace: 'tenant-a' }), 'Deployment'));
}

describe("the Go chart's values file", () => {
  it('is refused at its image, saying what to use instead', async () => {
    const message = await helmTemplateError(goChartValues);
    expect(message).toContain('image "ghcr.io/openfaas/cron-connector:0.7.0" is the Go cron-connector, which this chart cannot run');
    expect(message).toContain(useTs);
  });

  it('installs once image and pro are removed, with the same meaning', async () => {
    const rest = Object.fromEntries(Object.entries(goChartValues).filter(([key]) => key !== 'image' && key !== 'pro'));
    const deployment = await render(rest);
    expect(envOf(deployment)).toMatchObject({
      gateway_url: 'http://gateway.openfaas:8080',
      basic_auth: 'true',
      asynchronous_invocation: 'false',
      content_type: 'text/plain',
      rebuild_interval: '30s',
      log_encoding: 'console',
      debug: 'false',
    });
    expect(connector(deployment).image).toMatch(/^ghcr\.io\/openfaas\/cron-connector-ts:/);
    expect(connector(deployment).resources?.requests).toEqual({ cpu: '100m', memory: '64Mi' });
    expect(podSpec(deployment).volumes?.map((v) => v.name)).toEqual(['basic-auth']);
  });
});

describe("the Go connector's images", () => {
  const goImages = [
    'ghcr.io/openfaas/cron-connector:0.7.0',
    'ghcr.io/openfaasltd/cron-connector:0.2.14',
    'openfaas/cron-connector:0.3.1',
    'docker.io/openfaas/cron-connector:latest',
    'zeerorg/cron-connector:v0.2.2',
    'ghcr.io/openfaas/cron-connector@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    'ghcr.io/openfaas/cron-connector',
    'ghcr.io/openfaasltd/cron-connector',
    'openfaas/cron-connector',
  ];
  const otherImages = [
    'ghcr.io/openfaas/cron-connector-ts:0.1.0',
    'ghcr.io/openfaas/cron-connector-ts',
    'registry.example.com/mirror/cron-connector-ts:0.1.0',
    'ghcr.io/openfaas/cron-connectors:1.0.0',
    'ghcr.io/openfaas/kafka-connector:0.7.0',
    'ghcr.io/openfaas/cron-connector-ts@sha256:0000000000000000000000000000000000000000000000000000000000000000',
  ];

  it('are recognised, and only they, by the pattern the chart checks', async () => {
    const inputs = [...goImages, ...otherImages];
    const template = '{{- $pattern := include "cron-connector.goImagePattern" . }}\nresults:\n{{- range .Values.probe }}\n  - {{ regexMatch $pattern . }}\n{{- end }}\n';
    const output = (await helmProbe(template, iamValues([], { probe: inputs }))) as { results: boolean[] };
    expect(output.results).toEqual([...goImages.map(() => true), ...otherImages.map(() => false)]);
  });

  it('are refused in the string form, saying to use cron-connector-ts', async () => {
    const message = await helmTemplateError(iamValues([], { image: 'ghcr.io/openfaasltd/cron-connector:0.2.14' }));
    expect(message).toContain(
      'image "ghcr.io/openfaasltd/cron-connector:0.2.14" is the Go cron-connector, which this chart cannot run: it serves no /healthz or /readyz, so the probes would restart it forever',
    );
    expect(message).toContain(useTs);
  });

  it('are refused as image.repository, saying to use cron-connector-ts', async () => {
    const message = await helmTemplateError(iamValues([], { image: { repository: 'openfaas/cron-connector', tag: '0.3.1' } }));
    expect(message).toContain('image.repository "openfaas/cron-connector" is the Go cron-connector, which this chart cannot run');
    expect(message).toContain(useTs);
  });

  it('are told apart from this connector and its mirrors', async () => {
    for (const image of ['ghcr.io/openfaas/cron-connector-ts:0.1.0', 'registry.example.com/mirror/cron-connector-ts:0.1.0']) {
      expect(connector(await render(iamValues([], { image }))).image).toBe(image);
    }
    const mirrored = await render(iamValues([], { image: { repository: 'registry.example.com/openfaas/cron-connector-ts' } }));
    expect(connector(mirrored).image).toMatch(/^registry\.example\.com\/openfaas\/cron-connector-ts:/);
  });
});

describe('pro', () => {
  it('pro.image is refused, saying which values to use instead', async () => {
    const message = await helmTemplateError(iamValues([], { pro: { image: 'ghcr.io/openfaasltd/cron-connector:0.2.14' } }));
    expect(message).toContain(
      'pro.image "ghcr.io/openfaasltd/cron-connector:0.2.14" is not used by this chart: it runs one image for every edition, ghcr.io/openfaas/cron-connector-ts (IAM included), so remove pro.image; to pin or mirror that image set image.repository, image.tag or image.digest',
    );
  });

  it('an empty pro and openfaasPro are accepted and change nothing', async () => {
    const plain = await render(iamValues());
    const compat = await render(iamValues([], { pro: {}, openfaasPro: true }));
    expect(compat.spec).toEqual(plain.spec);
  });

  it('another key under pro is refused by the schema', async () => {
    const message = await helmTemplateError(iamValues([], { pro: { tag: '0.2.14' } }));
    expect(message).toMatch(/at '\/pro'.*'tag'/);
  });
});
