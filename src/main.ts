#!/usr/bin/env node
/**
 * Entry point: the only place that reads the process environment and the only place that exits.
 *   cron-connector            run the connector
 *   cron-connector --version  print the version
 *   cron-connector --help     print usage
 */
import { systemClock } from './clock.ts';
import { DEFAULTS, loadConfig } from './config.ts';
import { Daemon } from './daemon.ts';
import { ConfigError, describeError } from './errors.ts';
import { createLogger } from './log.ts';
import { VERSION } from './version.ts';

const HELP = `cron-connector ${VERSION}: invokes OpenFaaS functions on cron schedules, with IAM-scoped credentials.

Usage:
  cron-connector             run the connector (configured by environment variables)
  cron-connector --version   print the version
  cron-connector --help      print this help

Environment (default):
  gateway_url              required: OpenFaaS gateway base URL
  system_issuer            (unset) IAM mode: the OpenFaaS system issuer URL
  token_mount_path         (${DEFAULTS.token_mount_path}) directory holding openfaas-token
  token_url                (\${gateway_url}/oauth/token) token exchange endpoint
  basic_auth               (false) basic auth from secret_mount_path
  secret_mount_path        (${DEFAULTS.secret_mount_path}) files basic-auth-user, basic-auth-password
  topic                    (${DEFAULTS.topic}) value looked for in the topic annotation
  rebuild_interval         (${DEFAULTS.rebuild_interval}) time between discovery passes
  rebuild_timeout          (${DEFAULTS.rebuild_timeout}) limit for one discovery pass
  asynchronous_invocation  (false) invoke through /async-function/
  content_type             (${DEFAULTS.content_type}) Content-Type of invocations
  upstream_timeout         (${DEFAULTS.upstream_timeout}) limit for one synchronous invocation
  max_inflight             (${DEFAULTS.max_inflight}) concurrent invocations; excess waits
  timezone                 (${DEFAULTS.timezone}) default zone for schedules
  log_encoding             (${DEFAULTS.log_encoding}) console or json
  debug                    (false) debug-level logs
  shutdown_timeout         (${DEFAULTS.shutdown_timeout}) how long SIGTERM waits for invocations in flight
  http_port                (${DEFAULTS.http_port}) /healthz and /readyz; 0 turns it off

Function annotations:
  topic: cron-function                 select the function (comma-separated list)
  schedule: "*/5 * * * *"              one or more expressions separated by ";"
  com.openfaas.cron.timezone: Zone     IANA zone for this function
  com.openfaas.cron.async: true|false  override asynchronous_invocation
`;

async function run(argv: readonly string[]): Promise<number> {
  const arg = argv[0];
  if (arg === '--version' || arg === '-v' || arg === 'version') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (arg === '--help' || arg === '-h' || arg === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (arg !== undefined) {
    process.stderr.write(`cron-connector: unknown argument ${JSON.stringify(arg)}; see cron-connector --help\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n${err.hint ?? ''}\n`);
    return 1;
  }
  const { logger, flush } = createLogger({ encoding: config.logEncoding, debug: config.debug });
  process.on('unhandledRejection', (reason) => logger.error({ error: describeError(reason) }, 'Unhandled rejection'));
  const daemon = new Daemon({ config, clock: systemClock, logger });
  try {
    await daemon.start();
  } catch (err) {
    logger.fatal({ error: describeError(err) }, 'Cannot start');
    flush();
    return 1;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  logger.info({ signal }, 'Shutting down');
  process.once(signal, () => {
    logger.warn({ signal }, 'Second signal, exiting now');
    flush();
    process.exit(1);
  });
  await daemon.stop();
  flush();
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cron-connector: fatal: ${describeError(err)}\n`);
    process.exit(1);
  },
);
