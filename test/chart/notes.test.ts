import { describe, expect, it } from 'vitest';
import { helmNotes } from './helm.ts';
import { basicAuthValues, iamValues } from './fixtures.ts';

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
    const notes = await helmNotes(basicAuthValues({ topic: 'nightly' }), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('--annotation topic=nightly');
    expect(notes).toContain('basic-auth credentials from Secret tenant-a/basic-auth');
  });

  it('shows the default scope: the release namespace', async () => {
    const notes = await helmNotes(iamValues(), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('only sees functions in its own namespace (iam.resource is empty)');
    expect(notes).toContain('(Function:List and Namespace:List on tenant-a:*)');
    expect(notes).toContain('faas-cli deploy -f stack.yaml --namespace tenant-a');
  });

  it('says jwtAuth adds Function:Invoke and per-function tokens', async () => {
    const notes = await helmNotes(iamValues(['dev:*'], { jwtAuth: true }), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('(Function:List, Namespace:List and Function:Invoke on dev:*)');
    expect(notes).toContain('functions deployed with jwt_auth=true get a per-function token');
  });

  it('says functions with jwt_auth=true need jwtAuth when it is off', async () => {
    const notes = await helmNotes(iamValues(['dev:*']), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('Functions deployed with jwt_auth=true answer 401 until you set jwtAuth=true.');
  });

  it('says jwtAuth is ignored without IAM', async () => {
    const notes = await helmNotes(basicAuthValues({ jwtAuth: true }), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('jwtAuth is ignored without IAM');
  });

  it('warns that a NetworkPolicy without peers keeps Prometheus out too', async () => {
    const values = iamValues([], { networkPolicy: { enabled: true }, metrics: { serviceMonitor: { enabled: true } } });
    const notes = await helmNotes(values, { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain(
      'NetworkPolicy cron-cron-connector: nothing may reach port http (/metrics, /schedules): networkPolicy.from is empty, so Prometheus cannot scrape it either',
    );
  });

  it('shows how to tail the logs with stern', async () => {
    const notes = await helmNotes(iamValues(['dev:*']), { releaseName: 'cron', namespace: 'tenant-a' });
    expect(notes).toContain('stern -n tenant-a cron-cron-connector');
    expect(notes).toContain('kubectl logs -n tenant-a deploy/cron-cron-connector -f');
  });
});
