import BetterSqlite3 from 'better-sqlite3';
import { MIGRATIONS, migrate, type Migration } from './migrations';

const tables = (db: BetterSqlite3.Database): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
    (row) => row.name
  );

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
