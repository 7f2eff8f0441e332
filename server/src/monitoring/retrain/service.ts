/**
 * Retrain: re-produce the run that logged a deployment's stable model version, on a runner, with
 * the newest version of each dataset that run read (or the versions the request chose), and
 * propose the model version the new run logs as a canary of the same deployment (or promote it,
 * when asked to: a rule with action retrain_and_promote, or `promote: true`).
 *
 * Its status follows the job (queued → running → failed/cancelled) and the model registry
 * (a version of the same model logged by the retrain's run → proposed, or promoted). The job's
 * lifecycle is followed through the `job:updated` domain events, which every change of a job
 * publishes (runners/lifecycle.ts); versions through ModelService.onVersionCreated.
 *
 * Provenance: alert → retrain run (the rerun links source run → retrain run, the registry run →
 * model version, the deployment model version → deployment when the canary is added).
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Alert, AlertRule, Deployment, Job, ModelVersion, RetrainRequest, Retrain, Run } from '../../contract';
import { AppError } from '../../http/errors';
import type { Principal } from '../../http/registry';
import type { Logger } from '../../logger';
import type { ProvenanceService } from '../../provenance/service';
import type { DomainEvents } from '../../realtime/events';
import type { RerunInput } from '../../runners/service';
import type { UpdateTrafficInput } from '../../deployments/service';
import type { RetrainStore } from './store';

export type RetrainInput = z.output<typeof RetrainRequest>;

export interface RetrainServiceDeps {
  store: RetrainStore;
  deployments: {
    get(id: string): Deployment;
    updateTraffic(id: string, input: UpdateTrafficInput, actor: Principal): Promise<Deployment>;
    promote(id: string, reason: string, actor: Principal): Promise<Deployment>;
  };
  models: { versionById(id: string): ModelVersion; onVersionCreated(listener: (version: ModelVersion) => void): void };
  runs: { get(id: string): Run };
  datasets: { version(projectName: string, name: string, ref: string): { label: string } };
  runners: { rerun(runId: string, input: RerunInput): Promise<Job> };
  alerts: {
    getAlert(id: string): Alert;
    linkRetrain(alertId: string, retrainId: string): void;
    onFired(listener: (alert: Alert, rule: AlertRule) => void): void;
  };
  provenance: ProvenanceService;
  events: DomainEvents;
  logger: Logger;
  now?: () => Date;
}

/** A job status that ends it, and the retrain status it gives when no version was logged. */
const JOB_ENDINGS: Partial<Record<Job['status'], Retrain['status']>> = {
  failed: 'failed',
  timed_out: 'failed',
  cancelled: 'cancelled',
  finished: 'failed'
};

/** A dataset input of a run: `iris@v3`. */
const DATASET_INPUT = /^(.+)@(v?[1-9][0-9]*)$/;

export class RetrainService {
  private readonly store: RetrainStore;
  private readonly now: () => Date;

  constructor(private readonly deps: RetrainServiceDeps) {
    this.store = deps.store;
    this.now = deps.now ?? (() => new Date());
    deps.events.subscribe((event, payload) => {
      if (event !== 'job:updated') return;
      try {
        this.jobChanged(payload as Job);
      } catch (error) {
        deps.logger.warn({ err: error }, 'a retrain did not follow its job');
      }
    });
    deps.models.onVersionCreated((version) => this.versionCreated(version));
    deps.alerts.onFired((alert, rule) => {
      if (rule.action === 'notify') return;
      const actor: Principal = { tokenId: '', name: `alert rule ${rule.name}`, scope: 'user' };
      const request: RetrainInput = { alertId: alert.id, datasets: {}, canaryPercent: 10, promote: rule.action === 'retrain_and_promote' };
      this.retrain(alert.deploymentId, request, actor).catch((error: unknown) =>
        deps.logger.warn(
          { err: error, alertId: alert.id, deploymentId: alert.deploymentId },
          `alert rule ${rule.name} could not start a retrain`
        )
      );
    });
  }

  list(deploymentId: string): Retrain[] {
    this.deps.deployments.get(deploymentId);
    return this.store.ofDeployment(deploymentId);
  }

