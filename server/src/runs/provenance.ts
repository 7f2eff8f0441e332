/**
 * The runs feature's part of the provenance graph: `run:<runId>` and `artifact:<runId>/<path>`
 * nodes, resolved from the runs and artifacts tables. createApp registers these resolvers and
 * records the run → artifact edge as each artifact is stored.
 */
import { formatBytes, type ProvenanceNode } from '../contract';
import type { ArtifactStore } from './artifactStore';
import type { RunStore } from './store';

export const runNodeRef = (runId: string): string => `run:${runId}`;

/** Artifact ids are `<runId>/<path>`; run ids never hold a `/`. */
export const artifactNodeRef = (runId: string, path: string): string => `artifact:${runId}/${path}`;

export class RunProvenance {
  constructor(
    private readonly runs: RunStore,
    private readonly artifacts: ArtifactStore
  ) {}

  /** The provenance resolver of `run` nodes. */
  runNodes(ids: readonly string[]): ProvenanceNode[] {
    return this.runs.nodes(ids).map((run) => ({
      ref: runNodeRef(run.id),
      kind: 'run',
      label: run.name,
      detail: run.status,
      projectName: run.projectName,
      createdAt: run.startedAt,
      runId: run.id,
      datasetName: null,
      versionNumber: null,
      artifactPath: null,
      modelName: null
    }));
  }

  /** The provenance resolver of `artifact` nodes. */
  artifactNodes(ids: readonly string[]): ProvenanceNode[] {
    const nodes: ProvenanceNode[] = [];
    for (const id of ids) {
      const slash = id.indexOf('/');
      if (slash <= 0) continue;
      const runId = id.slice(0, slash);
      const artifact = this.artifacts.artifactWithProject(runId, id.slice(slash + 1));
      if (!artifact) continue;
      nodes.push({
        ref: `artifact:${id}`,
        kind: 'artifact',
        label: artifact.path,
        detail: formatBytes(artifact.size),
        projectName: artifact.projectName,
        createdAt: artifact.createdAt,
        runId,
        datasetName: null,
        versionNumber: null,
        artifactPath: artifact.path,
        modelName: null
      });
    }
    return nodes;
  }
}
