/**
 * The command line, run by src/main.ts once the runtime is known to be good. With main.ts, the
 * only place that reads the process environment; it exits only through the `exit` it is given.
 *   cron-connector            run the connector
 *   cron-connector doctor     check the configuration, credentials and discovery (src/cli/doctor/command.ts)
 *   cron-connector next       print the next fire times of a schedule (src/cli/next.ts)
 *   cron-connector --version  print the version
 *   cron-connector --help     print usage
 */
import { runDoctor } from './cli/doctor/command.ts';
import type { Io } from './cli/io.ts';
import { runNext } from './cli/next.ts';
import { systemClock } from './clock.ts';
import { DEFAULTS, loadConfig, type Config } from './config.ts';
import { formatDuration } from './duration.ts';
import { ConfigError, ConnectorError, describeError } from './errors.ts';
import { VERSION } from './version.ts';

const HELP = `cron-connector ${VERSION}: invokes OpenFaaS functions on cron schedules, with IAM-scoped credentials.

Usage:
  cron-connector             run the connector (configured by environment variables)
  cron-connector doctor [--json]
                             check the configuration, the projected token, the token exchange and
                             discovery with the same environment; each failure with cause and fix
  cron-connector next '<schedule>' [--tz Zone] [-n N] [--from ISO] [--json]
                             the next N (default 5) fire times of a schedule, local and UTC
  cron-connector --version   print the version
  cron-connector --help      print this help
  cron-connector <command> --help   help for doctor and next

Environment (default):
  gateway_url              required: OpenFaaS gateway base URL
  system_issuer            (unset) IAM mode: the OpenFaaS system issuer URL
  token_source             (${DEFAULTS.token_source}) IAM mode: file (projected token at token_mount_path) or
                           kubernetes (minted with the TokenRequest API through KUBECONFIG)
  token_service_account    (unset) with token_source=kubernetes: <namespace>/<name> of the ServiceAccount
  token_mount_path         (${DEFAULTS.token_mount_path}) directory holding openfaas-token
  token_url                (\${gateway_url}/oauth/token) token exchange endpoint
  basic_auth               (false) basic auth from secret_mount_path
  secret_mount_path        (${DEFAULTS.secret_mount_path}) files basic-auth-user, basic-auth-password
  topic                    (${DEFAULTS.topic}) value looked for in the topic annotation
  rebuild_interval         (${DEFAULTS.rebuild_interval}) time between discovery passes, 1s to 24h
  rebuild_timeout          (${DEFAULTS.rebuild_timeout}) limit for one discovery pass, 1s to 10m
  asynchronous_invocation  (false) invoke through /async-function/
  content_type             (${DEFAULTS.content_type}) Content-Type of invocations
  upstream_timeout         (${DEFAULTS.upstream_timeout}) limit for one synchronous invocation, 1s to 24h
  max_inflight             (${DEFAULTS.max_inflight}) concurrent invocations; excess waits
  timezone                 (${DEFAULTS.timezone}) default zone for schedules
  log_encoding             (${DEFAULTS.log_encoding}) console or json
  debug                    (false) debug-level logs
  shutdown_timeout         (${DEFAULTS.shutdown_timeout}) how long SIGTERM waits for invocations in flight, 0 to 1h
  retries                  (${DEFAULTS.retries}) retries after a network error or 429/502/503/504
  jwt_auth                 (false) IAM mode: per-function tokens for functions deployed with jwt_auth=true
  http_port                (${DEFAULTS.http_port}) /healthz, /readyz, /metrics, /schedules; 0 turns it off
  leader_election          (false) only the replica holding a Kubernetes Lease invokes
  lease_name               (${DEFAULTS.lease_name}) the Lease's name
  lease_namespace          (POD_NAMESPACE, else the ServiceAccount's) the Lease's namespace
  POD_NAME                 (the host name) this replica's identity in the Lease
  lease_duration           (${DEFAULTS.lease_duration}) a standby takes over after no renewal for this long, 1s to 10m
  renew_deadline           (${DEFAULTS.renew_deadline}) the leader stops invoking without a renewal for this long, 500ms to 10m
  retry_period             (${DEFAULTS.retry_period}) between renewals and attempts, 100ms to 1m

Function annotations:
  topic: cron-function                 select the function (comma-separated list)
  schedule: "*/5 * * * *"              one or more expressions separated by ";"
  com.openfaas.cron.timezone: Zone     IANA zone for this function
  com.openfaas.cron.async: true|false  override asynchronous_invocation
  com.openfaas.cron.retries: 0-10      override retries
  com.openfaas.cron.concurrency: forbid  skip a slot while the previous call runs (default allow)
  com.openfaas.cron.catchup: all|latest|none  which missed slots run late (default all)
  com.openfaas.cron.deadline: 10m      a missed slot older than this is not run
  com.openfaas.cron.jitter: 30s        spread this function's slots by a fixed offset (default off)
`;

