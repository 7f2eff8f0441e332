/**
 * Builds the companion server from its dependencies; knows nothing about env vars or signals.
 * main.ts reads config and calls listen(); tests build apps on ephemeral ports.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import cors from 'cors';
import express, { type Express } from 'express';
import { authRoutes } from './auth/routes';
import { BlobStore } from './blobs/store';
import { createAuthenticator } from './auth/middleware';
import { AuthService } from './auth/service';
import { TokenStore } from './auth/store';
import type { Config } from './config';
import { dataDirLayout, type DataDirLayout } from './data-dir';
import { ChunkPacks } from './datasets/chunks';
import { datasetRoutes } from './datasets/routes';
import { DatasetService } from './datasets/service';
import { DatasetStore } from './datasets/store';
import type { Database } from './db/database';
import { KubernetesTarget } from './deployments/kubernetes/target';
import { LocalTarget } from './deployments/local';
import { deploymentRoutes } from './deployments/routes';
import { DeploymentService } from './deployments/service';
import { DeploymentStore } from './deployments/store';
import { healthRoutes } from './health/routes';
import { KubernetesClusters } from './kubernetes/clusters';
import { kubernetesRoutes } from './kubernetes/routes';
import { corsOptions } from './http/cors';
import { hostCheck, isWildcardAddress, serverHostNames } from './http/hosts';
import { createErrorHandler, unknownRouteHandler } from './http/errors';
import { buildOpenApiDocument } from './http/openapi';
import { mountRoutes, type Route } from './http/registry';
import { requestLogger } from './http/request-log';
import { markSurrogateEscapes, refuseLoneSurrogates } from './http/unicode';
import type { Logger } from './logger';
import { ProjectRepositories } from './projects/repository';
import { projectRoutes } from './projects/routes';
import { ProjectService } from './projects/service';
import { ProjectStore } from './projects/store';
import { provenanceRoutes } from './provenance/routes';
import { ProvenanceService } from './provenance/service';
import { ProvenanceStore } from './provenance/store';
import { mlflowRouters } from './mlflow/apis';
import { modelRoutes } from './models/routes';
import { alertRoutes } from './monitoring/alerts/routes';
import { monitoringRoutes } from './monitoring/routes';
import { MonitoringService } from './monitoring/service';
import { MonitoringStore } from './monitoring/store';
import { AlertService } from './monitoring/alerts/service';
import { AlertStore } from './monitoring/alerts/store';
import { retrainRoutes } from './monitoring/retrain/routes';
import { RetrainService } from './monitoring/retrain/service';
import { RetrainStore } from './monitoring/retrain/store';
import { Proposer } from './sweeps/proposer';
import { sweepRoutes } from './sweeps/routes';
import { SweepService } from './sweeps/service';
import { SweepStore } from './sweeps/store';
import { ModelService } from './models/service';
import { ModelStore } from './models/store';
import { DomainEvents } from './realtime/events';
import { attachRealtime, type RealtimeServer } from './realtime/socket';
import { RunnerAccessPolicy, withRunnerAccess } from './runners/access';
import { RunnerAgents } from './runners/agents';
import { JobLog } from './runners/jobLog';
import { JobLifecycle } from './runners/lifecycle';
import { runnerPoolRoutes } from './runners/pools/routes';
import { RunnerPoolService } from './runners/pools/service';
import { RunnerPoolStore } from './runners/pools/store';
import { runnerRoutes } from './runners/routes';
import { Scheduler } from './runners/scheduler';
import { RunnerService } from './runners/service';
import { attachRunnerSocket } from './runners/socket';
import { JobStore } from './runners/store';
import { RunnerViews } from './runners/views';
import { RunArtifacts } from './runs/artifacts';
import { ArtifactStore } from './runs/artifactStore';
import { RunDetailsStore } from './runs/detailsStore';
import { LiveMetrics } from './runs/live';
import { MetricSeries } from './runs/metrics';
import { MetricStore } from './runs/metricStore';
import { artifactNodeRef, RunProvenance, runNodeRef } from './runs/provenance';
import { runRoutes } from './runs/routes';
import { RunSearchStore } from './runs/searchStore';
import { RunService } from './runs/service';
import { RunStore } from './runs/store';
import { snapshotRoutes } from './snapshots/routes';
import { SnapshotService } from './snapshots/service';
import { SnapshotStore } from './snapshots/store';
import { VERSION } from './version';

export interface AppDeps {
  config: Config;
  /** Opened and migrated; the app closes it on close(). */
  db: Database;
  logger: Logger;
}

