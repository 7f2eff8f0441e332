/** SQL for datasets: the chunk index, datasets, versions and their files. */
import type { Database, Statement } from 'better-sqlite3';
import type { DatasetDiffSummary, DatasetVersion } from '../contract';

/** Where a chunk's stored payload lives. */
export interface ChunkLocation {
  hash: Buffer;
  pack: string;
  offset: number;
  storedSize: number;
  rawSize: number;
  codec: number;
}

export interface DatasetRecord {
  id: string;
  projectId: string;
  projectName: string;
  name: string;
  createdAt: string;
  versionCount: number;
  /** The highest number ever given to a version (deleted ones included). */
  lastNumber: number;
}

export interface NewVersion {
  id: string;
  datasetId: string;
  number: number;
  hash: string;
  size: number;
  fileCount: number;
  message: string;
  author: string;
  createdAt: string;
  producedByRunId: string | null;
  summary: DatasetDiffSummary | null;
  createKey: string | null;
}

/** One file of a version as stored: content hash and its packed chunk list. */
export interface StoredFile {
  path: string;
  mode: number;
  size: number;
  hash: Buffer;
  chunks: Buffer;
}

interface VersionRow {
  id: string;
  dataset_id: string;
  dataset_name: string;
  project_id: string;
  project_name: string;
  number: number;
  hash: string;
  size: number;
  file_count: number;
  message: string;
  author: string;
  created_at: string;
  produced_by_run_id: string | null;
  summary: string | null;
  damaged: number;
}

const toVersion = (row: VersionRow): DatasetVersion => ({
  id: row.id,
  datasetId: row.dataset_id,
  datasetName: row.dataset_name,
  projectId: row.project_id,
  projectName: row.project_name,
  number: row.number,
  label: `v${row.number}`,
  hash: row.hash,
  size: row.size,
  fileCount: row.file_count,
  message: row.message,
  author: row.author,
  createdAt: row.created_at,
  producedByRunId: row.produced_by_run_id,
  summary: row.summary === null ? null : (JSON.parse(row.summary) as DatasetDiffSummary),
  damaged: row.damaged === 1
});

const SELECT_VERSION = `SELECT v.*, d.name AS dataset_name, d.project_id, p.name AS project_name,
    EXISTS (SELECT 1 FROM dataset_damaged_versions x WHERE x.version_id = v.id) AS damaged
  FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id JOIN projects p ON p.id = d.project_id`;

const SELECT_DATASET = `SELECT d.id, d.project_id, p.name AS project_name, d.name, d.created_at, d.last_number,
    (SELECT COUNT(*) FROM dataset_versions v WHERE v.dataset_id = d.id) AS version_count
  FROM datasets d JOIN projects p ON p.id = d.project_id`;

/** Hex hashes as a JSON array, unhexed by SQLite: one statement for any number of hashes. */
const IN_HASHES = 'IN (SELECT unhex(value) FROM json_each(?))';

export class DatasetStore {
  private readonly statements: Record<string, Statement>;

