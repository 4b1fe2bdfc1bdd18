/**
 * The one source of truth for "what went wrong and how to fix it". Every failure the connector
 * reports, in its logs or in `cron-connector doctor`, gets its cause and fix from the rules here,
 * as structured data: the daemon logs them as one `hint` (hintOf), the doctor prints them as its
 * `cause:` and `fix:` lines. Nothing parses them back out of prose.
 */
import { formatDuration } from './duration.ts';

export interface Diagnosis {
  /** What is wrong, in the user's terms. */
  readonly cause: string;
  /** What to do about it. */
  readonly fix: string;
  /** More lines worth reading (fields to check, commands to run); the doctor prints them. */
  readonly details?: readonly string[];
}

/** The single-line form of a diagnosis, for the `hint` field of log lines. */
export function hintOf(d: Diagnosis): string {
  return `${d.cause}; ${d.fix}`;
}

export type AuthMode = 'iam' | 'basic' | 'none';

// ---------------------------------------------------------------------------------------------
// Token exchange refusals, after the OpenFaaS IAM troubleshooting guide.

/** What a refusal is explained with: the projected token's claims (never the token itself). */
export interface ExchangeContext {
  readonly claims: { readonly iss?: string; readonly sub?: string; readonly aud?: readonly string[] };
  readonly systemIssuer: string;
}

interface Refusal {
  readonly match: RegExp;
  readonly diagnose: (c: ExchangeContext) => Diagnosis;
}

const sub = (c: ExchangeContext): string => c.claims.sub ?? '<sub of the projected token>';
const iss = (c: ExchangeContext): string => c.claims.iss ?? '<iss of the projected token>';
const audList = (c: ExchangeContext): string => `[${(c.claims.aud ?? []).join(', ')}]`;

function roleFields(c: ExchangeContext): string[] {
  return [
    `subject (jwt:sub): ${sub(c)}`,
    `issuer (jwt:iss):  ${iss(c)}`,
    'Role fields to check (kubectl get roles.iam.openfaas.com -n openfaas -o yaml):',
    `  spec.principal["jwt:sub"] lists "${sub(c)}"`,
    `  spec.condition.StringEqual["jwt:iss"] lists "${iss(c)}"`,
    '  spec.policy names Policies that exist (kubectl get policies.iam.openfaas.com -n openfaas)',
  ];
}

/** A per-function token (scope=function) refused because the Policy lacks Function:Invoke. */
const INVOKE_REFUSAL: Refusal = {
  match: /Function:Invoke|invoke/i,
  diagnose: () => ({
    cause: "the IAM Policy bound to this connector does not grant Function:Invoke on the function's namespace",
    fix: 'add Function:Invoke on that namespace to the Policy (helm: jwtAuth=true adds it on iam.resource)',
  }),
};

