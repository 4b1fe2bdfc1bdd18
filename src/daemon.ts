/**
 * Wires the connector together and owns its lifecycle: credentials, discovery every
 * rebuild_interval (first pass at once), the scheduler, invocations and graceful shutdown.
 */
import type { Server } from 'node:http';
import { Agent } from 'undici';
import { BasicAuthCredentials } from './auth/basic.ts';
import { noCredentials, type Credentials } from './auth/credentials.ts';
import { FunctionTokens } from './auth/function-tokens.ts';
import { IamCredentials } from './auth/iam.ts';
import { KubeTokenSource, TOKEN_REQUEST_TIMEOUT_MS } from './auth/kube-token.ts';
import { FileSubjectToken, type SubjectTokenSource } from './auth/subject-token.ts';
import { sleep, type Clock } from './clock.ts';
import type { Config, IamAuthConfig } from './config.ts';
import { DiscoveryLoop } from './discovery-loop.ts';
import { formatDuration } from './duration.ts';
import { GatewayClient } from './gateway/client.ts';
import { startHttpServer, type Reply, type StatusSource } from './http/server.ts';
import { Invoker } from './invoker.ts';
import { connectKube, KubeLeaseStore } from './kube/api.ts';
import { connectTokenRequest } from './kube/token-request.ts';
import { Leadership } from './leader/leadership.ts';
import type { Logger } from './log.ts';
import { PrometheusMetrics } from './metrics.ts';
import { Reconciler } from './reconcile.ts';
import type { DesiredFunction } from './schedule/annotations.ts';
import { Scheduler } from './schedule/scheduler.ts';
import { SchedulesEndpoint } from './status.ts';
import { VERSION } from './version.ts';

export interface DaemonDeps {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Log lines stdout would not take so far, for the metrics. */
  readonly droppedLogLines?: () => number;
}

const KEEP_ALIVE_MS = 30_000;
/** The longest a release of the Lease may take at shutdown (within the 5 s grace after shutdown_timeout). */
const RELEASE_TIMEOUT_MS = 2_000;
/** How long before a slot an idle invocation connection is opened (see Invoker.prepare). */
const WARM_LEAD_MS = 1_000;

interface Wiring {
  readonly rest: Agent;
  readonly metrics: PrometheusMetrics;
  readonly onRecovered: () => void;
  /** The ServiceAccount token source, one for the connector's token and the per-function tokens. */
  readonly subjectToken: (auth: IamAuthConfig) => SubjectTokenSource;
}

/** token_source: the projected token file, or tokens minted with the TokenRequest API (created once, on first use). */
function subjectTokenSource(deps: DaemonDeps): (auth: IamAuthConfig) => SubjectTokenSource {
  let source: SubjectTokenSource | undefined;
  return (auth) => {
    source ??=
      auth.tokenSource === 'kubernetes'
        ? new KubeTokenSource({
            serviceAccount: auth.serviceAccount,
            audience: auth.systemIssuer,
            clock: deps.clock,
            logger: deps.logger,
            connect: () => connectTokenRequest(TOKEN_REQUEST_TIMEOUT_MS),
          })
        : new FileSubjectToken(auth.tokenFile);
    return source;
  };
}

function createCredentials(deps: DaemonDeps, w: Wiring): Credentials {
  const auth = deps.config.auth;
  if (auth.mode === 'iam') {
    return new IamCredentials({
      subjectToken: w.subjectToken(auth),
      tokenUrl: auth.tokenUrl,
      systemIssuer: auth.systemIssuer,
      dispatcher: w.rest,
      clock: deps.clock,
      logger: deps.logger,
      onRecovered: w.onRecovered,
      onExchange: (ok) => w.metrics.tokenExchange(ok ? 'success' : 'failure'),
    });
  }
  if (auth.mode === 'basic') return new BasicAuthCredentials(auth.secretMountPath);
  return noCredentials;
}

function createFunctionTokens(deps: DaemonDeps, w: Wiring): FunctionTokens | undefined {
  const auth = deps.config.auth;
  if (!deps.config.jwtAuth || auth.mode !== 'iam') return undefined;
  return new FunctionTokens({
    subjectToken: w.subjectToken(auth),
    tokenUrl: auth.tokenUrl,
    systemIssuer: auth.systemIssuer,
    dispatcher: w.rest,
    clock: deps.clock,
    onExchange: (ok) => w.metrics.tokenExchange(ok ? 'success' : 'failure'),
  });
}

