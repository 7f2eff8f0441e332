/**
 * Artifacts: files stored with a run at a path, content-addressed in the blob store. An upload
 * streams into a staged blob; its row, every stored-artifact hook and the blob's final rename
 * then commit in one transaction. Runs are checked by the caller (RunService).
 */
import type { Readable } from 'node:stream';
import type { Artifact } from '../contract';
import { isBlobReferenced } from '../blobs/references';
import type { BlobStore } from '../blobs/store';
import type { Database } from '../db/database';
import { notFound } from '../http/errors';
import type { ArtifactStore } from './artifactStore';
import type { RunRecord } from './store';

/** Called as an artifact is stored, inside the same transaction as its row. */
export type ArtifactHook = (run: RunRecord, artifact: Artifact) => void;

export interface RunArtifactsDeps {
  db: Database;
  store: ArtifactStore;
  blobs: BlobStore;
  maxArtifactBytes: number;
  now?: () => Date;
}

const isForeignKeyViolation = (error: unknown): boolean => (error as { code?: string } | null)?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';

export class RunArtifacts {
  private readonly db: Database;
  private readonly store: ArtifactStore;
  private readonly blobs: BlobStore;
  private readonly maxArtifactBytes: number;
  private readonly now: () => Date;
  private readonly hooks: ArtifactHook[] = [];

  constructor(deps: RunArtifactsDeps) {
    this.db = deps.db;
    this.store = deps.store;
    this.blobs = deps.blobs;
    this.maxArtifactBytes = deps.maxArtifactBytes;
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Registers a hook called for every artifact stored, inside the storing transaction
   * (provenance records the run → artifact edge this way, atomically with the row).
   */
  onStored(hook: ArtifactHook): void {
    this.hooks.push(hook);
  }

  /** A run's artifacts, by path. */
  list(runId: string): Artifact[] {
    return this.store.artifacts(runId);
  }

  /**
   * Streams an upload into the blob store and records it at `path` (replacing an earlier
   * artifact there). The blob is durable before the answer; the row and the blob's final
   * rename commit together.
   */
  async put(run: RunRecord, path: string, source: Readable): Promise<Artifact> {
    const staged = await this.blobs.stage(source, this.maxArtifactBytes);
    const artifact: Artifact = { path, size: staged.size, digest: staged.digest, createdAt: this.now().toISOString() };
    try {
      this.db.transaction(() => {
        const replaced = this.store.artifact(run.id, path);
        this.store.upsert(run.id, artifact);
        for (const hook of this.hooks) hook(run, artifact);
        this.blobs.commitSync(staged);
        if (replaced && replaced.digest !== artifact.digest && !isBlobReferenced(this.db, replaced.digest)) {
          this.blobs.removeSync(replaced.digest);
        }
      })();
    } catch (error) {
      await this.blobs.discard(staged);
      // The run was deleted while its upload streamed in.
      if (isForeignKeyViolation(error)) throw notFound(`Run ${run.id}`);
      throw error;
    }
    return artifact;
  }

  open(runId: string, path: string): { artifact: Artifact; body: Readable } {
    const artifact = this.store.artifact(runId, path);
    if (!artifact) throw notFound(`Artifact "${path}" of run ${runId}`);
    return { artifact, body: this.blobs.open(artifact.digest) };
  }

  /** The blobs a run's artifacts use (read before the run is deleted). */
  digests(runId: string): string[] {
    return this.store.digests(runId);
  }

  /**
   * Removes the blobs of `digests` that no row references any more. Synchronous, inside the
   * deleting transaction, so a concurrent upload of the same content cannot interleave.
   */
  removeUnreferenced(digests: readonly string[]): void {
    for (const digest of digests) {
      if (!isBlobReferenced(this.db, digest)) this.blobs.removeSync(digest);
    }
  }
}