const REFUSALS: readonly Refusal[] = [
  {
    match: /no policies found/i,
    diagnose: (c) => ({
      cause: 'no IAM Role matches this ServiceAccount (or the Policies its Role names do not exist)',
      fix: `create a Role (iam.openfaas.com/v1) in the openfaas namespace with principal jwt:sub: ["${sub(c)}"] and condition StringEqual jwt:iss: ["${iss(c)}"], bound to a Policy allowing Function:List and Namespace:List (the Helm chart creates both: IAM is on by default); the connector retries by itself`,
      details: roleFields(c),
    }),
  },
  {
    match: /issuer not registered|unknown issuer/i,
    diagnose: (c) => ({
      cause: `the projected token's issuer ${iss(c)} is not registered with OpenFaaS as a JwtIssuer`,
      fix: 'check "kubectl get jwtissuer -n openfaas" and create a JwtIssuer for it (enabling IAM in the OpenFaaS chart creates the "kubernetes" JwtIssuer)',
      details: [`a JwtIssuer's spec.iss must equal ${iss(c)}`],
    }),
  },
  {
    match: /audience/i,
    diagnose: (c) => ({
      cause: `OpenFaaS is not the intended audience of the projected token: its aud ${audList(c)} is not in the JwtIssuer's aud`,
      fix: `set the projected volume's audience to system_issuer (${c.systemIssuer}) and list it in the JwtIssuer's aud`,
      details: [`system_issuer: ${c.systemIssuer}`, 'kubectl get jwtissuer -n openfaas -o yaml (spec.aud)'],
    }),
  },
  INVOKE_REFUSAL,
  {
    match: /jwks/i,
    diagnose: () => ({
      cause: 'the oidc-plugin has no valid JWKS keys cached for the issuer (cache out of sync, or it cannot fetch them)',
      fix: 'restart the oidc-plugin ("kubectl rollout restart deploy/oidc-plugin -n openfaas") and check its logs',
      details: ['look for errors fetching the JWKS keys in: kubectl logs -n openfaas deploy/oidc-plugin'],
    }),
  },
  {
    match: /expired/i,
    diagnose: () => ({
      cause: 'the projected token has expired',
      fix: "the kubelet refreshes it at about 80% of its life: check the projected volume and the node's clock",
    }),
  },
  {
    match: /invalid token|signature/i,
    diagnose: (c) => ({
      cause:
        c.claims.iss === undefined
          ? 'the gateway could not decode the projected token'
          : `the gateway could not verify the projected token with the keys of the JwtIssuer for ${c.claims.iss}`,
      fix: "check the JwtIssuer (kubectl get jwtissuer -n openfaas -o yaml) points at the cluster's OIDC keys, then restart the oidc-plugin",
    }),
  },
];

/** Why the gateway refused a token exchange, from its error_description. */
export function exchangeRefusal(description: string, c: ExchangeContext, status?: number, oauthError?: string): Diagnosis {
  const rule = REFUSALS.find((r) => r.match.test(description));
  if (rule !== undefined) return rule.diagnose(c);
  const what = [status, oauthError].filter((p) => p !== undefined).join(' ');
  return {
    cause: `the gateway refused the token exchange${what === '' ? '' : ` (${what})`}`,
    fix: 'see the IAM troubleshooting section of README.md; the connector retries by itself',
  };
}

/** The function a per-function token (scope=function, audience <namespace>:<name>) was asked for. */
export interface FunctionTarget {
  readonly namespace: string;
  readonly name: string;
}

/**
 * Why the gateway refused a per-function token for `target`: a Policy without Function:Invoke is
 * explained for the function's namespace (the fix names "<namespace>:*"); any other refusal as
 * exchangeRefusal explains it.
 */
