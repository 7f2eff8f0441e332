/** Layout of the data directory, in one place. */
import fs from 'node:fs';
import path from 'node:path';
import { DATABASE_FILE } from './db/database';
import { ADMIN_TOKEN_FILE } from './auth/service';

export const SERVER_INFO_FILE = 'server.json';

export interface DataDirLayout {
  root: string;
  databaseFile: string;
  adminTokenFile: string;
  serverInfoFile: string;
  projectsDir: string;
  /** Content-addressed blob store (artifacts): `blobs/ab/cdef…`, temp files in `blobs/tmp`. */
  blobsDir: string;
  /** Dataset chunk store: immutable pack files in `chunks/packs`, packs being written in `chunks/tmp`. */
  chunksDir: string;
}

export function dataDirLayout(root: string): DataDirLayout {
  return {
    root,
    databaseFile: path.join(root, DATABASE_FILE),
    adminTokenFile: path.join(root, ADMIN_TOKEN_FILE),
    serverInfoFile: path.join(root, SERVER_INFO_FILE),
    projectsDir: path.join(root, 'projects'),
    blobsDir: path.join(root, 'blobs'),
    chunksDir: path.join(root, 'chunks')
  };
}

/** Creates the data directory if needed; it holds secrets, so only its owner may enter it. */
export function ensureDataDir(root: string): DataDirLayout {
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  fs.chmodSync(root, 0o700);
  return dataDirLayout(root);
}
