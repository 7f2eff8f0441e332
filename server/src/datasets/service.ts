/**
 * Datasets: chunk upload/fetch, immutable versions (manifests), diffs, and the provenance of
 * versions that runs read and write. A version is committed in one transaction and only once
 * every chunk it names is durable in the store.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { z } from 'zod';
import {
  CHUNK_FRAME_HEADER_BYTES,
  MAX_CHUNK_UPLOAD_BYTES,
  type CommitDatasetRequest,
  type CommitDatasetResponse,
  type Dataset,
  type DatasetDiffResponse,
  type DatasetDiffSummary,
  type DatasetManifestResponse,
  type DatasetVersion,
  type FieldProblem,
  type MissingChunksResponse,
  type ProvenanceNode,
  type RunIO,
  type UploadChunksResponse
} from '../contract';
import { AppError, notFound } from '../http/errors';
import type { ProjectService } from '../projects/service';
import { formatBytes } from '../contract';
import type { ProvenanceService } from '../provenance/service';
import { projectRoom, type DomainEvents } from '../realtime/events';
import type { RunService } from '../runs/service';
import { chunkProblem, frameHeader, PackReader, parseChunkUpload, readBody, type ChunkFrame, type ChunkPacks } from './chunks';
import {
  comparePaths,
  diffManifests,
  enclosingFile,
  fileContentHash,
  packChunks,
  packedChunkKeys,
  unpackChunks,
  versionHash,
  type DiffEntry,
  type ManifestLine
} from './manifest';
import type { ChunkLocation, DatasetRecord, DatasetStore, StoredFile } from './store';

export type CommitDatasetInput = z.output<typeof CommitDatasetRequest>;

/**
 * A fetch answer is verified this far ahead before its first byte is sent, so a corrupt chunk
 * in it is a clean 500. Past it (huge requests) chunks are verified as they stream, and a bad
 * one cuts the connection: the client sees a short answer, never wrong bytes.
 */
const FETCH_VERIFY_AHEAD_BYTES = 64 * 1024 * 1024;
/** Size of the pieces a fetch answer is written in. */
const FETCH_PIECE_BYTES = 1024 * 1024;

/** How many missing chunks a 409 lists. */
const LISTED_MISSING_CHUNKS = 20;
/** How many wrong chunk sizes a 400 lists. */
const LISTED_WRONG_SIZES = 100;

export const datasetVersionNodeRef = (versionId: string): string => `dataset_version:${versionId}`;

/** `latest`, `v3` or `3` (already validated by VersionRef). */
function parseVersionRef(ref: string): number | 'latest' {
  return ref === 'latest' ? 'latest' : Number(ref.replace(/^v/, ''));
}

export interface DatasetServiceDeps {
  store: DatasetStore;
  packs: ChunkPacks;
  projects: ProjectService;
  runs: RunService;
  provenance: ProvenanceService;
  events: DomainEvents;
  now?: () => Date;
}

export class DatasetService {
  private readonly store: DatasetStore;
  private readonly packs: ChunkPacks;
  private readonly projects: ProjectService;
  private readonly runs: RunService;
  private readonly provenance: ProvenanceService;
  private readonly events: DomainEvents;
  private readonly now: () => Date;

  constructor(deps: DatasetServiceDeps) {
    this.store = deps.store;
    this.packs = deps.packs;
    this.projects = deps.projects;
    this.runs = deps.runs;
    this.provenance = deps.provenance;
    this.events = deps.events;
    this.now = deps.now ?? (() => new Date());
  }

  // ------------------------------------------------------------------------------------------
  // chunks

  missingChunks(hashes: readonly string[]): MissingChunksResponse {
    const unique = [...new Set(hashes)];
    const present = this.store.presentChunks(unique);
    return { missing: unique.filter((hash) => !present.has(hash)) };
  }

