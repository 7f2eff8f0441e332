import { z } from 'zod';
import { ProjectName } from './projects';
import { QueryWholeNumber, RelativePath } from './refs';
import { route } from './route';

/** A chunk or file content address: lowercase sha256 hex. */
export const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase sha256 hex digest');

/** Dataset names follow project names: letters, digits, . _ - (no `@` or `/`, which refs use). */
export const DatasetName = ProjectName;

/** `v3`, `3` or `latest` in URLs and refs (`name@v3`). */
export const VersionRef = z.string().regex(/^(latest|v?[1-9][0-9]{0,8})$/, 'a version: v1, v2, … (or 1, 2, …) or latest');

/** Largest uncompressed chunk the server accepts. */
export const MAX_CHUNK_BYTES = 1024 * 1024;

/**
 * How every client cuts files into chunks (FastCDC): the same parameters everywhere, so the same
 * content gives the same chunks and is stored once. A file below the minimum is one chunk.
 */
export const CHUNKER = { minBytes: 16 * 1024, averageBytes: 64 * 1024, maxBytes: 256 * 1024 } as const;

/**
 * `POST /api/chunks` body (application/octet-stream): chunks back to back, each framed as
 *   32 bytes  sha256 of the uncompressed bytes (binary digest)
 *    1 byte   codec: 0 = stored as is, 1 = zstd frame
 *    4 bytes  uncompressed length, big-endian uint32 (≤ MAX_CHUNK_BYTES)
 *    4 bytes  payload length, big-endian uint32
 *    payload
 * The server decompresses and hashes every chunk before storing it; any mismatch rejects the
 * whole request (400, naming the chunk) and stores nothing from it. `POST /api/chunks/fetch`
 * answers in the same framing.
 */
export const CHUNK_FRAME_HEADER_BYTES = 41;
/** Largest `POST /api/chunks` body the server accepts (413 past it): send chunks in batches below it. */
export const MAX_CHUNK_UPLOAD_BYTES = 64 * 1024 * 1024;
export const ChunkCodec = { raw: 0, zstd: 1 } as const;

export const MissingChunksRequest = z.strictObject({ hashes: z.array(Sha256Hex).max(200_000) });
export type MissingChunksRequest = z.infer<typeof MissingChunksRequest>;
export const MissingChunksResponse = z.strictObject({
  /** The requested hashes the server does not have, in request order (duplicates once). */
  missing: z.array(Sha256Hex)
});
export type MissingChunksResponse = z.infer<typeof MissingChunksResponse>;

export const UploadChunksResponse = z.strictObject({
  /** Chunks in the request that were new and are now durable. */
  stored: z.number().int(),
  /** Chunks the server already had (not stored twice). */
  alreadyPresent: z.number().int(),
  /** Bytes written to the store for the new chunks (after compression). */
  storedBytes: z.number().int()
});
export type UploadChunksResponse = z.infer<typeof UploadChunksResponse>;

export const FetchChunksRequest = z.strictObject({ hashes: z.array(Sha256Hex).min(1).max(4096) });
export type FetchChunksRequest = z.infer<typeof FetchChunksRequest>;

/** One chunk of a file: [sha256 hex, uncompressed size], in file order. */
export const ChunkRef = z.tuple([Sha256Hex, z.number().int().min(0).max(MAX_CHUNK_BYTES)]);
export type ChunkRef = z.infer<typeof ChunkRef>;

export const ManifestFileInput = z.strictObject({
  /** Dataset-relative path with `/` separators; absolute paths and `..` are rejected. */
  path: RelativePath,
  size: z.number().int().min(0),
  /** Permission bits (e.g. 0o644 = 420); only 0o777 is kept. */
  mode: z.number().int().min(0).max(0o7777),
  chunks: z.array(ChunkRef)
});
export type ManifestFileInput = z.infer<typeof ManifestFileInput>;

export const ManifestFile = ManifestFileInput.extend({
  /**
   * The file's content hash: sha256 of its chunks' binary digests concatenated in order
   * (computed by the server, so equal content always has one hash).
   */
  hash: Sha256Hex
});
export type ManifestFile = z.infer<typeof ManifestFile>;

/** What changed from one version to another (the previous one, in a version's `summary`). */
export const DatasetDiffSummary = z.strictObject({
  added: z.number().int(),
  removed: z.number().int(),
  changed: z.number().int(),
  unchanged: z.number().int(),
  /** Sizes of added files. */
  bytesAdded: z.number().int(),
  /** Sizes of removed files. */
  bytesRemoved: z.number().int(),
  /** Sizes (in the newer version) of changed files. */
  bytesChanged: z.number().int(),
  /** Uncompressed bytes of the newer version's chunks that the older one lacks: what dedup could not save. */
  newChunkBytes: z.number().int()
});
export type DatasetDiffSummary = z.infer<typeof DatasetDiffSummary>;

