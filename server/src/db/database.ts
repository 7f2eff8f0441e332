import BetterSqlite3, { type Database } from 'better-sqlite3';
import { migrate } from './migrations';

export type { Database };

/** The database file inside a data directory. */
export const DATABASE_FILE = 'runlab.db';

/**
 * Opens (creating if needed) the SQLite database and brings its schema up to date.
 * WAL lets readers run while one writer commits; busy_timeout makes a second process (the CLI
 * while the server runs) wait for the lock instead of failing at once.
 */
export function openDatabase(file: string): Database {
  const db = new BetterSqlite3(file);
  try {
    // Metric series are stored as blocks of points in BLOBs; 16 KiB pages read them with far
    // fewer overflow pages. Only takes effect when the file is new (before WAL is enabled).
    db.pragma('page_size = 16384');
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // NORMAL is durable across application crashes in WAL mode and much faster than FULL.
    db.pragma('synchronous = NORMAL');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}