/** What server.json holds: how to reach the running server. */
export interface ServerInfo {
  url: string;
  host: string;
  port: number;
  pid: number;
  version: string;
}

export interface RunlabApp {
  readonly express: Express;
  readonly httpServer: http.Server;
  readonly io: RealtimeServer;
  readonly routes: readonly Route[];
  readonly layout: DataDirLayout;
  /** The open database, for the CLI's maintenance commands and for tests. */
  readonly db: Database;
  readonly auth: AuthService;
  readonly projects: ProjectService;
  readonly runs: RunService;
  readonly snapshots: SnapshotService;
  readonly blobs: BlobStore;
  readonly datasets: DatasetService;
  readonly models: ModelService;
  readonly deployments: DeploymentService;
  /** The Kubernetes clusters of the kubeconfig (its apiCalls count what this server asked them). */
  readonly kubernetes: KubernetesClusters;
  readonly provenance: ProvenanceService;
  readonly runners: RunnerService;
  readonly scheduler: Scheduler;
  readonly alerts: AlertService;
  /** Prediction logs, drift windows, feedback and /metrics. */
  readonly monitoring: MonitoringService;
  readonly retrains: RetrainService;
  readonly sweeps: SweepService;
  /** Starts listening and writes server.json. */
  listen(): Promise<ServerInfo>;
  /** Stops accepting, lets in-flight requests finish, closes sockets and DB, removes server.json. */
  close(): Promise<void>;
}

/** How long in-flight requests get to finish on shutdown before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;
/** How long live (websocket) clients get to answer the close before their connections are cut. */
const WEBSOCKET_CLOSE_GRACE_MS = 1000;