export class Daemon implements StatusSource {
  private readonly deps: DaemonDeps;
  private readonly rest: Agent;
  private readonly invokeAgent: Agent;
  private readonly credentials: Credentials;
  private readonly scheduler: Scheduler<DesiredFunction>;
  private readonly invoker: Invoker;
  private readonly reconciler: Reconciler;
  private readonly metricsRegistry: PrometheusMetrics;
  private readonly discovery: DiscoveryLoop;
  private readonly schedulesEndpoint: SchedulesEndpoint;
  private leadership: Leadership | undefined;
  private campaigning = false;
  private health: Server | undefined;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(deps: DaemonDeps) {
    this.deps = deps;
    const { config, clock, logger } = deps;
    this.metricsRegistry = new PrometheusMetrics({ droppedLogLines: deps.droppedLogLines });
    this.rest = new Agent({ connections: 16, keepAliveTimeout: KEEP_ALIVE_MS });
    this.invokeAgent = new Agent({ connections: config.maxInflight, keepAliveTimeout: KEEP_ALIVE_MS });
    const wiring: Wiring = {
      rest: this.rest,
      metrics: this.metricsRegistry,
      onRecovered: () => this.discovery.wake(),
      subjectToken: subjectTokenSource(deps),
    };
    this.credentials = createCredentials(deps, wiring);
    const functionTokens = createFunctionTokens(deps, wiring);
    const client = new GatewayClient({
      gatewayUrl: config.gatewayUrl,
      credentials: this.credentials,
      rest: this.rest,
      invoke: this.invokeAgent,
      contentType: config.contentType,
    });
    this.invoker = new Invoker({
      client,
      clock,
      logger,
      metrics: this.metricsRegistry,
      maxInflight: config.maxInflight,
      upstreamTimeoutMs: config.upstreamTimeoutMs,
      ...(functionTokens === undefined ? {} : { functionTokens }),
      ...(config.leaderElection === undefined
        ? {}
        : {
            progress: {
              opened: (n: number) => this.leadership?.opened(n),
              handed: (n: number) => this.leadership?.handed(n),
              mayStart: () => this.leadership?.mayStart() ?? false,
            },
          }),
    });
    if (config.leaderElection !== undefined) this.metricsRegistry.enableLeaderElection();
    this.scheduler = new Scheduler<DesiredFunction>({
      clock,
      // with leader election only the leader invokes (until the Lease is taken, nobody here does)
      onFire: config.leaderElection === undefined ? (event) => this.invoker.fire(event) : (event) => this.leadership?.fire(event),
      prepare: {
        leadMs: WARM_LEAD_MS,
        countUpTo: config.maxInflight,
        run: (_at, due) => {
          if (config.leaderElection === undefined || this.leadership?.leading === true) this.invoker.prepare(due);
        },
      },
      onError: (err, key) => logger.error({ key, error: String(err) }, 'Scheduler callback failed'),
    });
    this.reconciler = new Reconciler({
      client,
      scheduler: this.scheduler,
      clock,
      logger,
      metrics: this.metricsRegistry,
      defaults: { topic: config.topic, timezone: config.timezone, async: config.asyncInvocation, retries: config.retries },
      rebuildTimeoutMs: config.rebuildTimeoutMs,
    });
    this.discovery = new DiscoveryLoop({
      clock,
      logger,
      intervalMs: config.rebuildIntervalMs,
      timeoutMs: config.rebuildTimeoutMs,
      pass: async (signal) => {
        const summary = await this.reconciler.pass(signal);
        this.invoker.retainOnly(this.reconciler.current.functions);
        // a replica campaigns once it could invoke: it has credentials and knows the functions
        if (summary.ok && !this.campaigning && this.leadership !== undefined) {
          this.campaigning = true;
          this.leadership.start();
        }
        return summary.ok;
      },
    });
    this.schedulesEndpoint = new SchedulesEndpoint(
      {
        state: () => this.reconciler.current,
        nextFire: (key) => this.scheduler.nextFire(key),
        nextDue: () => this.scheduler.nextDue(),
        lastRun: (id) => this.invoker.lastRun(id),
        now: () => clock.now(),
        ...(config.leaderElection === undefined ? {} : { leadership: () => this.leadershipStatus() }),
      },
      { wait: (ms) => sleep(clock, ms) },
    );
  }

  private leadershipStatus(): ReturnType<Leadership['status']> {
    const le = this.deps.config.leaderElection;
    return (
      this.leadership?.status() ?? {
        role: 'stopped',
        identity: le?.identity ?? '',
        lease: `${le?.leaseNamespace ?? ''}/${le?.leaseName ?? ''}`,
        holder: undefined,
        handedThrough: undefined,
      }
    );
  }