  constructor(private readonly db: Database) {
    const prepare = (sql: string): Statement => db.prepare(sql);
    this.statements = {
      presentChunks: prepare(`SELECT hash FROM chunks WHERE hash ${IN_HASHES}`).pluck(),
      chunkSizes: prepare(`SELECT hash, raw_size FROM chunks WHERE hash ${IN_HASHES}`).raw(),
      insertChunk: prepare(`INSERT OR IGNORE INTO chunks (hash, pack, offset, stored_size, raw_size, codec)
        VALUES (?, ?, ?, ?, ?, ?)`),
      chunkLocations: prepare(`SELECT hash, pack, offset, stored_size AS storedSize, raw_size AS rawSize, codec
        FROM chunks WHERE hash ${IN_HASHES}`),
      projectByName: prepare('SELECT id, name FROM projects WHERE name = ?'),
      dataset: prepare(`${SELECT_DATASET} WHERE d.project_id = ? AND d.name = ?`),
      datasets: prepare(`${SELECT_DATASET} WHERE d.project_id = ? ORDER BY d.name`),
      insertDataset: prepare('INSERT OR IGNORE INTO datasets (id, project_id, name, created_at) VALUES (?, ?, ?, ?)'),
      versionById: prepare(`${SELECT_VERSION} WHERE v.id = ?`),
      versionsByIds: prepare(`${SELECT_VERSION} WHERE v.id IN (SELECT value FROM json_each(?))`),
      versionByNumber: prepare(`${SELECT_VERSION} WHERE v.dataset_id = ? AND v.number = ?`),
      latestVersion: prepare(`${SELECT_VERSION} WHERE v.dataset_id = ? ORDER BY v.number DESC LIMIT 1`),
      versions: prepare(`${SELECT_VERSION} WHERE v.dataset_id = ? ORDER BY v.number DESC`),
      versionByCreateKey: prepare(`${SELECT_VERSION} WHERE v.create_key = ?`),
      insertVersion: prepare(`INSERT INTO dataset_versions (id, dataset_id, number, hash, size, file_count, message, author,
          created_at, produced_by_run_id, summary, create_key)
        VALUES (@id, @datasetId, @number, @hash, @size, @fileCount, @message, @author,
          @createdAt, @producedByRunId, @summary, @createKey)`),
      insertContent: prepare('INSERT OR IGNORE INTO dataset_file_contents (hash, size, chunks) VALUES (?, ?, ?)'),
      insertFile: prepare('INSERT INTO dataset_files (version_id, path, mode, content_hash) VALUES (?, ?, ?, ?)'),
      files: prepare(`SELECT f.path, f.mode, c.size, c.hash, c.chunks
        FROM dataset_files f JOIN dataset_file_contents c ON c.hash = f.content_hash
        WHERE f.version_id = ? ORDER BY f.path`),
      fileEntries: prepare(`SELECT f.path, lower(hex(f.content_hash)) AS hash, c.size
        FROM dataset_files f JOIN dataset_file_contents c ON c.hash = f.content_hash WHERE f.version_id = ?`).raw(),
      chunkLists: prepare(`SELECT c.chunks FROM dataset_file_contents c
        WHERE c.hash IN (SELECT DISTINCT content_hash FROM dataset_files WHERE version_id = ?)`).pluck(),
      healed: prepare('DELETE FROM dataset_damaged_versions WHERE version_id = ?'),
      numbered: prepare('UPDATE datasets SET last_number = MAX(last_number, ?) WHERE id = ?'),
      deleteVersion: prepare('DELETE FROM dataset_versions WHERE id = ?'),
      deleteDataset: prepare('DELETE FROM datasets WHERE id = ?')
    };
  }

  /** Runs `work` in one write transaction; better-sqlite3 runs it synchronously, so writers serialize. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  // ------------------------------------------------------------------------------------------
  // chunks

  /** Which of these chunks (hex) the index holds, as hex. */
  presentChunks(hexHashes: readonly string[]): Set<string> {
    const present = new Set<string>();
    for (const hash of this.statements.presentChunks.all(JSON.stringify(hexHashes)) as Buffer[]) {
      present.add(hash.toString('hex'));
    }
    return present;
  }

  /** Uncompressed sizes of these chunks (hex) as stored, keyed by hex hash; unknown hashes are absent. */
  chunkSizes(hexHashes: readonly string[]): Map<string, number> {
    const sizes = new Map<string, number>();
    for (const [hash, rawSize] of this.statements.chunkSizes.all(JSON.stringify(hexHashes)) as [Buffer, number][]) {
      sizes.set(hash.toString('hex'), rawSize);
    }
    return sizes;
  }

  /** false when the chunk was already indexed (a concurrent upload won). */
  insertChunk(location: ChunkLocation): boolean {
    const { hash, pack, offset, storedSize, rawSize, codec } = location;
    return this.statements.insertChunk.run(hash, pack, offset, storedSize, rawSize, codec).changes === 1;
  }

  /** Locations of these chunks (hex), keyed by hex hash; unknown hashes are absent. */
  chunkLocations(hexHashes: readonly string[]): Map<string, ChunkLocation> {
    const locations = new Map<string, ChunkLocation>();
    for (const row of this.statements.chunkLocations.all(JSON.stringify(hexHashes)) as ChunkLocation[]) {
      locations.set(row.hash.toString('hex'), row);
    }
    return locations;
  }

