/** Why a /system call failed, for the namespaces and functions checks. */
import type { AuthConfig } from '../../config.ts';
import { ConnectorError, GatewayError } from '../../errors.ts';
import { actionOf, diagnoseNetwork } from './diagnose.ts';
import type { Diagnosis } from './report.ts';

export interface GatewayTarget {
  readonly gatewayUrl: string;
  readonly auth: AuthConfig['mode'];
  /** undefined: GET /system/namespaces; else GET /system/functions?namespace=<namespace>. */
  readonly namespace?: string;
}

function unauthorized(auth: AuthConfig['mode']): Omit<Diagnosis, 'code'> {
  if (auth === 'iam') {
    return {
      cause: 'the gateway refused the access token it has just issued',
      fix: 'check system_issuer is the gateway\'s public URL (OpenFaaS issues tokens for it) and the gateway\'s logs (kubectl logs -n openfaas deploy/gateway)',
    };
  }
  if (auth === 'basic') {
    return {
      cause: 'the gateway refused the basic-auth credentials',
      fix: 'make the files in secret_mount_path hold the gateway\'s admin user and password (kubectl get secret -n openfaas basic-auth)',
    };
  }
  return {
    cause: 'the gateway requires credentials and none are configured',
    fix: 'set system_issuer (IAM, with a projected token) or basic_auth=true with the basic-auth secret mounted at secret_mount_path',
  };
}

function forbidden(namespace: string | undefined): Omit<Diagnosis, 'code'> {
  if (namespace === undefined) {
    return { cause: 'the connector\'s IAM Policy does not grant Namespace:List', fix: 'add Namespace:List to the Policy\'s actions (the chart\'s Policy has it)' };
  }
  return {
    cause: `the IAM Policy lets the connector see namespace ${namespace} (Namespace:List) but not list its functions (Function:List)`,
    fix: `add "${namespace}:*" to the Policy's resource (helm: iam.resource) if the connector should schedule there; otherwise nothing to do, the connector skips it`,
  };
}

function notFound(namespace: string | undefined): Omit<Diagnosis, 'code'> {
  if (namespace === undefined) {
    return { cause: 'gateway_url does not point at an OpenFaaS gateway (no /system/namespaces)', fix: 'set gateway_url to the gateway, e.g. http://gateway.openfaas:8080' };
  }
  return { cause: `namespace ${namespace} was listed but no longer exists`, fix: 'nothing to do if it was just deleted; the connector skips it' };
}

function httpStatus(err: GatewayError, target: GatewayTarget): Diagnosis {
  const status = err.status ?? 0;
  const base =
    status === 401
      ? unauthorized(target.auth)
      : status === 403
        ? forbidden(target.namespace)
        : status === 404
          ? notFound(target.namespace)
          : { cause: `the gateway answered ${status}`, fix: 'check the gateway\'s logs (kubectl logs -n openfaas deploy/gateway)' };
  return { code: err.code, ...base };
}

export function diagnoseGateway(err: unknown, target: GatewayTarget): Diagnosis {
  if (err instanceof GatewayError && err.status !== undefined) return httpStatus(err, target);
  if (err instanceof ConnectorError && (err.code === 'E_BASIC_AUTH' || err.code === 'E_GATEWAY_RESPONSE')) {
    return { code: err.code, cause: err.message, fix: actionOf(err.hint ?? 'see the Troubleshooting section of README.md') };
  }
  return diagnoseNetwork(err, new URL(target.gatewayUrl));
}