  /**
   * Verifies every chunk of an upload, then writes the new ones into one durable pack and
   * indexes them in one transaction. A bad frame stores nothing; an interrupted request never
   * reaches the disk (the body is read whole first).
   */
  async uploadChunks(request: Readable & { headers?: Record<string, unknown> }): Promise<UploadChunksResponse> {
    const body = await readBody(request, MAX_CHUNK_UPLOAD_BYTES);
    if (body.length === 0) {
      const message =
        'The upload has no body: send one or more chunks framed as the contract describes (uploadChunks in /api/openapi.json), ' +
        'with Content-Type: application/octet-stream';
      throw new AppError('invalid_request', message, [{ path: 'body', message: 'missing: no chunks were sent' }]);
    }
    const frames = await parseChunkUpload(body);
    const unique = new Map<string, ChunkFrame>();
    for (const frame of frames) {
      const hash = frame.hash.toString('hex');
      if (!unique.has(hash)) unique.set(hash, frame);
    }
    const present = this.store.presentChunks([...unique.keys()]);
    const fresh = [...unique.values()].filter((frame) => !present.has(frame.hash.toString('hex')));
    if (fresh.length === 0) return { stored: 0, alreadyPresent: frames.length, storedBytes: 0 };

    const { pack, offsets } = await this.packs.write(fresh.map((frame) => frame.payload));
    let stored = 0;
    let storedBytes = 0;
    try {
      this.store.transaction(() => {
        fresh.forEach((frame, index) => {
          const location: ChunkLocation = {
            hash: frame.hash,
            pack,
            offset: offsets[index],
            storedSize: frame.payload.length,
            rawSize: frame.rawSize,
            codec: frame.codec
          };
          // A concurrent upload of the same chunk may have indexed it meanwhile: keep theirs.
          if (this.store.insertChunk(location)) {
            stored++;
            storedBytes += frame.payload.length;
          }
        });
      });
    } catch (error) {
      await this.packs.discard(pack);
      throw error;
    }
    if (stored === 0) await this.packs.discard(pack);
    return { stored, alreadyPresent: frames.length - stored, storedBytes };
  }

  /**
   * Stored chunks, framed as uploads are, in request order. Each chunk is decompressed and
   * hashed before it is sent; a corrupt one is a 500 `data_corrupt`, never wrong bytes.
   */
  fetchChunks(hashes: readonly string[]): { size: number; body: Readable } {
    const locations = this.store.chunkLocations([...new Set(hashes)]);
    const unknown = hashes.filter((hash) => !locations.has(hash));
    if (unknown.length > 0) {
      throw new AppError(
        'not_found',
        `${unknown.length} requested chunk(s) are not on the server, e.g. ${unknown[0]}. If \`runlab-server fsck --repair\` ` +
          'dropped them as corrupt, commit the same files again to restore them',
        unknown
          .slice(0, LISTED_MISSING_CHUNKS)
          .map((hash) => ({ path: `body.hashes[${hashes.indexOf(hash)}]`, message: `chunk ${hash} not found` }))
      );
    }
    const ordered = hashes.map((hash) => locations.get(hash) as ChunkLocation);
    const size = ordered.reduce((sum, location) => sum + CHUNK_FRAME_HEADER_BYTES + location.storedSize, 0);
    const reader = new PackReader(this.packs);
    const frame = (location: ChunkLocation): Buffer[] => {
      let payload: Buffer;
      try {
        payload = reader.read(location.pack, location.offset, location.storedSize);
      } catch (error) {
        throw corruptChunk(location.hash, (error as Error).message);
      }
      const problem = chunkProblem(location.hash, location.codec, location.rawSize, payload);
      if (problem) throw corruptChunk(location.hash, problem);
      return [frameHeader(location.hash, location.codec, location.rawSize, payload.length), payload];
    };
    const head: Buffer[] = [];
    let next = 0;
    try {
      let verified = 0;
      while (next < ordered.length && verified < FETCH_VERIFY_AHEAD_BYTES) {
        head.push(...frame(ordered[next]));
        verified += ordered[next].storedSize;
        next++;
      }
    } catch (error) {
      reader.close();
      throw error;
    }
    function* buffers(): Generator<Buffer> {
      yield* head;
      for (let i = next; i < ordered.length; i++) yield* frame(ordered[i]);
    }
    // Frames go out in ~1 MiB pieces: one stream write per 41-byte header and per small chunk
    // made downloads of 10 KB chunks crawl at ~30 MB/s.
    async function* stream(): AsyncGenerator<Buffer> {
      try {
        let piece: Buffer[] = [];
        let pieceBytes = 0;
        for (const buffer of buffers()) {
          piece.push(buffer);
          pieceBytes += buffer.length;
          if (pieceBytes >= FETCH_PIECE_BYTES) {
            yield Buffer.concat(piece, pieceBytes);
            piece = [];
            pieceBytes = 0;
          }
        }
        if (pieceBytes > 0) yield Buffer.concat(piece, pieceBytes);
      } finally {
        reader.close();
      }
    }
    return { size, body: Readable.from(stream(), { objectMode: false }) };
  }

