/**
 * Which rows keep a blob alive. Every table that stores a blob digest is listed here, so
 * deleting a run and `runlab-server gc` agree on what is garbage; a new feature storing blobs adds
 * its query here.
 */
import type { Database } from '../db/database';

const REFERENCING_TABLES: readonly { table: string; column: string }[] = [
  { table: 'artifacts', column: 'digest' },
  { table: 'model_version_files', column: 'digest' },
  { table: 'mlflow_logged_model_files', column: 'digest' }
];

export function isBlobReferenced(db: Database, digest: string): boolean {
  return REFERENCING_TABLES.some(
    ({ table, column }) => db.prepare(`SELECT 1 FROM ${table} WHERE ${column} = ? LIMIT 1`).get(digest) !== undefined
  );
}

export function referencedBlobs(db: Database): Set<string> {
  const digests = new Set<string>();
  for (const { table, column } of REFERENCING_TABLES) {
    for (const [digest] of db.prepare(`SELECT DISTINCT ${column} FROM ${table}`).raw().iterate() as Iterable<[string]>) {
      digests.add(digest);
    }
  }
  return digests;
}