  // ------------------------------------------------------------------------------------------
  // datasets and versions

  projectByName(name: string): { id: string; name: string } | undefined {
    return this.statements.projectByName.get(name) as { id: string; name: string } | undefined;
  }

  dataset(projectId: string, name: string): DatasetRecord | undefined {
    const row = this.statements.dataset.get(projectId, name) as DatasetRow | undefined;
    return row && toDataset(row);
  }

  datasets(projectId: string): DatasetRecord[] {
    return (this.statements.datasets.all(projectId) as DatasetRow[]).map(toDataset);
  }

  /** Creates the dataset unless it exists (a concurrent first commit may have made it). */
  ensureDataset(id: string, projectId: string, name: string, createdAt: string): void {
    this.statements.insertDataset.run(id, projectId, name, createdAt);
  }

  versionById(id: string): DatasetVersion | undefined {
    const row = this.statements.versionById.get(id) as VersionRow | undefined;
    return row && toVersion(row);
  }

  versionsByIds(ids: readonly string[]): DatasetVersion[] {
    return (this.statements.versionsByIds.all(JSON.stringify(ids)) as VersionRow[]).map(toVersion);
  }

  versionByNumber(datasetId: string, number: number): DatasetVersion | undefined {
    const row = this.statements.versionByNumber.get(datasetId, number) as VersionRow | undefined;
    return row && toVersion(row);
  }

  latestVersion(datasetId: string): DatasetVersion | undefined {
    const row = this.statements.latestVersion.get(datasetId) as VersionRow | undefined;
    return row && toVersion(row);
  }

  /** Newest first. */
  versions(datasetId: string): DatasetVersion[] {
    return (this.statements.versions.all(datasetId) as VersionRow[]).map(toVersion);
  }

  versionByCreateKey(key: string): DatasetVersion | undefined {
    const row = this.statements.versionByCreateKey.get(key) as VersionRow | undefined;
    return row && toVersion(row);
  }

  insertVersion(version: NewVersion): void {
    this.statements.insertVersion.run({ ...version, summary: version.summary && JSON.stringify(version.summary) });
    this.statements.numbered.run(version.number, version.datasetId);
  }

  /** Its files' rows go with it; their contents and chunks stay until `runlab-server gc`. */
  deleteVersion(versionId: string): void {
    this.statements.deleteVersion.run(versionId);
  }

  deleteDataset(datasetId: string): void {
    this.statements.deleteDataset.run(datasetId);
  }

  /** Stores a file's content (once per content hash) and the version's entry for it. */
  insertFile(versionId: string, file: StoredFile): void {
    this.statements.insertContent.run(file.hash, file.size, file.chunks);
    this.statements.insertFile.run(versionId, file.path, file.mode, file.hash);
  }

  /** A version's files sorted by path (by UTF-8 bytes, SQLite's text order). */
  files(versionId: string): StoredFile[] {
    return this.statements.files.all(versionId) as StoredFile[];
  }

  /** path → content hash (hex) and size, for diffs. */
  fileEntries(versionId: string): Map<string, { hash: string; size: number }> {
    const entries = new Map<string, { hash: string; size: number }>();
    for (const [path, hash, size] of this.statements.fileEntries.all(versionId) as [string, string, number][]) {
      entries.set(path, { hash, size });
    }
    return entries;
  }

  /** A damaged version whose chunks are all present again (see `runlab-server fsck --repair`). */
  markHealed(versionId: string): void {
    this.statements.healed.run(versionId);
  }

  /** The packed chunk lists of a version's distinct file contents. */
  chunkLists(versionId: string): Buffer[] {
    return this.statements.chunkLists.all(versionId) as Buffer[];
  }
}

interface DatasetRow {
  id: string;
  project_id: string;
  project_name: string;
  name: string;
  created_at: string;
  version_count: number;
  last_number: number;
}

const toDataset = (row: DatasetRow): DatasetRecord => ({
  id: row.id,
  projectId: row.project_id,
  projectName: row.project_name,
  name: row.name,
  createdAt: row.created_at,
  versionCount: row.version_count,
  lastNumber: row.last_number
});
