// Values that must not install, and the messages users see. Helm checks values.schema.json
// before rendering, so the schema message comes first; the template checks (reached here with
// --skip-schema-validation, as some users and tools run helm) say the same in plain words.
import { describe, expect, it } from 'vitest';
import { helmTemplate, helmTemplateError } from './helm.ts';
import { basicAuthValues, iamValues } from './fixtures.ts';

const skipSchema = { skipSchemaValidation: true };

describe('a bad iam.resource entry', () => {
  it.each(['dev', 'dev:fn', 'Dev:*', '*:*', 'dev:*,staging:*', 'dev/*', '-dev:*', ''])(
    'fails the schema for %j, naming the entry and both accepted forms',
    async (entry) => {
      const message = await helmTemplateError(iamValues(['prod:*', entry]));
      expect(message).toContain("at '/iam/resource/1'");
      expect(message).toContain("value must be '*'");
      expect(message).toContain(`'${entry}' does not match pattern`);
      expect(message).toContain(':\\\\*$');
    },
  );

  it.each(['dev', 'dev:fn', 'Dev:*', '*:*', ''])('fails the template check for %j with the expected form', async (entry) => {
    const message = await helmTemplateError(iamValues(['prod:*', entry]), skipSchema);
    expect(message).toContain(
      `iam.resource[1] "${entry}" is invalid: expected "*" (every namespace) or "<namespace>:*" where <namespace> is a DNS-1123 label, e.g. "dev:*"`,
    );
  });

  it('is rejected even with IAM off, so enabling IAM later cannot surprise', async () => {
    const message = await helmTemplateError({ iam: { enabled: false, resource: ['dev'] } });
    expect(message).toContain("at '/iam/resource/0'");
  });

  it('accepts "*" and "<namespace>:*" entries', async () => {
    await expect(helmTemplate(iamValues(['*', 'a:*', 'team-b:*', `${'x'.repeat(63)}:*`]))).resolves.toBeDefined();
  });
});

describe('iam.systemIssuer.url', () => {
  const required =
    "iam.systemIssuer.url is required: IAM is on by default (iam.enabled=true), so set iam.systemIssuer.url to the OpenFaaS system issuer (the gateway's public URL, e.g. https://gateway.example.com), or iam.enabled=false for basic auth";

  it('is required with IAM on, which is the default, and the message names the alternative', async () => {
    expect(await helmTemplateError({})).toContain(required);
    expect(await helmTemplateError({}, skipSchema)).toContain(required);
    expect(await helmTemplateError({ iam: { enabled: true, resource: ['dev:*'] } })).toContain(required);
  });

  it('is the only value a default install needs', async () => {
    const docs = await helmTemplate({ iam: { systemIssuer: { url: 'https://gateway.example.com' } } });
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'Policy', 'Role', 'ServiceAccount']);
  });

  it('is not required with IAM off', async () => {
    await expect(helmTemplate(basicAuthValues())).resolves.toBeDefined();
  });

  it('must be a URL', async () => {
    const values = iamValues(['dev:*'], { iam: { systemIssuer: { url: 'gateway.example.com' } } });
    expect(await helmTemplateError(values)).toContain("at '/iam/systemIssuer/url': 'gateway.example.com' does not match pattern");
    expect(await helmTemplateError(values, skipSchema)).toContain(
      'iam.systemIssuer.url "gateway.example.com" is not a URL: expected https://<host>',
    );
  });
});

describe('iam.tokenExpirationSeconds', () => {
  it('under 600 fails', async () => {
    const values = iamValues(['dev:*'], { iam: { tokenExpirationSeconds: 599 } });
    expect(await helmTemplateError(values)).toContain("at '/iam/tokenExpirationSeconds': minimum: got 599, want 600");
    expect(await helmTemplateError(values, skipSchema)).toContain(
      'iam.tokenExpirationSeconds 599 is too short: Kubernetes requires at least 600 seconds',
    );
  });

  it('of exactly 600 is accepted', async () => {
    await expect(helmTemplate(iamValues(['dev:*'], { iam: { tokenExpirationSeconds: 600 } }))).resolves.toBeDefined();
  });
});

describe('other values', () => {
  it('an existing ServiceAccount must be named with IAM', async () => {
    const values = iamValues(['dev:*'], { serviceAccount: { create: false } });
    expect(await helmTemplateError(values)).toContain(
      'serviceAccount.name is required when iam.enabled=true and serviceAccount.create=false',
    );
  });

  it('a misspelt key is rejected', async () => {
    const message = await helmTemplateError({ iam: { resources: ['dev:*'] } });
    expect(message).toMatch(/at '\/iam'.*'resources'/);
  });

  it('an unknown log format is rejected', async () => {
    const message = await helmTemplateError({ logs: { format: 'text' } });
    expect(message).toContain("at '/logs/format'");
    expect(message).toMatch(/'console'.*'json'/);
  });

  it('a duration must be a Go duration', async () => {
    const message = await helmTemplateError({ rebuildInterval: 30 });
    expect(message).toContain("at '/rebuildInterval'");
  });
});

describe('topic', () => {
  it('refuses a comma list, which the connector would refuse at start-up', async () => {
    const message = await helmTemplateError({ topic: 'cron-function,nightly' });
    expect(message).toContain("at '/topic'");
    expect(message).toContain("'cron-function,nightly' does not match pattern");
  });
});