  async retrain(deploymentId: string, input: RetrainInput, actor: Principal): Promise<Retrain> {
    const deployment = this.deps.deployments.get(deploymentId);
    if (deployment.status === 'stopped') {
      throw new AppError('conflict', `Deployment ${deployment.name} is undeployed: there is no canary to propose a retrained model to`);
    }
    const stable = deployment.slots.find((slot) => slot.role === 'stable');
    if (!stable) throw new AppError('conflict', `Deployment ${deployment.name} serves no stable version`);
    if (input.alertId !== null) {
      const alert = this.deps.alerts.getAlert(input.alertId);
      if (alert.deploymentId !== deploymentId) {
        throw new AppError(
          'invalid_request',
          `Alert ${input.alertId} belongs to deployment ${alert.deploymentName}, not ${deployment.name}`,
          [{ path: 'body.alertId', message: 'an alert of this deployment' }]
        );
      }
    }
    const active = this.store.activeOfDeployment(deploymentId);
    if (active) {
      throw new AppError(
        'conflict',
        `Deployment ${deployment.name} has a retrain under way already (${active.id}, ${active.status}, job ${active.jobId}); wait for it or cancel its job`
      );
    }
    const version = this.deps.models.versionById(stable.modelVersionId);
    const what = `${version.modelName} v${version.version}`;
    if (version.runId === null) {
      throw new AppError(
        'conflict',
        `${what} was registered without a run (for example through MLflow without one), so Runlab has no notebook to re-produce it; log the model from a Runlab run to retrain it`
      );
    }
    const source = this.deps.runs.get(version.runId);
    if (!source.snapshot) {
      throw new AppError(
        'conflict',
        `${what} was logged by run ${source.name} (${source.id}), which has no snapshot, so there is no notebook to re-run; runs started from a notebook in JupyterLab (or as jobs) have one`
      );
    }
    const datasets = this.datasetsFor(source, input.datasets);
    const job = await this.deps.runners.rerun(source.id, {
      datasets,
      labels: input.labels,
      env: 'runner'
    } as RerunInput);
    const at = this.now().toISOString();
    const retrain: Retrain = {
      id: randomUUID(),
      deploymentId,
      alertId: input.alertId,
      sourceRunId: source.id,
      modelName: version.modelName,
      fromModelVersionId: version.id,
      jobId: job.id,
      runId: job.runId,
      datasets,
      status: job.status === 'running' ? 'running' : 'queued',
      newModelVersionId: null,
      newVersion: null,
      canaryPercent: input.canaryPercent,
      promote: input.promote,
      error: null,
      createdAt: at,
      createdBy: actor.name,
      finishedAt: null
    };
    this.store.insert(retrain);
    if (input.alertId !== null) {
      this.deps.provenance.link(source.projectId, `alert:${input.alertId}`, `run:${job.runId}`);
      this.deps.alerts.linkRetrain(input.alertId, retrain.id);
    }
    this.deps.logger.info({ retrainId: retrain.id, deploymentId, jobId: job.id, datasets }, `retrain of ${what} queued`);
    // The job may have moved on while the retrain was being recorded.
    this.jobChanged(job);
    return this.publish(retrain.id);
  }

  /** For each dataset the source run read: the newest version, unless the request chose one. */
  private datasetsFor(source: Run, chosen: Record<string, string>): Record<string, string> {
    const datasets: Record<string, string> = {};
    for (const io of source.inputs) {
      if (io.kind !== 'dataset') continue;
      const match = DATASET_INPUT.exec(io.name);
      if (!match) continue;
      const name = match[1];
      try {
        datasets[name] = this.deps.datasets.version(source.projectName, name, 'latest').label;
      } catch {
        // The dataset is gone: the rerun's own pins decide (it refuses clearly if the version is gone too).
        datasets[name] = match[2].startsWith('v') ? match[2] : `v${match[2]}`;
      }
    }
    return { ...datasets, ...chosen };
  }

  private jobChanged(job: Job): void {
    const retrain = this.store.activeOfJob(job.id);
    if (!retrain) return;
    if (job.status === 'running' && retrain.status === 'queued') {
      this.store.update(retrain.id, { status: 'running' });
      this.publish(retrain.id);
      return;
    }
    const ending = JOB_ENDINGS[job.status];
    // A version was logged: proposing it (versionCreated) decides the outcome, not the job.
    if (!ending || retrain.newModelVersionId !== null) return;
    const error =
      job.status === 'finished'
        ? `The retrain run finished without logging a version of model ${retrain.modelName}`
        : `The retrain job ${job.status === 'timed_out' ? 'timed out' : job.status}${job.error ? `: ${job.error}` : ''}`;
    this.store.update(retrain.id, { status: ending, error, finishedAt: this.now().toISOString() });
    this.publish(retrain.id);
  }

  private versionCreated(version: ModelVersion): void {
    if (version.runId === null) return;
    const retrain = this.store.activeOfRun(version.runId);
    if (!retrain || version.modelName !== retrain.modelName || retrain.newModelVersionId !== null) return;
    this.store.update(retrain.id, { status: 'running', newModelVersionId: version.id, newVersion: version.version });
    this.publish(retrain.id);
    void this.propose(retrain, version);
  }

  /** The new version as a canary of the deployment, or its stable version when the retrain promotes. */
  private async propose(retrain: Retrain, version: ModelVersion): Promise<void> {
    const actor: Principal = { tokenId: '', name: retrain.createdBy, scope: 'user' };
    const reason = `retrained from run ${retrain.sourceRunId}${retrain.alertId ? ` after alert ${retrain.alertId}` : ''}`;
    try {
      await this.deps.deployments.updateTraffic(
        retrain.deploymentId,
        { second: { mode: 'canary', version: `v${version.version}`, percent: retrain.canaryPercent }, reason },
        actor
      );
      if (retrain.promote) await this.deps.deployments.promote(retrain.deploymentId, reason, actor);
      this.store.update(retrain.id, { status: retrain.promote ? 'promoted' : 'proposed', finishedAt: this.now().toISOString() });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.store.update(retrain.id, {
        status: 'failed',
        error: `${version.modelName} v${version.version} was registered but could not be ${retrain.promote ? 'promoted' : 'proposed as a canary'}: ${message}`,
        finishedAt: this.now().toISOString()
      });
    }
    this.publish(retrain.id);
  }

  private publish(id: string): Retrain {
    const retrain = this.store.get(id) as Retrain;
    this.deps.events.publish('retrain:updated', retrain);
    return retrain;
  }
}