  // ------------------------------------------------------------------------------------------
  // datasets and versions

  /** 404 for a project that does not exist: a typo'd name is not an empty project. */
  list(projectName: string): Dataset[] {
    const project = this.project(projectName);
    return this.store.datasets(project.id).map((record) => this.toDataset(record));
  }

  get(projectName: string, name: string): Dataset {
    return this.toDataset(this.dataset(projectName, name));
  }

  versions(projectName: string, name: string): DatasetVersion[] {
    return this.store.versions(this.dataset(projectName, name).id).map((version) => this.checkDamaged(version));
  }

  version(projectName: string, name: string, ref: string): DatasetVersion {
    const dataset = this.dataset(projectName, name);
    const wanted = parseVersionRef(ref);
    const version = wanted === 'latest' ? this.store.latestVersion(dataset.id) : this.store.versionByNumber(dataset.id, wanted);
    if (!version) {
      throw notFound(`Version ${wanted === 'latest' ? 'latest' : `v${wanted}`} of dataset ${projectName}/${name}`);
    }
    return this.checkDamaged(version);
  }

  manifest(projectName: string, name: string, ref: string): DatasetManifestResponse {
    const version = this.version(projectName, name, ref);
    const files = this.store.files(version.id).map((file) => ({
      path: file.path,
      size: file.size,
      mode: file.mode,
      chunks: unpackChunks(file.chunks),
      hash: file.hash.toString('hex')
    }));
    return { version, files };
  }

  diff(projectName: string, name: string, fromRef: string, toRef: string, limit: number): DatasetDiffResponse {
    const from = this.version(projectName, name, fromRef);
    const to = this.version(projectName, name, toRef);
    const toEntries = this.store.fileEntries(to.id);
    const { summary, added, removed, changed } = diffManifests(this.store.fileEntries(from.id), toEntries);
    const newChunkBytes = this.newChunkBytes(from.id, this.store.chunkLists(to.id));
    const truncated = added.length > limit || removed.length > limit || changed.length > limit;
    return {
      from,
      to,
      summary: { ...summary, newChunkBytes },
      added: added.slice(0, limit),
      removed: removed.slice(0, limit),
      changed: changed.slice(0, limit),
      truncated
    };
  }