/** stdout and stderr for the sub-commands; a reader that goes away early (`| head`) is not an error. */
function commandIo(): Io {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  return { out: (text) => void process.stdout.write(text), err: (text) => void process.stderr.write(text) };
}

/** Resolves with `code` once stdout and stderr have written everything: exiting sooner cuts piped output short. */
async function flushed(code: number): Promise<number> {
  const flush = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  return code;
}

/** Runs one command; resolves with the exit code. `exit` ends the process at once (a second signal). */
export async function run(argv: readonly string[], exit: (code: number) => never): Promise<number> {
  const arg = argv[0];
  if (arg === 'doctor') return flushed(await runDoctor(argv.slice(1), { env: process.env, now: () => systemClock.now() }, commandIo()));
  if (arg === 'next') return flushed(runNext(argv.slice(1), process.env, commandIo(), systemClock.now()));
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
    process.stderr.write(`${err.message}\n${err.diagnosis?.fix ?? ''}\n`);
    return 1;
  }
  return runDaemon(config, exit);
}

/**
 * How long after shutdown_timeout the process may take to close connections and write its last
 * log lines before it exits anyway: SIGTERM always ends within shutdown_timeout + this (the Helm
 * chart sets terminationGracePeriodSeconds to at least that).
 */
export const SHUTDOWN_GRACE_MS = 5_000;
/** Part of the grace given to writing the last log lines. */
const FINAL_FLUSH_MS = 2_000;
/** How long an exit forced by a second signal or the deadline waits for the last log lines. */
const FORCED_FLUSH_MS = 1_000;

/** The daemon's modules load only here, so `doctor`, `next` and `--version` start fast. */
async function runDaemon(config: Config, exit: (code: number) => never): Promise<number> {
  const [{ Daemon }, { createLogger }] = await Promise.all([import('./daemon.ts'), import('./log.ts')]);
  const { logger, flush, dropped } = createLogger({ encoding: config.logEncoding, debug: config.debug });
  process.on('unhandledRejection', (reason) => logger.error({ error: describeError(reason) }, 'Unhandled rejection'));
  const daemon = new Daemon({ config, clock: systemClock, logger, droppedLogLines: dropped });
  try {
    await daemon.start();
  } catch (err) {
    logger.fatal({ error: describeError(err), hint: err instanceof ConnectorError ? err.hint : undefined }, 'Cannot start');
    await flush(FINAL_FLUSH_MS);
    return 1;
  }
  const signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of signals) process.once(s, resolve);
  });
  for (const s of signals) process.removeAllListeners(s);
  /** Exits with 1 once the last lines are written, or after FORCED_FLUSH_MS. */
  const forcedExit = (): void => {
    flush(FORCED_FLUSH_MS).then(
      () => exit(1),
      () => exit(1),
    );
  };
  // whatever happens below (a stuck connection, a stdout nobody reads), the process ends in time
  const deadline = setTimeout(() => {
    logger.warn({ after: formatDuration(config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS - FORCED_FLUSH_MS) }, 'Shutdown is taking too long, exiting now');
    forcedExit();
  }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS - FORCED_FLUSH_MS);
  deadline.unref();
  logger.info({ signal }, 'Shutting down');
  // a second signal of either kind (Ctrl-C after a SIGTERM too) ends the process at once
  for (const s of signals) {
    process.once(s, () => {
      logger.warn({ signal: s }, 'Second signal, exiting now');
      forcedExit();
    });
  }
  await daemon.stop();
  await flush(FINAL_FLUSH_MS);
  return 0;
}
