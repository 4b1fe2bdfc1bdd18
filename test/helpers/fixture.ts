/**
 * One IAM-enabled world for an integration test: the gateway emulator, a Kubernetes issuer, the
 * connector's Role and Policy, and a projected token directory, plus the env that points the real
 * connector at them.
 */
import { afterEach } from 'vitest';
import { stopAllConnectors, startConnector, takeStartedConnectors, type ConnectorProcess, type LogLine } from '../support/connector.ts';
import { startGateway, type GatewayEmulator, type GatewayOptions } from '../support/gateway.ts';
import { setupConnectorIam, type ConnectorIam, type ConnectorIamOptions } from '../support/iam-fixture.ts';
import { ProjectedTokenDir } from '../support/token-dir.ts';

export interface World {
  gateway: GatewayEmulator;
  iam: ConnectorIam;
  tokens: ProjectedTokenDir;
  /** Env for the connector in IAM mode. */
  env: Record<string, string>;
  /** Every projected token written, for the no-secrets check. */
  projected: string[];
  rotate(overrides?: Parameters<ConnectorIam['serviceAccountToken']>[0]): Promise<string>;
  start(extraEnv?: Record<string, string>): Promise<ConnectorProcess>;
}

const cleanups: Array<() => Promise<void>> = [];
const secrets: string[] = [];

const liveWorlds: World[] = [];

afterEach(async () => {
  await stopAllConnectors();
  for (const w of liveWorlds.splice(0)) secrets.push(...w.projected, ...w.gateway.issuedTokens);
  // every connector process of the test, however it was started (launch, startConnector, runConnector)
  const leaks = findLeaks(takeStartedConnectors(), secrets);
  secrets.length = 0;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  if (leaks.length > 0) throw new Error(`secrets appeared in connector output:\n${leaks.join('\n')}`);
});

/** Lines of any connector output that contain one of the secrets (shown truncated). */
export function findLeaks(processes: ReadonlyArray<{ readonly lines: readonly string[] }>, values: readonly string[]): string[] {
  const leaks: string[] = [];
  const needles = values.filter((v) => v.length >= 8);
  for (const p of processes) {
    for (const line of p.lines) {
      if (needles.some((n) => line.includes(n) || line.includes(n.split('.')[2] ?? '\u0000'))) leaks.push(line.slice(0, 120));
    }
  }
  return leaks;
}

/** Registers values that must never appear in any connector output of the current test. */
export function secret(...values: string[]): void {
  secrets.push(...values);
}

export const FAST_ENV = {
  rebuild_interval: '1s',
  rebuild_timeout: '2s',
  shutdown_timeout: '5s',
  http_port: '0',
  log_encoding: 'json',
  debug: 'true',
};

export async function launch(env: Record<string, string>): Promise<ConnectorProcess> {
  return startConnector({ ...FAST_ENV, ...env });
}

export async function world(opts: { gateway?: GatewayOptions; iam?: ConnectorIamOptions } = {}): Promise<World> {
  const gateway = await startGateway(opts.gateway);
  cleanups.push(() => gateway.close());
  const iam = await setupConnectorIam(gateway, opts.iam);
  const tokens = await ProjectedTokenDir.create();
  cleanups.push(() => tokens.remove());
  const projected: string[] = [];
  const rotate = async (overrides?: Parameters<ConnectorIam['serviceAccountToken']>[0]): Promise<string> => {
    const token = await iam.serviceAccountToken(overrides);
    projected.push(token);
    await tokens.write(token);
    return token;
  };
  await rotate();
  const env = { gateway_url: gateway.url, system_issuer: gateway.systemIssuer, token_mount_path: tokens.path };
  const w: World = { gateway, iam, tokens, env, projected, rotate, start: (extra = {}) => launch({ ...env, ...extra }) };
  liveWorlds.push(w);
  return w;
}

export const is =
  (msg: string, fields: Record<string, unknown> = {}) =>
  (l: LogLine): boolean =>
    l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v);

/** Invocations of one function recorded by the gateway. */
export function callsOf(gateway: GatewayEmulator, name: string, namespace: string): GatewayEmulator['invocations'] {
  return gateway.invocations.filter((i) => i.name === name && i.namespace === namespace);
}