function urlFor(host: string, port: number): string {
  // A wildcard bind is reachable on loopback; clients need a concrete address.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** The server's identity (migration 11): the same for its data directory at any address. */
function serverIdentity(db: Database): string {
  return (db.prepare('SELECT id FROM server_identity').get() as { id: string }).id;
}

export function createApp({ config, db, logger }: AppDeps): RunlabApp {
  const layout = dataDirLayout(config.dataDir);
  const events = new DomainEvents();
  const auth = new AuthService(new TokenStore(db));
  const repositories = new ProjectRepositories(layout.projectsDir);
  const projects = new ProjectService(new ProjectStore(db), repositories, events);
  const blobs = new BlobStore(layout.blobsDir);
  const live = new LiveMetrics(events);
  // Run details (params, tags, metric summaries, io) are cached; both stores writing them forget through it.
  const runDetails = new RunDetailsStore(db);
  const runStore = new RunStore(db, runDetails);
  const artifactStore = new ArtifactStore(db);
  const runs = new RunService({
    store: runStore,
    searchStore: new RunSearchStore(db),
    metrics: new MetricSeries(new MetricStore(db, runDetails), live.maxPoints),
    artifacts: new RunArtifacts({ db, store: artifactStore, blobs, maxArtifactBytes: config.maxArtifactBytes }),
    projects,
    events,
    live
  });
  const snapshots = new SnapshotService(runs, new SnapshotStore(repositories), config.snapshotKeepOutputs);
  const provenance = new ProvenanceService(new ProvenanceStore(db));
  const runProvenance = new RunProvenance(runStore, artifactStore);
  provenance.register('run', (ids) => runProvenance.runNodes(ids));
  provenance.register('artifact', (ids) => runProvenance.artifactNodes(ids));
  runs.onArtifactStored((run, artifact) => provenance.link(run.projectId, runNodeRef(run.id), artifactNodeRef(run.id, artifact.path)));
  const chunkPacks = new ChunkPacks(layout.chunksDir);
  const datasets = new DatasetService({ store: new DatasetStore(db), packs: chunkPacks, projects, runs, provenance, events });
  provenance.register('dataset_version', (ids) => datasets.provenanceNodes(ids));
  runs.onIoRecorded((run, direction, io) => datasets.linkRunIo(run, direction, io));
  const models = new ModelService({ db, store: new ModelStore(db), runs, blobs, provenance, events });
  provenance.register('model_version', (ids) => models.provenanceNodes(ids));
  const kubernetes = new KubernetesClusters({ kubeconfig: config.kubeconfig, logger });
  /** This server's URL once it listens: pods reach it there unless RUNLAB_KUBERNETES_SERVER_URL says otherwise. */
  let ownUrl = '';
  const deployments = new DeploymentService({
    store: new DeploymentStore(db),
    models,
    auth,
    provenance,
    events,
    target: new LocalTarget({ python: config.servingPython, logsDir: path.join(config.dataDir, 'deployment-logs'), logger }),
    kubernetes: new KubernetesTarget({
      clusters: kubernetes,
      logger,
      settings: () => ({ image: config.servingImage, serverUrl: config.kubernetesServerUrl ?? ownUrl })
    }),
    settings: {
      pollSeconds: config.servingPollSeconds,
      predictionSampleRate: config.predictionSampleRate,
      predictionLimitPerSecond: config.predictionLimitPerSecond
    },
    logger
  });
  provenance.register('deployment', (ids) => deployments.provenanceNodes(ids));
  const monitoring = new MonitoringService({
    store: new MonitoringStore(db),
    models,
    deployments,
    events,
    logger,
    retentionDays: config.predictionRetentionDays
  });
  // Telemetry's sampled predictions go to monitoring's columnar blocks (listPredictions reads them there).
  deployments.setPredictionLog(monitoring);
  monitoring.start();
  const jobStore = new JobStore(db);
  const scheduler = new Scheduler(jobStore, { heartbeatMs: config.runnerHeartbeatMs, leaseMs: config.runnerLeaseMs });
  // No runner is connected yet: running attempts get a full lease for their runners to come back.
  const waiting = scheduler.recover();
  if (waiting > 0) logger.info({ attempts: waiting }, 'jobs running when the server stopped wait for their runners to reconnect');
  const jobLog = new JobLog(path.join(config.dataDir, 'job-logs'));
  const runnerViews = new RunnerViews(scheduler, jobStore, runs);
  const lifecycle = new JobLifecycle({ scheduler, store: jobStore, runs, events, log: jobLog, views: runnerViews, logger });
  const runners = new RunnerService({
    scheduler,
    store: jobStore,
    auth,
    runs,
    snapshots,
    datasets,
    projects,
    provenance,
    lifecycle,
    views: runnerViews,
    log: jobLog
  });
  const alerts = new AlertService({
    store: new AlertStore(db),
    deployments,
    provenance,
    events,
    settings: {
      evaluationSeconds: config.alertEvaluationSeconds,
      webhooks: { timeoutMs: config.webhookTimeoutMs, retryDelaysMs: config.webhookRetryDelaysMs }
    },
    logger
  });
  provenance.register('alert', (ids) => alerts.provenanceNodes(ids));
  // Drift windows and feedback accuracy feed the alert rules; the overview counts firing alerts.
  alerts.attachMonitoring(monitoring);
  monitoring.setAlertCounter((deploymentId) => alerts.firingCount(deploymentId));
  const retrains = new RetrainService({
    store: new RetrainStore(db),
    deployments,
    models,
    runs,
    datasets,
    runners,
    alerts,
    provenance,
    events,
    logger
  });
  const sweeps = new SweepService({
    store: new SweepStore(db),
    runs,
    snapshots,
    runners,
    proposer: new Proposer(config.sweepPython),
    events,
    logger
  });
  const runnerAgents = new RunnerAgents({ scheduler, store: jobStore, lifecycle, log: jobLog });
  const runnerPools = new RunnerPoolService({
    store: new RunnerPoolStore(db),
    jobs: jobStore,
    scheduler,
    lifecycle,
    auth,
    clusters: kubernetes,
    events,
    log: jobLog,
    logger,
    settings: () => ({ image: config.runnerImage, serverUrl: config.kubernetesServerUrl ?? ownUrl })
  });
  const runnerAccess = new RunnerAccessPolicy(scheduler, jobStore, runs);
  const sweptPacks = chunkPacks.sweepTemp();
  if (sweptPacks.length > 0) logger.info({ files: sweptPacks }, 'removed chunk packs left half-written by an interrupted upload');

  const localAdmin = auth.ensureLocalAdminToken(config.dataDir);
  if (localAdmin === 'created') logger.info({ file: layout.adminTokenFile }, 'created local admin token');
  if (localAdmin === 'upgraded') logger.info({ file: layout.adminTokenFile }, 'gave the local admin token scope admin');
  // DNS-rebinding defence for HTTP and live connections alike (http/hosts.ts).
  const hostNames = serverHostNames(config.host, config.allowedHosts);
  if (isWildcardAddress(config.host) && config.allowedHosts.length === 0) {
    logger.warn(
      { host: config.host },
      'listening on every interface: clients must use localhost or an IP address; set RUNLAB_ALLOWED_HOSTS to the names they use'
    );
  }

  const routes: Route[] = withRunnerAccess([
    ...healthRoutes(VERSION, serverIdentity(db), () => openApiDocument),
    ...authRoutes(auth),
    ...projectRoutes(projects),
    ...runRoutes(runs),
    ...snapshotRoutes(snapshots),
    ...datasetRoutes(datasets),
    ...provenanceRoutes(provenance),
    ...runnerRoutes(runners),
    ...runnerPoolRoutes(runnerPools),
    ...modelRoutes(models),
    ...deploymentRoutes(deployments),
    ...kubernetesRoutes(kubernetes),
    ...monitoringRoutes(monitoring),
    ...alertRoutes(alerts),
    ...retrainRoutes(retrains),
    ...sweepRoutes(sweeps, projects)
  ]);
  const openApiDocument = buildOpenApiDocument(routes, VERSION, {
    maxBodyBytes: config.maxBodyBytes,
    maxLargeBodyBytes: config.maxLargeBodyBytes
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogger(logger));
  app.use(hostCheck(hostNames));
  app.use(cors(corsOptions(config.allowedOrigins)));
  const authenticate = createAuthenticator(auth);
  const jsonParser = (limit: number, setting: string): express.RequestHandler => {
    const parse = express.json({ limit, type: ['application/json', 'application/*+json'], verify: markSurrogateEscapes });
    // Tag failures with the setting that holds the limit, so a 413 names what to change.
    return (req, res, next) =>
      parse(req, res, (error?: unknown) =>
        error ? next(Object.assign(error as object, { setting })) : refuseLoneSurrogates(req, res, next)
      );
  };
  const jsonBody = jsonParser(config.maxBodyBytes, 'RUNLAB_MAX_BODY_BYTES');
  const largeJsonBody = jsonParser(config.maxLargeBodyBytes, 'RUNLAB_MAX_LARGE_BODY_BYTES');
  // MLflow's tracking, registry and proxied-artifact REST APIs, for the official mlflow client;
  // they answer errors in MLflow's shape.
  const mlflow = mlflowRouters(
    { db, runs, projects, models, blobs, maxArtifactBytes: config.maxArtifactBytes },
    { authenticate, jsonBody: largeJsonBody, logger }
  );
  app.use('/api/2.0/mlflow', mlflow.api);
  app.use('/ajax-api/2.0/mlflow', mlflow.api);
  app.use('/api/2.0/mlflow-artifacts', mlflow.artifacts);
  app.use('/ajax-api/2.0/mlflow-artifacts', mlflow.artifacts);
  app.use('/api/3.0/mlflow', mlflow.serverInfo);
  const router = express.Router();
  mountRoutes(router, routes, { authenticate, runnerAccess: runnerAccess.check, jsonBody, largeJsonBody });
  app.use(router);
  app.use(unknownRouteHandler);
  app.use(createErrorHandler(logger));

  const httpServer = http.createServer(app);
  // Live connections upgraded to websockets, which closeAllConnections() no longer sees.
  const upgraded = new Set<Duplex>();
  httpServer.on('upgrade', (_request, socket: Duplex) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  });
  // Requests not yet answered, so a shutdown that has to cut them can say which ones held it.
  const inFlight = new Set<http.IncomingMessage>();
  httpServer.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    inFlight.add(request);
    response.once('close', () => inFlight.delete(request));
  });
  const io = attachRealtime({ httpServer, auth, events, allowedOrigins: config.allowedOrigins, hostNames, logger });
  attachRunnerSocket({
    io,
    httpServer,
    auth,
    agents: runnerAgents,
    lifecycle,
    events,
    logger,
    tickMs: Math.min(1000, config.runnerHeartbeatMs)
  });

  let listening = false;
  let closing: Promise<void> | undefined;

  const listen = async (): Promise<ServerInfo> => {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(config.port, config.host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    listening = true;
    const port = (httpServer.address() as AddressInfo).port;
    const info: ServerInfo = { url: urlFor(config.host, port), host: config.host, port, pid: process.pid, version: VERSION };
    const temporary = `${layout.serverInfoFile}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(temporary, layout.serverInfoFile);
    logger.info({ url: info.url, dataDir: config.dataDir, version: VERSION }, 'listening');
    ownUrl = info.url;
    // Live deployments serve again: their runtimes need this server's URL.
    await deployments.start(info.url);
    // Runner pools start pods that connect back here.
    runnerPools.start();
    // Alert rules are judged on a timer; webhook deliveries left pending resume.
    alerts.start();
    // Running sweeps follow their trials' jobs to where they are now and go on.
    sweeps.start();
    return info;
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      logger.info('shutting down');
      // Serving processes first, while they can still send their last telemetry here.
      await deployments.close();
      await runnerPools.close();
      await alerts.close();
      await sweeps.close();
      monitoring.close();
      const forceTimer = setTimeout(() => {
        const held = [...inFlight].map((request) => `${request.method} ${request.url?.split('?')[0]}`);
        logger.warn(
          { requests: held },
          `${held.length} request(s) still unanswered ${SHUTDOWN_GRACE_MS / 1000} s into shutdown; cutting them`
        );
        httpServer.closeAllConnections();
      }, SHUTDOWN_GRACE_MS);
      forceTimer.unref();
      // Every live client is told to close; one that never answers the websocket close frame
      // (a runner agent busy in a job) would hold shutdown for ws's 30 s close timeout.
      const cutTimer = setTimeout(() => upgraded.forEach((socket) => socket.destroy()), WEBSOCKET_CLOSE_GRACE_MS);
      cutTimer.unref();
      // io.close() disconnects every socket, then closes the HTTP server, which stops accepting
      // at once and calls back when in-flight requests have finished.
      await new Promise<void>((resolve) => {
        io.close((error) => {
          if (error && listening) logger.warn({ err: error }, 'http server close reported an error');
          resolve();
        });
      });
      clearTimeout(forceTimer);
      clearTimeout(cutTimer);
      live.close();
      kubernetes.close();
      db.close();
      if (listening) fs.rmSync(layout.serverInfoFile, { force: true });
      logger.info('stopped');
    })();
    return closing;
  };

  return {
    express: app,
    httpServer,
    io,
    routes,
    layout,
    db,
    auth,
    projects,
    runs,
    snapshots,
    blobs,
    datasets,
    models,
    deployments,
    kubernetes,
    provenance,
    runners,
    scheduler,
    alerts,
    monitoring,
    retrains,
    sweeps,
    listen,
    close
  };
}