  /**
   * Commits a manifest as the dataset's next version (project and dataset made on first use).
   * Equal to the latest version, or a retry of a seen idempotency key: that version, created
   * false. Every chunk must already be on the server (409 otherwise).
   */
  async commit(projectName: string, name: string, input: CommitDatasetInput, author: string): Promise<CommitDatasetResponse> {
    if (input.idempotencyKey) {
      const replayed = this.store.versionByCreateKey(input.idempotencyKey);
      if (replayed) return { version: replayed, created: false };
    }
    const { lines, files, size } = prepareManifest(input.files);
    const hash = versionHash(lines);
    const run = input.runId === null ? undefined : this.runs.record(input.runId);
    if (run && run.projectName !== projectName) {
      const message = `Run ${run.id} belongs to project "${run.projectName}", not "${projectName}"; commit the dataset in the run's project`;
      throw new AppError('invalid_request', message, [{ path: 'body.runId', message }]);
    }
    // Unchanged content is answered before anything else is checked: re-committing a large
    // dataset unchanged is the common case and must stay cheap. A damaged latest version is
    // healed instead: once every chunk is back (409 until uploaded), it is whole again.
    const unchanged = this.unchangedLatest(projectName, name, hash);
    if (unchanged && !unchanged.damaged) return this.answerUnchanged(unchanged, run?.id);
    // Checked before anything is created (a 409 leaves no project behind), and again inside
    // the transaction below.
    this.requireChunks(input.files);
    if (unchanged) {
      this.store.markHealed(unchanged.id);
      return this.answerUnchanged({ ...unchanged, damaged: false }, run?.id);
    }

    const project = await this.projects.ensure(projectName);
    const at = this.now().toISOString();
    const outcome = this.store.transaction((): CommitDatasetResponse => {
      // Checked again inside the transaction: a concurrent commit may have won the race.
      const replayed = input.idempotencyKey ? this.store.versionByCreateKey(input.idempotencyKey) : undefined;
      if (replayed) return { version: replayed, created: false };
      // Inside the write transaction, so `runlab-server gc` (another process) cannot drop a chunk
      // between this check and the version that needs it.
      this.requireChunks(input.files);
      this.store.ensureDataset(randomUUID(), project.id, name, at);
      const dataset = this.store.dataset(project.id, name) as DatasetRecord;
      const latest = this.store.latestVersion(dataset.id);
      if (latest && latest.hash === hash) return { version: latest, created: false };
      // Never a number a deleted version had: `iris@v3` names one content, forever.
      const number = dataset.lastNumber + 1;
      const id = randomUUID();
      this.store.insertVersion({
        id,
        datasetId: dataset.id,
        number,
        hash,
        size,
        fileCount: files.length,
        message: input.message,
        author,
        createdAt: at,
        producedByRunId: run?.id ?? null,
        summary: latest ? this.summarize(latest.id, lines, files) : null,
        createKey: input.idempotencyKey ?? null
      });
      for (const file of files) this.store.insertFile(id, file);
      // The run's output is recorded through the runs feature, whose IO hook adds the edge.
      if (run) this.runs.recordIo(run.id, 'output', { kind: 'dataset', name: `${name}@v${number}`, digest: hash });
      return { version: this.store.versionById(id) as DatasetVersion, created: true };
    });
    if (outcome.created) {
      this.events.publishTo([projectRoom(project.id)], 'dataset:committed', { version: outcome.version });
      // The runs feature announces its own run's change.
      if (run) this.runs.announceUpdate(run.id);
    }
    return outcome;
  }

  /** Deletes one version; the dataset keeps counting, and `runlab-server gc` reclaims chunks only it used. */
  deleteVersion(projectName: string, name: string, ref: string): void {
    const version = this.version(projectName, name, ref);
    this.store.transaction(() => this.store.deleteVersion(version.id));
    this.events.publishTo([projectRoom(version.projectId)], 'dataset:deleted', {
      projectId: version.projectId,
      datasetName: name,
      number: version.number
    });
  }

  /** Deletes a dataset with every version; its name may be used again, starting at v1. */
  deleteDataset(projectName: string, name: string): void {
    const dataset = this.dataset(projectName, name);
    this.store.transaction(() => this.store.deleteDataset(dataset.id));
    this.events.publishTo([projectRoom(dataset.projectId)], 'dataset:deleted', {
      projectId: dataset.projectId,
      datasetName: name,
      number: null
    });
  }

  /**
   * The runs feature's IO hook: a run that logs a dataset input or output (`iris@v3`, `iris@3`,
   * `iris@latest`) is linked to that version in the run's project. Unknown refs stay plain IO.
   */
  linkRunIo(run: { id: string; projectId: string }, direction: 'input' | 'output', io: RunIO): void {
    if (io.kind !== 'dataset') return;
    const at = io.name.lastIndexOf('@');
    const ref = at > 0 ? io.name.slice(at + 1) : '';
    if (!/^(latest|v?[1-9][0-9]{0,8})$/.test(ref)) return;
    const dataset = this.store.dataset(run.projectId, io.name.slice(0, at));
    if (!dataset) return;
    const wanted = parseVersionRef(ref);
    const version = wanted === 'latest' ? this.store.latestVersion(dataset.id) : this.store.versionByNumber(dataset.id, wanted);
    if (!version) return;
    const runNode = `run:${run.id}`;
    const versionNode = datasetVersionNodeRef(version.id);
    if (direction === 'input') this.provenance.link(run.projectId, versionNode, runNode);
    else this.provenance.link(run.projectId, runNode, versionNode);
  }

