/** Step 1: the configuration, read exactly as the daemon reads it (loadConfig). */
import { TOKEN_FILE_NAME, loadConfig, type AuthConfig, type Config, type Env } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { check, type Check } from './report.ts';

export type ConfigOutcome = { readonly ok: true; readonly config: Config; readonly check: Check } | { readonly ok: false; readonly check: Check };

export function authLabel(auth: AuthConfig): string {
  if (auth.mode === 'iam' && auth.tokenSource === 'kubernetes') {
    return `IAM mode (system_issuer ${auth.systemIssuer}, token_source kubernetes for ServiceAccount ${auth.serviceAccount.namespace}/${auth.serviceAccount.name})`;
  }
  if (auth.mode === 'iam') return `IAM mode (system_issuer ${auth.systemIssuer})`;
  if (auth.mode === 'basic') return `basic-auth mode (secret_mount_path ${auth.secretMountPath})`;
  return 'no-auth mode';
}

function authDetails(auth: AuthConfig): string[] {
  if (auth.mode === 'iam' && auth.tokenSource === 'kubernetes') {
    const sa = `${auth.serviceAccount.namespace}/${auth.serviceAccount.name}`;
    return [`ServiceAccount token: minted with the TokenRequest API for ${sa} (audience system_issuer), through the kubeconfig (KUBECONFIG, ~/.kube/config, else in-cluster)`, `token_url: ${auth.tokenUrl}`];
  }
  if (auth.mode === 'iam') return [`token file: ${auth.tokenFile}`, `token_url: ${auth.tokenUrl}`];
  if (auth.mode === 'basic') return [`basic-auth files: ${auth.secretMountPath}/basic-auth-user, ${auth.secretMountPath}/basic-auth-password`];
  return ['no credentials are sent: set system_issuer for IAM, or basic_auth=true for basic auth'];
}

export function checkConfiguration(env: Env): ConfigOutcome {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const count = err.issues.length;
    return {
      ok: false,
      check: check('configuration', 'fail', `${count} invalid variable${count === 1 ? '' : 's'}: ${err.issues.map((i) => i.variable).join(', ')}`, {
        details: err.message.split('\n'),
        code: err.code,
        cause: err.issues.some((i) => i.variable === 'token_mount_path')
          ? `the projected token directory is missing (no ${TOKEN_FILE_NAME} can be read)`
          : 'the environment holds values the connector cannot use',
        fix: 'set the variables listed below as expected (cron-connector --help lists them; see the Configuration table in README.md)',
      }),
    };
  }
  const summary = `gateway ${config.gatewayUrl}, ${authLabel(config.auth)}, topic ${config.topic}, timezone ${config.timezone}`;
  const warned = config.warnings.length > 0;
  return {
    ok: true,
    config,
    check: check('configuration', warned ? 'warn' : 'pass', summary, {
      details: authDetails(config.auth),
      ...(warned ? { cause: config.warnings.join(' '), fix: 'remove the ignored variables, or set the mode you meant' } : {}),
    }),
  };
}
