/**
 * Where a deployment's serving runtime runs. `local` (local.ts) is the embedded default: serving
 * processes on this machine. Kubernetes comes next behind the same interface; the deployments
 * service only starts, pokes and stops a target's runtimes and hears back what they do.
 */

/** What a target needs to run one deployment's runtime. */
export interface ServingLaunch {
  deploymentId: string;
  /** Local target: the port to serve on. */
  port: number;
  replicas: number;
  /** This server's URL: the runtime fetches its spec and files and reports telemetry there. */
  serverUrl: string;
  /** The deployment token's secret, handed to the runtime (RUNLAB_TOKEN); never stored. */
  tokenSecret: string;
}

/** What a target reports about a deployment's runtime; the service turns it into status and history. */
export interface ServingObserver {
  /** The deployment's current revision: "ready" means ready on it. */
  revisionOf(deploymentId: string): number | undefined;
  /** Every replica answers ready on the current revision. */
  ready(deploymentId: string, revision: number): void;
  /** The runtime answers but is still loading, or still on an older revision. */
  loading(deploymentId: string, servedRevision: number | null): void;
  /** The runtime was ready and no longer answers, though its process still runs. */
  unresponsive(deploymentId: string, message: string): void;
  /** The runtime's process exited; it is started again in `restartInMs`. */
  exited(deploymentId: string, reason: string, restartInMs: number): void;
  /** It keeps crashing at start: no more restarts until something changes. */
  failed(deploymentId: string, message: string): void;
}

export interface ServingTarget {
  /** Who hears what the runtimes do (the deployments service); set once, before start(). */
  observe(observer: ServingObserver): void;
  /** Starts (or restarts from scratch) the runtime of a deployment. */
  start(launch: ServingLaunch): Promise<void>;
  /** The deployment has a new revision: watch closely until its runtime serves it. */
  revisionChanged(deploymentId: string): void;
  /** Stops the deployment's runtime and waits until it is gone. */
  stop(deploymentId: string): Promise<void>;
  /** Stops every runtime this target started (server shutdown). */
  stopAll(): Promise<void>;
  /** Whether a runtime of the deployment is running or about to be restarted. */
  isRunning(deploymentId: string): boolean;
}
