import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS, migrate, type Migration } from './migrations';

const tables = (db: BetterSqlite3.Database): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((row) => row.name);

test('applies every migration in order once; a second run is a no-op', () => {
  const db = new BetterSqlite3(':memory:');
  expect(migrate(db)).toEqual(MIGRATIONS.map((migration) => migration.version));
  expect(migrate(db)).toEqual([]);
  expect(tables(db)).toEqual(expect.arrayContaining(['projects', 'schema_migrations', 'tokens']));
  db.close();
});

test('versions are unique and increasing', () => {
  const versions = MIGRATIONS.map((migration) => migration.version);
  expect(versions).toEqual([...new Set(versions)].sort((a, b) => a - b));
});

test('a failing migration is rolled back whole and not recorded', () => {
  const db = new BetterSqlite3(':memory:');
  const broken: Migration[] = [
    ...MIGRATIONS,
    { version: 99, name: 'broken', sql: 'CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table;' }
  ];
  expect(() => migrate(db, broken)).toThrow(/no_such_table/);
  expect(tables(db)).not.toContain('half');
  const recorded = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number };
  expect(recorded.v).toBe(MIGRATIONS[MIGRATIONS.length - 1].version);
  db.close();
});

test('refuses a database from a newer Runlab', () => {
  const db = new BetterSqlite3(':memory:');
  migrate(db, [...MIGRATIONS, { version: 1000, name: 'future', sql: 'SELECT 1' }]);
  expect(() => migrate(db)).toThrow(/newer than this Runlab/);
  db.close();
});

test('migration 6 backfills run → artifact provenance edges for artifacts stored before it', () => {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(
    db,
    MIGRATIONS.filter((migration) => migration.version < 6)
  );
  db.exec(`
    INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'demo', 't', 't');
    INSERT INTO runs (id, project_id, number, name, status, source_kind, started_at) VALUES ('r1', 'p1', 1, 'run-1', 'finished', 'api', 't');
    INSERT INTO artifacts (run_id, path, digest, size, created_at) VALUES ('r1', 'models/model.pkl', 'd', 1, '2024-01-01');
  `);
  // Up to migration 9: migration 10 drops the insert trigger this test checks.
  migrate(
    db,
    MIGRATIONS.filter((migration) => migration.version < 10)
  );
  expect(db.prepare('SELECT from_ref, to_ref, project_id FROM provenance_edges').all()).toEqual([
    { from_ref: 'run:r1', to_ref: 'artifact:r1/models/model.pkl', project_id: 'p1' }
  ]);
  // Artifacts stored from now on get their edge from the trigger; deleting the run drops both.
  db.exec(`INSERT INTO artifacts (run_id, path, digest, size, created_at) VALUES ('r1', 'b.txt', 'd', 1, 't')`);
  expect((db.prepare('SELECT COUNT(*) AS n FROM provenance_edges').get() as { n: number }).n).toBe(2);
  db.exec(`DELETE FROM runs WHERE id = 'r1'`);
  expect((db.prepare('SELECT COUNT(*) AS n FROM provenance_edges').get() as { n: number }).n).toBe(0);
  db.close();
});

test('migration 10 drops the artifact insert trigger, keeping existing edges and the delete cleanup', () => {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrate(
    db,
    MIGRATIONS.filter((migration) => migration.version < 10)
  );
  db.exec(`
    INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p1', 'demo', 't', 't');
    INSERT INTO runs (id, project_id, number, name, status, source_kind, started_at) VALUES ('r1', 'p1', 1, 'run-1', 'finished', 'api', 't');
    INSERT INTO artifacts (run_id, path, digest, size, created_at) VALUES ('r1', 'before.txt', 'd', 1, 't');
  `);
  expect(
    migrate(
      db,
      MIGRATIONS.filter((migration) => migration.version <= 10)
    )
  ).toEqual([10]);
  const edges = () => db.prepare('SELECT from_ref, to_ref FROM provenance_edges ORDER BY to_ref').all();
  expect(edges()).toEqual([{ from_ref: 'run:r1', to_ref: 'artifact:r1/before.txt' }]);
  const triggers = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all() as { name: string }[]).map(
    (row) => row.name
  );
  expect(triggers).toEqual(['provenance_dataset_version_deleted', 'provenance_run_deleted']);
  // The runs feature links new artifacts itself (server/test/provenance.test.ts); SQL alone adds no edge.
  db.exec(`INSERT INTO artifacts (run_id, path, digest, size, created_at) VALUES ('r1', 'after.txt', 'd', 1, 't')`);
  expect(edges()).toHaveLength(1);
  db.exec(`DELETE FROM runs WHERE id = 'r1'`);
  expect(edges()).toEqual([]);
  db.close();
});

test('migration 11 gives the server one identity, which stays', () => {
  const db = new BetterSqlite3(':memory:');
  migrate(db);
  const ids = db.prepare('SELECT id FROM server_identity').all() as { id: string }[];
  expect(ids).toHaveLength(1);
  expect(ids[0].id).toMatch(/^[0-9a-f]{32}$/);
  expect(() => db.prepare("INSERT INTO server_identity (id) VALUES ('x')").run()).toThrow();
  expect(migrate(db)).toEqual([]);
  expect(db.prepare('SELECT id FROM server_identity').get()).toEqual(ids[0]);
});
