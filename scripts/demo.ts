/**
 * `npm run demo`: the real connector against an in-process OpenFaaS gateway emulator with IAM.
 *
 * The emulator (the one the tests use) registers the Kubernetes issuer, a Policy allowing
 * Function:List and Namespace:List on "dev:*" only, and a Role binding it to the connector's
 * ServiceAccount. It deploys:
 *   dev/nodeinfo      every 5 seconds      -> Added, Invoking, Response
 *   dev/report        09:00 London weekdays -> Added with its next run
 *   dev/broken        a bad schedule        -> a warning naming the reason
 *   staging/nodeinfo  every 5 seconds       -> never seen: the Policy does not cover staging
 * Stop with Ctrl-C. DEMO_SECONDS=N stops by itself after N seconds.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cronFunction, startGateway } from '../test/support/gateway.ts';
import { setupConnectorIam } from '../test/support/iam-fixture.ts';
import { ProjectedTokenDir } from '../test/support/token-dir.ts';

const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));

const gateway = await startGateway();
const iam = await setupConnectorIam(gateway, { resource: ['dev:*'], tokenExpiry: '1m' });
const tokens = await ProjectedTokenDir.create();
await tokens.write(await iam.serviceAccountToken());

gateway.setFunctions('dev', [
  cronFunction('nodeinfo', '*/5 * * * * *'),
  cronFunction('report', '0 9 * * MON-FRI', { 'com.openfaas.cron.timezone': 'Europe/London' }),
  cronFunction('broken', '*/5 * * *'),
]);
gateway.setFunctions('staging', [cronFunction('nodeinfo', '*/5 * * * * *')]);

process.stdout.write(`
cron-connector demo
  gateway emulator  ${gateway.url} (IAM on; access tokens live 1 minute and are renewed)
  connector         ServiceAccount ${iam.subject}
  IAM Policy        Function:List, Namespace:List on ["dev:*"]
  functions         dev/nodeinfo (*/5 s), dev/report (09:00 Europe/London, weekdays),
                    dev/broken (bad schedule), staging/nodeinfo (*/5 s, outside the Policy)
  expect            Added for dev/*, Invoking and Response every 5 s for nodeinfo.dev,
                    a warning for broken.dev, and nothing at all about staging.
Press Ctrl-C to stop.

`);

const child = spawn(process.execPath, [entry], {
  stdio: 'inherit',
  env: {
    PATH: process.env.PATH ?? '',
    gateway_url: gateway.url,
    system_issuer: gateway.systemIssuer,
    token_mount_path: tokens.path,
    rebuild_interval: '10s',
    http_port: '0',
    log_encoding: process.env.log_encoding ?? 'console',
  },
});

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const seconds = Number(process.env.DEMO_SECONDS ?? '0');
if (seconds > 0) setTimeout(stop, seconds * 1000).unref();

const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
const staging = gateway.invocations.filter((i) => i.namespace === 'staging').length;
const dev = gateway.invocations.filter((i) => i.namespace === 'dev').length;
process.stdout.write(`\ndemo: the gateway received ${dev} invocation(s) in dev and ${staging} in staging.\n`);
await gateway.close();
await tokens.remove();
process.exit(code);
