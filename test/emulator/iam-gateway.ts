/**
 * The setup the emulator's IAM tests share: one Kubernetes issuer for the file, and for each
 * test a fresh gateway with the connector's JwtIssuer, Policy and Role (test/support/iam-fixture).
 */
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { startGateway, type GatewayEmulator } from '../support/gateway.ts';
import { setupConnectorIam, type ConnectorIam } from '../support/iam-fixture.ts';
import { KubeIssuer } from '../support/kube-issuer.ts';

export interface IamGateway {
  readonly gateway: GatewayEmulator;
  readonly iam: ConnectorIam;
  readonly kube: KubeIssuer;
}

/** Registers the hooks; the returned object reads the current test's gateway, IAM and issuer. */
export function useIamGateway(setup?: (t: IamGateway) => void): IamGateway {
  let gateway: GatewayEmulator | undefined;
  let iam: ConnectorIam | undefined;
  let kube: KubeIssuer | undefined;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is only available inside a test`);
    return value;
  };
  const t: IamGateway = {
    get gateway() {
      return need(gateway, 'the gateway');
    },
    get iam() {
      return need(iam, 'the IAM fixture');
    },
    get kube() {
      return need(kube, 'the Kubernetes issuer');
    },
  };
  beforeAll(async () => {
    kube = await KubeIssuer.create();
  });
  beforeEach(async () => {
    gateway = await startGateway();
    iam = await setupConnectorIam(gateway, { kube: t.kube });
    setup?.(t);
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    iam = undefined;
  });
  return t;
}