  /** The provenance resolver of `dataset_version` nodes. */
  provenanceNodes(ids: readonly string[]): ProvenanceNode[] {
    return this.store.versionsByIds(ids).map((version) => ({
      ref: datasetVersionNodeRef(version.id),
      kind: 'dataset_version',
      label: `${version.datasetName}@v${version.number}`,
      detail: `${version.fileCount} ${version.fileCount === 1 ? 'file' : 'files'}, ${formatBytes(version.size)}`,
      projectName: version.projectName,
      createdAt: version.createdAt,
      runId: null,
      datasetName: version.datasetName,
      versionNumber: version.number,
      artifactPath: null,
      modelName: null
    }));
  }

  // ------------------------------------------------------------------------------------------

  private project(projectName: string): { id: string; name: string } {
    const project = this.store.projectByName(projectName);
    if (!project) {
      throw new AppError(
        'not_found',
        `Project ${projectName} not found: check its name (a project is made by its first run or dataset commit)`
      );
    }
    return project;
  }

  private dataset(projectName: string, name: string): DatasetRecord {
    const dataset = this.store.dataset(this.project(projectName).id, name);
    if (!dataset) throw notFound(`Dataset ${projectName}/${name}`);
    return dataset;
  }

  private toDataset(record: DatasetRecord): Dataset {
    const { id, projectId, projectName, name, createdAt, versionCount } = record;
    const latest = this.store.latestVersion(id);
    return { id, projectId, projectName, name, createdAt, versionCount, latest: latest ? this.checkDamaged(latest) : null };
  }

  /**
   * A damaged version (see `runlab-server fsck --repair`) is whole again once every chunk it names is
   * back, whichever commit brought them: checked when it is read, so the mark never outlives it.
   */
  private checkDamaged(version: DatasetVersion): DatasetVersion {
    if (!version.damaged) return version;
    const hashes = new Set<string>();
    for (const packed of this.store.chunkLists(version.id)) {
      for (const [key] of packedChunkKeys(packed)) hashes.add(Buffer.from(key, 'latin1').toString('hex'));
    }
    if (this.store.presentChunks([...hashes]).size < hashes.size) return version;
    this.store.markHealed(version.id);
    return { ...version, damaged: false };
  }

  private unchangedLatest(projectName: string, name: string, hash: string): DatasetVersion | undefined {
    const project = this.store.projectByName(projectName);
    const dataset = project && this.store.dataset(project.id, name);
    const latest = dataset && this.store.latestVersion(dataset.id);
    return latest && latest.hash === hash ? latest : undefined;
  }

  /** The unchanged version; a data run re-committing it still records it as its output. */
  private answerUnchanged(version: DatasetVersion, runId: string | undefined): CommitDatasetResponse {
    if (runId) {
      this.store.transaction(() =>
        this.runs.recordIo(runId, 'output', { kind: 'dataset', name: `${version.datasetName}@v${version.number}`, digest: version.hash })
      );
      this.runs.announceUpdate(runId);
    }
    return { version, created: false };
  }

  /**
   * Every chunk the manifest names must be on the server (409 listing some that are not) with the
   * uncompressed size the manifest gives it (400 otherwise): the server verified that size when
   * the chunk was uploaded, and a wrong one would make a version report bytes its files lack.
   */
  private requireChunks(files: CommitDatasetInput['files']): void {
    const firstUse = new Map<string, string>();
    files.forEach((file, fileIndex) =>
      file.chunks.forEach(([hash], chunkIndex) => {
        if (!firstUse.has(hash)) firstUse.set(hash, `body.files.${fileIndex}.chunks.${chunkIndex}`);
      })
    );
    const present = this.store.chunkSizes([...firstUse.keys()]);
    const wrongSizes: FieldProblem[] = [];
    let wrongSizeCount = 0;
    files.forEach((file, fileIndex) =>
      file.chunks.forEach(([hash, size], chunkIndex) => {
        const stored = present.get(hash);
        if (stored === undefined || stored === size) return;
        wrongSizeCount++;
        if (wrongSizes.length < LISTED_WRONG_SIZES) {
          wrongSizes.push({
            path: `body.files.${fileIndex}.chunks.${chunkIndex}.1`,
            message: `gives chunk ${hash} ${size} bytes, but it has ${stored} (its uncompressed length, verified on upload)`
          });
        }
      })
    );
    if (wrongSizeCount > 0) {
      throw new AppError(
        'invalid_request',
        `Invalid manifest: ${wrongSizeCount} chunk size(s) disagree with the chunks on the server, e.g. ${wrongSizes[0].path} ` +
          `${wrongSizes[0].message}; give each chunk its uncompressed length (and each file the sum of its chunks), then commit again`,
        wrongSizes
      );
    }
    if (present.size === firstUse.size) return;
    const missing = [...firstUse].filter(([hash]) => !present.has(hash));
    throw new AppError(
      'conflict',
      `${missing.length} chunk(s) named by this manifest are not on the server; upload them first (POST /api/chunks), then commit again`,
      missing.slice(0, LISTED_MISSING_CHUNKS).map(([hash, path]) => ({ path, message: `chunk ${hash} is not on the server` }))
    );
  }