export const DatasetVersion = z.strictObject({
  id: z.string(),
  datasetId: z.string(),
  datasetName: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  number: z.number().int().min(1),
  /** `v3` */
  label: z.string(),
  /**
   * sha256 of the canonical manifest (sorted `path\tmode\tsize\thash\n` lines): equal content,
   * equal hash. Lines are sorted by the path's UTF-8 bytes (code point order); mode is
   * `mode & 0o777` written in decimal (`420`), size in decimal, hash the file's hex hash.
   */
  hash: Sha256Hex,
  size: z.number().int(),
  fileCount: z.number().int(),
  message: z.string(),
  /** Name of the token that committed it. */
  author: z.string(),
  createdAt: z.string(),
  /** The run that output this version (a data run), when committed inside one. */
  producedByRunId: z.string().nullable(),
  /** Against the previous version; null for v1. */
  summary: DatasetDiffSummary.nullable(),
  /**
   * Some of its chunks were found corrupt and dropped by `runlab-server fsck --repair`: the files using
   * them cannot be fetched until the same content is committed again (which heals it).
   */
  damaged: z.boolean()
});
export type DatasetVersion = z.infer<typeof DatasetVersion>;

export const Dataset = z.strictObject({
  id: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  name: z.string(),
  createdAt: z.string(),
  versionCount: z.number().int(),
  latest: DatasetVersion.nullable()
});
export type Dataset = z.infer<typeof Dataset>;

export const DatasetListResponse = z.strictObject({ datasets: z.array(Dataset) });
export type DatasetListResponse = z.infer<typeof DatasetListResponse>;

export const DatasetVersionListResponse = z.strictObject({
  /** Newest first. */
  versions: z.array(DatasetVersion)
});
export type DatasetVersionListResponse = z.infer<typeof DatasetVersionListResponse>;

/** A project's datasets: `/api/projects/:project/datasets`. */
export const ProjectParams = z.strictObject({ project: ProjectName });
export const DatasetParams = z.strictObject({ project: ProjectName, name: DatasetName });
export const DatasetVersionParams = DatasetParams.extend({ version: VersionRef });

export const CommitDatasetRequest = z
  .strictObject({
    files: z.array(ManifestFileInput).max(2_000_000),
    message: z.string().max(10_000).default(''),
    /** The run this commit happens in: the version becomes its output (a data run). */
    runId: z.string().min(1).max(100).nullable().default(null),
    /** A retried commit with the same key answers with the version it created. */
    idempotencyKey: z.string().min(8).max(100).optional()
  })
  .meta({
    description:
      "Also checked, beyond this schema (400 naming the field): each file's size is the sum of its chunk sizes, no path is " +
      'listed twice, no path lies inside another listed file, a chunk the server has is given the size it was uploaded with, ' +
      'and runId names a run of this project. Every chunk must be uploaded first (409 lists the missing ones).'
  });
export type CommitDatasetRequest = z.input<typeof CommitDatasetRequest>;

export const CommitDatasetResponse = z.strictObject({
  version: DatasetVersion,
  /** false when the manifest equals the latest version's (that version is answered) or the key was seen. */
  created: z.boolean()
});
export type CommitDatasetResponse = z.infer<typeof CommitDatasetResponse>;

export const DatasetManifestResponse = z.strictObject({
  version: DatasetVersion,
  /** Sorted by path. */
  files: z.array(ManifestFile)
});
export type DatasetManifestResponse = z.infer<typeof DatasetManifestResponse>;

export const DatasetDiffQuery = z.strictObject({
  from: VersionRef,
  to: VersionRef,
  /** Most file entries listed per category; the summary always counts them all. */
  limit: QueryWholeNumber.pipe(z.number().int().min(0).max(100_000)).default(1000)
});

export const DatasetDiffFile = z.strictObject({
  path: z.string(),
  /** null when the file is not in that version. */
  fromSize: z.number().int().nullable(),
  toSize: z.number().int().nullable()
});
export type DatasetDiffFile = z.infer<typeof DatasetDiffFile>;

export const DatasetDiffResponse = z.strictObject({
  from: DatasetVersion,
  to: DatasetVersion,
  summary: DatasetDiffSummary,
  added: z.array(DatasetDiffFile),
  removed: z.array(DatasetDiffFile),
  changed: z.array(DatasetDiffFile),
  /** true when a list was cut at `limit`. */
  truncated: z.boolean()
});
export type DatasetDiffResponse = z.infer<typeof DatasetDiffResponse>;

/** Emitted to the project's room when a version is committed. */
export const DatasetCommittedEvent = z.strictObject({ version: DatasetVersion });
export type DatasetCommittedEvent = z.infer<typeof DatasetCommittedEvent>;

export const DatasetDeletedEvent = z.strictObject({
  projectId: z.string(),
  datasetName: z.string(),
  number: z.number().int().nullable()
});
export type DatasetDeletedEvent = z.infer<typeof DatasetDeletedEvent>;

