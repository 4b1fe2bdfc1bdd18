import { describe, expect, it } from 'vitest';
import { helmNotes } from './helm.ts';
import { iamValues } from './fixtures.ts';

describe('NOTES.txt', () => {
  it('shows how to annotate a function in each namespace the release can see', async () => {
    const notes = await helmNotes(iamValues(['dev:*', 'staging:*']), { releaseName: 'cron', namespace: 'tenant-a' });
    for (const namespace of ['dev', 'staging']) {
      expect(notes).toContain(`faas-cli deploy -f stack.yaml --namespace ${namespace}`);
    }
    expect(notes).toContain('--annotation topic=cron-function');
    expect(notes).toContain('--annotation schedule="*/5 * * * *"');
    expect(notes).toContain('only sees functions in these namespaces');
    expect(notes).toMatch(/Policy and Role: openfaas\/tenant-a-cron-cron-connector-[0-9a-f]{8}/);
  });

  it('says a cluster-wide release sees every namespace', async () => {
    const notes = await helmNotes(iamValues(['*']), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('sees functions in every namespace');
    expect(notes).toContain('--namespace <namespace>');
  });

  it('uses the configured topic', async () => {
    const notes = await helmNotes({ topic: 'nightly' }, { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('--annotation topic=nightly');
    expect(notes).toContain('basic-auth credentials from Secret tenant-a/basic-auth');
  });

  it('shows how to tail the logs with stern', async () => {
    const notes = await helmNotes(iamValues(['dev:*']), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('stern -n tenant-a cron-cron-connector');
    expect(notes).toContain('kubectl logs -n tenant-a deploy/cron-cron-connector -f');
  });
});