export function functionTokenRefusal(description: string, c: ExchangeContext, target: FunctionTarget, status?: number, oauthError?: string): Diagnosis {
  const rule = REFUSALS.find((r) => r.match.test(description));
  if (rule !== INVOKE_REFUSAL) return exchangeRefusal(description, c, status, oauthError);
  const ns = target.namespace;
  return {
    cause: `the IAM Policy bound to this connector does not grant Function:Invoke on namespace ${ns}: with jwt_auth=true every invocation there needs a per-function token, so none of its functions can be invoked`,
    fix: `add Function:Invoke on "${ns}:*" to the Policy (helm: jwtAuth: true adds Function:Invoke on iam.resource; list "${ns}:*" there)`,
    details: [
      `subject (jwt:sub): ${sub(c)}`,
      'Policy fields to check (kubectl get policies.iam.openfaas.com -n openfaas -o yaml):',
      `  a statement with effect Allow, action Function:Invoke and a resource matching "${ns}:${target.name}" (e.g. "${ns}:*")`,
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Calls that got no HTTP answer: TLS, connection, DNS, timeouts.

const UNTRUSTED_TLS = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

/** OpenSSL's codes for a TLS client that got a plain-HTTP answer. */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

const TLS_DETAILS = [
  'NODE_EXTRA_CA_CERTS is read when the process starts: set it for the connector and for cron-connector doctor',
  'helm: extraVolumes (a ConfigMap holding ca.crt), extraVolumeMounts at /etc/ssl/gateway, extraEnv NODE_EXTRA_CA_CERTS=/etc/ssl/gateway/ca.crt',
];

/** The first system error code in an error's cause chain (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, …), not undici's own. */
export function systemCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR') && !code.startsWith('E_') && code !== 'ABORT_ERR') return code;
  }
  return undefined;
}

/** Why a call to `url` got no answer; `detail` is the error's one-line description. */
export function networkFailure(code: string | undefined, url: URL, detail: string): Diagnosis {
  const host = url.host;
  if (code === 'CERT_HAS_EXPIRED') {
    return { cause: `the TLS certificate of ${host} has expired (${code})`, fix: 'renew it on the gateway or its ingress' };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { cause: `the TLS certificate of ${host} is not valid for that host name (${code})`, fix: 'use the host name the certificate names in the URL' };
  }
  if (code !== undefined && UNTRUSTED_TLS.has(code)) {
    return {
      cause: `the TLS certificate of ${host} is signed by an unknown authority (a private CA or a self-signed certificate) (${code})`,
      fix: 'if it is signed by a private CA, mount the CA bundle and set NODE_EXTRA_CA_CERTS to its path',
      details: TLS_DETAILS,
    };
  }
  if (code !== undefined && (NOT_TLS.has(code) || code === 'EPROTO')) {
    return {
      cause: `${host} does not speak TLS: the URL says https:// but the port answers in plain HTTP (${code})`,
      fix: `use http://${host} if that port serves plain HTTP, or the port that serves TLS`,
    };
  }
  if (code?.startsWith('ERR_SSL_') === true) {
    return { cause: `the TLS handshake with ${host} failed (${code})`, fix: "check the URL's scheme and port, and the TLS settings of the gateway or its ingress" };
  }
  if (code === 'ECONNREFUSED') {
    return { cause: `nothing listens at ${host} (${code})`, fix: "check the URL's host and port, and that the gateway is running (kubectl get pods -n openfaas)" };
  }
  if (code === 'ENOTFOUND') {
    return {
      cause: `the host name ${url.hostname} does not resolve (${code})`,
      fix: 'check the host name in the URL (in the cluster the gateway is gateway.openfaas, or gateway.openfaas.svc.cluster.local) and the cluster DNS',
    };
  }
  if (code === 'EAI_AGAIN') {
    return { cause: `the DNS lookup of ${url.hostname} failed for now (${code})`, fix: 'check the cluster DNS (kubectl get pods -n kube-system); the connector retries by itself' };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return { cause: `${host} closed the connection (${code})`, fix: "check the gateway's logs, and that the URL's scheme matches the port (http:// or https://)" };
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT') {
    return { cause: `${host} cannot be reached (${code})`, fix: 'check the network policies and routes between this Pod and the gateway' };
  }
  return { cause: `the call to ${url.origin} failed: ${detail}`, fix: `check that ${url.origin} is reachable from this Pod` };
}

/** A call that got no answer in time; `setting` names the variable that bounds it, if any. */
export function timeoutFailure(url: URL, timeoutMs: number, setting: string | undefined): Diagnosis {
  if (setting === 'upstream_timeout') {
    return {
      cause: `the function did not answer within ${formatDuration(timeoutMs)} (upstream_timeout); it may still be running`,
      fix: "check the function's logs (faas-cli logs <function>); raise upstream_timeout if it only needs longer, or invoke it asynchronously (com.openfaas.cron.async=true)",
    };
  }
  const raise = setting === undefined ? '' : `; raise ${setting} if it is only slow`;
  return {
    cause: `${url.origin} did not answer within ${formatDuration(timeoutMs)}`,
    fix: `check the gateway is healthy (kubectl get pods -n openfaas) and its logs${raise}`,
  };
}

// ---------------------------------------------------------------------------------------------
// REST answers with an error status (GET /system/namespaces, /system/functions).

export interface StatusContext {
  readonly auth: AuthMode;
  /** undefined: GET /system/namespaces; else GET /system/functions?namespace=<namespace>. */
  readonly namespace?: string;
  /** The Location of a redirect. */
  readonly location?: string;
}

function unauthorized(auth: AuthMode): Diagnosis {
  if (auth === 'iam') {
    return {
      cause: 'the gateway refused the access token the connector obtained for itself',
      fix: "check system_issuer is the gateway's public URL (OpenFaaS issues tokens for it) and the gateway's logs (kubectl logs -n openfaas deploy/gateway); the connector exchanges a new token and retries",
    };
  }
  if (auth === 'basic') {
    return {
      cause: 'the gateway refused the basic-auth credentials',
      fix: "make the files in secret_mount_path hold the gateway's admin user and password (kubectl get secret -n openfaas basic-auth)",
    };
  }
  return {
    cause: 'the gateway requires credentials and none are configured',
    fix: 'set system_issuer (IAM, with a projected token) or basic_auth=true with the basic-auth secret mounted at secret_mount_path',
  };
}

export function gatewayStatus(status: number, c: StatusContext): Diagnosis {
  const ns = c.namespace;
  if (status >= 300 && status < 400) {
    return {
      cause: `the gateway redirected to ${c.location ?? 'another URL'}, which is not followed (it would carry the credentials elsewhere)`,
      fix: 'set gateway_url to the final URL, e.g. https:// instead of http://',
    };
  }
  if (status === 401) return unauthorized(c.auth);
  if (status === 403 && ns === undefined) {
    return { cause: "the connector's IAM Policy does not grant Namespace:List", fix: "add Namespace:List to the Policy's actions (the chart's Policy has it)" };
  }
  if (status === 403) {
    return {
      cause: `the IAM Policy lets the connector see namespace ${ns} (Namespace:List) but not list its functions (Function:List)`,
      fix: `add "${ns}:*" to the Policy's resource (helm: iam.resource) if the connector should schedule there; otherwise nothing to do, the connector skips it`,
    };
  }
  if (status === 404 && ns === undefined) {
    return { cause: 'gateway_url does not point at an OpenFaaS gateway (no /system/namespaces)', fix: 'set gateway_url to the gateway, e.g. http://gateway.openfaas:8080' };
  }
  if (status === 404) return { cause: `namespace ${ns} was listed but no longer exists`, fix: 'nothing to do if it was just deleted; the connector skips it' };
  return { cause: `the gateway answered ${status}`, fix: "check the gateway's logs (kubectl logs -n openfaas deploy/gateway)" };
}

/** An answer that is not what an OpenFaaS gateway sends (HTML, the wrong JSON, too large). */
export const NOT_A_GATEWAY: Diagnosis = {
  cause: 'the answer is not what an OpenFaaS gateway sends (a proxy, a login page or another service answered)',
  fix: 'check gateway_url points at the OpenFaaS gateway, e.g. http://gateway.openfaas:8080',
};

// ---------------------------------------------------------------------------------------------
// Invocations: the function's (or the gateway's) answer with an error status.

export function invocationStatus(status: number, jwtAuth: boolean): Diagnosis {
  if (status === 401 && !jwtAuth) {
    return {
      cause: 'the function requires a per-function token (it was deployed with jwt_auth=true)',
      fix: 'set jwt_auth=true on the connector (helm: jwtAuth=true, which also grants Function:Invoke)',
    };
  }
  if (status === 401) {
    return {
      cause: 'the function refused the per-function token even after it was renewed',
      fix: "check the function's jwt_auth setting and that system_issuer is the gateway's public URL",
    };
  }
  if (status === 403) {
    return { cause: "the connector's IAM Policy does not grant Function:Invoke on this namespace", fix: 'add Function:Invoke on the namespace (helm: jwtAuth=true adds it)' };
  }
  if (status === 404) {
    return {
      cause: 'the gateway does not know this function (deleted, or not ready yet)',
      fix: 'nothing to do if it was just deleted (the next discovery pass unschedules it); otherwise check faas-cli describe <function>',
    };
  }
  if (status === 429) {
    return { cause: 'the function or the gateway is throttling', fix: "lower the schedule's frequency or raise the function's limits" };
  }
  if (status >= 500) return { cause: `the function or the gateway failed (${status})`, fix: "check the function's logs (faas-cli logs <function>)" };
  return { cause: `the function answered ${status}`, fix: "check the function's logs (faas-cli logs <function>)" };
}

// ---------------------------------------------------------------------------------------------
// The Kubernetes API (leader election, TokenRequest).

/** What a Kubernetes API call was about, to name the RBAC rule it needs. */
export interface KubeRequestContext {
  /** The RBAC verb: get, create, update. */
  readonly verb: string;
  /** `leases` (group coordination.k8s.io) or `serviceaccounts/token` (core). */
  readonly resource: 'leases' | 'serviceaccounts/token';
  readonly namespace: string;
  readonly name: string;
  /** Where the credentials come from: in-cluster ServiceAccount, or a kubeconfig. */
  readonly credentials: string;
}

function ruleFor(c: KubeRequestContext): string {
  const group = c.resource === 'leases' ? 'coordination.k8s.io' : '""';
  const named = c.verb === 'create' && c.resource === 'leases' ? '' : ` resourceNames: [${c.name}]`;
  // a TokenRequest is made by whoever the kubeconfig names (a developer, outside a cluster), not by the ServiceAccount it mints for
  const subject = c.resource === 'leases' ? "the connector's ServiceAccount" : `the identity the connector calls the API with (${c.credentials})`;
  return `a Role in namespace ${c.namespace} with apiGroups: [${group}] resources: [${c.resource}]${named} verbs: [${c.verb}], bound to ${subject}`;
}

/** kubectl commands that check and grant the TokenRequest rule. */
function tokenRequestCommands(c: KubeRequestContext): string[] {
  return [
    `check: kubectl auth can-i create serviceaccounts/${c.name} --subresource=token -n ${c.namespace}`,
    `grant: kubectl create role ${c.name}-token -n ${c.namespace} --verb=create --resource=serviceaccounts/token --resource-name=${c.name}`,
    `       kubectl create rolebinding ${c.name}-token -n ${c.namespace} --role=${c.name}-token --user=<the kubeconfig's user> (or --serviceaccount=<namespace>:<name>)`,
  ];
}

/** Why a Kubernetes API call failed and what to do, from its status (undefined: no answer). */
export function kubeApiFailure(status: number | undefined, c: KubeRequestContext): Diagnosis {
  const what = c.resource === 'leases' ? `Lease ${c.namespace}/${c.name}` : `the token of ServiceAccount ${c.namespace}/${c.name}`;
  if (status === undefined) {
    return {
      cause: `the Kubernetes API server did not answer (${c.credentials})`,
      fix: 'check that the API server is reachable from the connector (kubectl get --raw /readyz with the same credentials); the connector keeps retrying',
    };
  }
  if (status === 401) {
    return {
      cause: `the Kubernetes API server refused the connector's credentials (${c.credentials})`,
      fix: 'in a cluster, check that the Pod mounts a ServiceAccount token (the chart sets automountServiceAccountToken when leader election is on); outside, refresh the kubeconfig\'s credentials',
    };
  }
  if (status === 403 && c.resource === 'serviceaccounts/token') {
    return { cause: `RBAC does not allow "${c.verb}" on ${what}`, fix: `add ${ruleFor(c)}`, details: tokenRequestCommands(c) };
  }
  if (status === 403) {
    return {
      cause: `RBAC does not allow "${c.verb}" on ${what}`,
      fix: `add ${ruleFor(c)} (the Helm chart creates it when leaderElection is enabled)`,
    };
  }
  if (status === 404) {
    return c.resource === 'leases'
      ? { cause: `namespace ${c.namespace} does not exist`, fix: 'set lease_namespace (or POD_NAMESPACE) to the namespace the connector runs in' }
      : { cause: `ServiceAccount ${c.namespace}/${c.name} does not exist`, fix: 'set token_service_account to <namespace>/<name> of the ServiceAccount the IAM Role names (the chart creates it)' };
  }
  if (status === 429 || status >= 500) {
    return {
      cause: `the Kubernetes API server is overloaded or failing (HTTP ${status})`,
      fix: 'nothing to change in the connector: it retries; check the control plane if it lasts',
    };
  }
  return { cause: `the Kubernetes API server answered HTTP ${status} to "${c.verb}" on ${what}`, fix: 'check the API server\'s logs; report it if it lasts' };
}