export const datasetsApi = {
  findMissingChunks: route({
    method: 'post',
    path: '/api/chunks/missing',
    summary: 'Which of these chunks the server lacks (upload only those)',
    tag: 'datasets',
    scope: 'any',
    body: MissingChunksRequest,
    // 200,000 hashes are ~14 MB of JSON.
    largeBody: true,
    status: 200,
    response: MissingChunksResponse
  }),
  uploadChunks: route({
    method: 'post',
    path: '/api/chunks',
    summary: 'Store chunks (framed, see the contract); every chunk is verified, a bad one (or an empty body) rejects the whole upload',
    tag: 'datasets',
    scope: 'any',
    rawBody: {
      description: `Chunks back to back, each: 32-byte sha256, 1-byte codec (0 raw, 1 zstd), uint32 BE uncompressed length, uint32 BE payload length, payload; at most ${MAX_CHUNK_UPLOAD_BYTES} bytes`,
      maxBytes: MAX_CHUNK_UPLOAD_BYTES
    },
    status: 200,
    response: UploadChunksResponse,
    errors: ['payload_too_large']
  }),
  fetchChunks: route({
    method: 'post',
    path: '/api/chunks/fetch',
    summary: 'Stored chunks in upload framing, in request order, each verified before it is sent',
    tag: 'datasets',
    scope: 'any',
    body: FetchChunksRequest,
    rawResponse: { description: 'The chunks, framed as uploads are (payloads as stored: raw or zstd)' },
    status: 200,
    errors: ['not_found', 'data_corrupt']
  }),
  listDatasets: route({
    method: 'get',
    path: '/api/projects/:project/datasets',
    summary: "A project's datasets with their latest versions (404 for a project that does not exist)",
    tag: 'datasets',
    scope: 'any',
    params: ProjectParams,
    status: 200,
    response: DatasetListResponse,
    errors: ['not_found']
  }),
  getDataset: route({
    method: 'get',
    path: '/api/projects/:project/datasets/:name',
    summary: 'A dataset with its latest version',
    tag: 'datasets',
    scope: 'any',
    params: DatasetParams,
    status: 200,
    response: Dataset,
    errors: ['not_found']
  }),
  listDatasetVersions: route({
    method: 'get',
    path: '/api/projects/:project/datasets/:name/versions',
    summary: "A dataset's versions, newest first",
    tag: 'datasets',
    scope: 'any',
    params: DatasetParams,
    status: 200,
    response: DatasetVersionListResponse,
    errors: ['not_found']
  }),
  commitDatasetVersion: route({
    method: 'post',
    path: '/api/projects/:project/datasets/:name/versions',
    summary:
      'Commit a manifest as the next version (project and dataset made on first use); its chunks must be uploaded first, ' +
      'each with its uncompressed size, and no file may lie inside another (`a` and `a/b`)',
    tag: 'datasets',
    scope: 'any',
    params: DatasetParams,
    body: CommitDatasetRequest,
    largeBody: true,
    status: 201,
    response: CommitDatasetResponse,
    errors: ['not_found', 'conflict']
  }),
  getDatasetVersion: route({
    method: 'get',
    path: '/api/projects/:project/datasets/:name/versions/:version',
    summary: 'One version (v3, 3 or latest)',
    tag: 'datasets',
    scope: 'any',
    params: DatasetVersionParams,
    status: 200,
    response: DatasetVersion,
    errors: ['not_found']
  }),
  deleteDatasetVersion: route({
    method: 'delete',
    path: '/api/projects/:project/datasets/:name/versions/:version',
    summary: 'Delete one version (its number is never given again); `runlab-server gc` reclaims chunks no other version uses',
    tag: 'datasets',
    scope: 'user',
    params: DatasetVersionParams,
    status: 204,
    errors: ['not_found']
  }),
  deleteDataset: route({
    method: 'delete',
    path: '/api/projects/:project/datasets/:name',
    summary: 'Delete a dataset and every version of it; `runlab-server gc` reclaims chunks no other dataset uses',
    tag: 'datasets',
    scope: 'user',
    params: DatasetParams,
    status: 204,
    errors: ['not_found']
  }),
  getDatasetManifest: route({
    method: 'get',
    path: '/api/projects/:project/datasets/:name/versions/:version/manifest',
    summary: "A version's files with their chunks, sorted by path",
    tag: 'datasets',
    scope: 'any',
    params: DatasetVersionParams,
    status: 200,
    response: DatasetManifestResponse,
    // Up to millions of chunk refs, built by the server from its own rows.
    checkResponse: false,
    errors: ['not_found']
  }),
  diffDatasetVersions: route({
    method: 'get',
    path: '/api/projects/:project/datasets/:name/diff',
    summary: 'Files added, removed and changed between two versions, with byte counts',
    tag: 'datasets',
    scope: 'any',
    params: DatasetParams,
    query: DatasetDiffQuery,
    status: 200,
    response: DatasetDiffResponse,
    errors: ['not_found']
  })
};

/** Live events of datasets, to the project's room. */
export interface DatasetEvents {
  'dataset:committed': (payload: DatasetCommittedEvent) => void;
  /** A version (`number`) or a whole dataset (`number` null) was deleted. */
  'dataset:deleted': (payload: DatasetDeletedEvent) => void;
}