  /** Connects to the Kubernetes API for the Lease (start-up fails with the reason when it cannot). */
  private async createLeadership(): Promise<void> {
    const { config, clock, logger } = this.deps;
    const le = config.leaderElection;
    if (le === undefined) return;
    const kube = await connectKube(le.renewDeadlineMs);
    const leadership = new Leadership({
      store: new KubeLeaseStore(kube, le.leaseNamespace, le.leaseName),
      settings: le,
      clock,
      monotonic: () => performance.now(),
      logger,
      metrics: this.metricsRegistry,
      firedThrough: (now) => this.scheduler.firedThrough(now),
      functions: () => this.reconciler.current.functions,
    });
    leadership.attach(this.invoker);
    this.leadership = leadership;
    logger.info({ lease: `${le.leaseNamespace}/${le.leaseName}`, identity: le.identity, kubernetes: kube.credentials }, 'Leader election on');
  }

  liveness(): string | undefined {
    return this.discovery.liveness();
  }

  /** Undefined when ready to serve, else why not (for /readyz). */
  notReadyReason(): string | undefined {
    if (!this.credentials.ready) return 'no credentials yet';
    const last = this.reconciler.lastSuccessAt;
    if (last === undefined) return 'no discovery pass has succeeded yet';
    const window = Math.max(3 * this.deps.config.rebuildIntervalMs, 60_000);
    const age = this.deps.clock.now() - last;
    return age > window ? `last successful discovery ${formatDuration(age)} ago` : undefined;
  }

  async metrics(): Promise<{ contentType: string; body: string }> {
    const body = await this.metricsRegistry.exposition(this.deps.clock.now());
    return { contentType: this.metricsRegistry.registry.contentType, body };
  }

  schedules(params: URLSearchParams): Promise<Reply> {
    return this.schedulesEndpoint.answer(params);
  }

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    logger.info(
      {
        version: VERSION,
        gateway: config.gatewayUrl,
        auth: config.auth.mode,
        ...(config.auth.mode === 'iam' ? { systemIssuer: config.auth.systemIssuer, tokenUrl: config.auth.tokenUrl } : {}),
        topic: config.topic,
        rebuildInterval: formatDuration(config.rebuildIntervalMs),
        rebuildTimeout: formatDuration(config.rebuildTimeoutMs),
        asyncInvocation: config.asyncInvocation,
        upstreamTimeout: formatDuration(config.upstreamTimeoutMs),
        maxInflight: config.maxInflight,
        retries: config.retries,
        jwtAuth: config.jwtAuth,
        timezone: config.timezone,
        httpPort: config.httpPort,
        ...(config.leaderElection === undefined
          ? { leaderElection: false }
          : {
              leaderElection: true,
              leaseDuration: formatDuration(config.leaderElection.leaseDurationMs),
              renewDeadline: formatDuration(config.leaderElection.renewDeadlineMs),
              retryPeriod: formatDuration(config.leaderElection.retryPeriodMs),
            }),
      },
      'Starting cron-connector',
    );
    for (const warning of config.warnings) logger.warn({ warning }, 'Configuration');
    await this.createLeadership();
    this.keepAlive = setInterval(() => undefined, 1 << 30);
    if (config.httpPort !== 0) this.health = await startHttpServer(config.httpPort, this, logger);
    if (this.credentials instanceof IamCredentials) this.credentials.start();
    this.scheduler.start();
    this.discovery.start();
  }

  /** Stops firing, waits for calls in flight up to shutdown_timeout; returns how many were abandoned. */
  async stop(): Promise<number> {
    const { config, logger } = this.deps;
    this.scheduler.stop();
    this.leadership?.stopFiring();
    this.credentials.stop();
    // a pass in flight may wait on a token exchange: it ends while the invocations drain, not before
    const discoveryStopped = this.discovery.stop();
    const inflight = this.invoker.inflight;
    if (inflight > 0) logger.info({ inflight, timeout: formatDuration(config.shutdownTimeoutMs) }, 'Waiting for invocations in flight');
    const abandoned = await this.invoker.drain(config.shutdownTimeoutMs);
    if (abandoned > 0) logger.warn({ abandoned }, 'Shutdown timeout reached, abandoning invocations in flight');
    await discoveryStopped;
    // after the calls in flight: the record then holds every slot they handed over
    await this.leadership?.stop(RELEASE_TIMEOUT_MS);
    clearInterval(this.keepAlive);
    const closed = new Promise((resolve) => (this.health === undefined ? resolve(undefined) : this.health.close(resolve)));
    this.health?.closeAllConnections();
    await Promise.allSettled([this.rest.close(), this.invokeAgent.close(), closed]);
    logger.info({ abandoned }, 'Stopped');
    return abandoned;
  }
}