  /** What changed from the previous version to the one being committed. */
  private summarize(previousId: string, lines: readonly ManifestLine[], files: readonly StoredFile[]): DatasetDiffSummary {
    const after = new Map<string, DiffEntry>(lines.map((line) => [line.path, line]));
    const { summary } = diffManifests(this.store.fileEntries(previousId), after);
    return {
      ...summary,
      newChunkBytes: this.newChunkBytes(
        previousId,
        files.map((file) => file.chunks)
      )
    };
  }

  /** Uncompressed bytes of the distinct chunks in `chunkLists` that version `fromId` lacks. */
  private newChunkBytes(fromId: string, chunkLists: Iterable<Buffer>): number {
    const known = new Set<string>();
    for (const packed of this.store.chunkLists(fromId)) for (const [key] of packedChunkKeys(packed)) known.add(key);
    let bytes = 0;
    for (const packed of chunkLists) {
      for (const [key, size] of packedChunkKeys(packed)) {
        if (known.has(key)) continue;
        known.add(key);
        bytes += size;
      }
    }
    return bytes;
  }
}

const corruptChunk = (hash: Buffer, problem: string): AppError =>
  new AppError(
    'data_corrupt',
    `Stored chunk ${hash.toString('hex')} is corrupt (${problem}); nothing was sent. Run \`runlab-server fsck\` on the server to list the affected dataset versions`
  );

/**
 * Checks a manifest (sizes add up, no path twice, no file inside another) and computes its
 * content hashes: the lines of the version hash (sorted by path) and the files as stored.
 */
function prepareManifest(inputs: CommitDatasetInput['files']): { lines: ManifestLine[]; files: StoredFile[]; size: number } {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  let size = 0;
  const files: StoredFile[] = inputs.map((file, index) => {
    const earlier = seen.get(file.path);
    if (earlier !== undefined) {
      problems.push({ path: `body.files.${index}.path`, message: `"${file.path}" is listed twice (also at files.${earlier})` });
    }
    seen.set(file.path, index);
    const chunkBytes = file.chunks.reduce((sum, [, chunkSize]) => sum + chunkSize, 0);
    if (chunkBytes !== file.size) {
      problems.push({ path: `body.files.${index}.size`, message: `is ${file.size} but the chunks add up to ${chunkBytes} bytes` });
    }
    size += file.size;
    const chunks = packChunks(file.chunks);
    return { path: file.path, mode: file.mode & 0o777, size: file.size, hash: fileContentHash(chunks), chunks };
  });
  // After every path is known: `a/b` may come before `a` in the request.
  inputs.forEach((file, index) => {
    const folder = enclosingFile(file.path, seen);
    if (folder === undefined) return;
    problems.push({
      path: `body.files.${index}.path`,
      message: `"${file.path}" is inside "${folder}", which is listed as a file too (files.${seen.get(folder)}); a path cannot be both a file and a folder: rename or drop one of them`
    });
  });
  if (problems.length > 0) {
    throw new AppError('invalid_request', `Invalid manifest: ${problems[0].path} ${problems[0].message}`, problems.slice(0, 100));
  }
  files.sort((a, b) => comparePaths(a.path, b.path));
  const lines = files.map((file) => ({ path: file.path, mode: file.mode, size: file.size, hash: file.hash.toString('hex') }));
  return { lines, files, size };
}
