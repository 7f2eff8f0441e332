#!/usr/bin/env node
/**
 * `runlab-server`: the companion server's own program, for whoever runs the server. `serve` runs
 * it; `token`, `gc` and `fsck` work directly on the data directory, so they also work while the
 * server is stopped. (`runlab` is the Python package's program, for users and runner machines.)
 */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { formatBytes, IssuableTokenScope, TokenName, type TokenInfo, type TokenScope } from './contract';
import { AuthService, OPERATOR } from './auth/service';
import { collectGarbage } from './blobs/gc';
import { BlobStore } from './blobs/store';
import { TokenStore } from './auth/store';
import { ConfigError, EXIT_BAD_CONFIG, LOG_LEVELS, loadConfig } from './config';
import { ensureDataDir } from './data-dir';
import { ChunkPacks } from './datasets/chunks';
import { checkDatasetStore, repairDatasetStore, type FsckProgress } from './datasets/fsck';
import { collectChunkGarbage, repackSparsePacks } from './datasets/gc';
import { openDatabase, type Database } from './db/database';
import { AppError } from './http/errors';
import { VERSION } from './version';

/** Raised for anything the user can fix; printed without a stack trace. */
class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1
  ) {
    super(message);
  }
}

const dataDirOption = (): Option => new Option('--data-dir <path>', 'data directory (env RUNLAB_DATA_DIR, default ~/.runlab)');

function withTokens<T>(dataDir: string | undefined, action: (auth: AuthService) => T): T {
  return withDatabase(dataDir, (db) => action(new AuthService(new TokenStore(db))));
}

/** Opens the data directory's database, for a command that works on it directly. */
function openDataDir(dataDir: string | undefined): { db: Database; layout: ReturnType<typeof ensureDataDir> } {
  let config;
  try {
    config = loadConfig(process.env, { dataDir });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, EXIT_BAD_CONFIG);
    throw error;
  }
  const layout = ensureDataDir(config.dataDir);
  return { db: openDatabase(layout.databaseFile), layout };
}

function withDatabase<T>(dataDir: string | undefined, action: (db: Database, layout: ReturnType<typeof ensureDataDir>) => T): T {
  const { db, layout } = openDataDir(dataDir);
  try {
    return action(db, layout);
  } finally {
    db.close();
  }
}

/** withDatabase for work that awaits: the database stays open until it settles. */
async function withDatabaseAsync<T>(
  dataDir: string | undefined,
  action: (db: Database, layout: ReturnType<typeof ensureDataDir>) => Promise<T>
): Promise<T> {
  const { db, layout } = openDataDir(dataDir);
  try {
    return await action(db, layout);
  } finally {
    db.close();
  }
}

function parseTokenName(value: string): string {
  const parsed = TokenName.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid name');
  return parsed.data;
}

function formatTable(tokens: TokenInfo[]): string {
  const names = new Map(tokens.map((token) => [token.id, token.name]));
  const header = ['ID', 'NAME', 'SCOPE', 'PREFIX', 'CREATED', 'CREATED BY', 'LAST USED', 'STATUS'];
  const rows = tokens.map((token) => [
    token.id,
    token.name,
    token.scope,
    `${token.prefix}…`,
    token.createdAt,
    token.createdBy ? (names.get(token.createdBy) ?? token.createdBy) : '-',
    token.lastUsedAt ?? '-',
    token.revokedAt ? `revoked ${token.revokedAt}` : 'active'
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd()
    )
    .join('\n');
}

export function buildProgram(): Command {
  const program = new Command('runlab-server')
    .description('Runlab companion server and command-line tools')
    .version(VERSION, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError();

  program
    .command('serve')
    .description('run the companion server (REST + socket.io)')
    .option('--port <port>', 'port to listen on, 0 for any free port (env RUNLAB_PORT, default 8765)')
    .option('--host <host>', 'address to bind (env RUNLAB_HOST, default 127.0.0.1)')
    .addOption(dataDirOption())
    .addOption(new Option('--log-level <level>', 'log level (env RUNLAB_LOG_LEVEL, default info)').choices(LOG_LEVELS))
    .action(async (options: { port?: string; host?: string; dataDir?: string; logLevel?: string }) => {
      // Loaded lazily so token commands do not pay for express and socket.io.
      const { serve } = await import('./main');
      await serve(options);
    });

  const token = program.command('token').description('create, list and revoke API tokens');

  token
    .command('create')
    .description('create a token and print its secret (shown only once)')
    .requiredOption('--name <name>', 'a name to recognise the token by', parseTokenName)
    .addOption(
      new Option('--scope <scope>', 'admin (manages every token), user, or runner (a machine that runs jobs)')
        .choices(IssuableTokenScope.options)
        .default('user')
    )
    .addOption(dataDirOption())
    .action((options: { name: string; scope: TokenScope; dataDir?: string }) => {
      const created = withTokens(options.dataDir, (auth) => auth.createToken(options.name, options.scope, OPERATOR));
      process.stderr.write(`Created ${created.token.scope} token "${created.token.name}" (id ${created.token.id}).\n`);
      process.stderr.write('Store the secret now; it cannot be shown again:\n');
      process.stdout.write(`${created.secret}\n`);
    });

  token
    .command('list')
    .description('list every token (never their secrets)')
    .addOption(dataDirOption())
    .action((options: { dataDir?: string }) => {
      const tokens = withTokens(options.dataDir, (auth) => auth.listTokens(OPERATOR));
      process.stdout.write(tokens.length > 0 ? `${formatTable(tokens)}\n` : 'No tokens.\n');
    });

  token
    .command('revoke')
    .description('revoke any token by id (see `runlab-server token list`), even the last admin token')
    .argument('<id>', 'token id')
    .addOption(dataDirOption())
    .action((id: string, options: { dataDir?: string }) => {
      const [revoked, adminsLeft] = withTokens(options.dataDir, (auth) => {
        try {
          return [auth.revokeToken(id, OPERATOR), auth.countActiveAdmins()] as const;
        } catch (error) {
          if (error instanceof AppError && error.code === 'not_found') {
            throw new CliError(`No token with id ${id}; run \`runlab-server token list\` to see the ids`);
          }
          throw error;
        }
      });
      process.stdout.write(`Revoked token "${revoked.name}" (id ${revoked.id}).\n`);
      if (adminsLeft === 0) {
        process.stderr.write(
          'No active admin token is left: the server writes a new local admin token to <data dir>/admin-token ' +
            'when it next starts, or create one now with `runlab-server token create --name <name> --scope admin`.\n'
        );
      }
    });

  program
    .command('gc')
    .description(
      'remove blobs no run references, dataset chunks no version uses (in packs older than an hour), and upload temp files older than an hour'
    )
    .addOption(dataDirOption())
    .action(async (options: { dataDir?: string }) => {
      const [report, chunks, repack] = await withDatabaseAsync(options.dataDir, async (db, layout) => {
        const packs = new ChunkPacks(layout.chunksDir);
        return [
          collectGarbage(db, new BlobStore(layout.blobsDir)),
          collectChunkGarbage(db, packs),
          await repackSparsePacks(db, packs)
        ] as const;
      });
      for (const blob of report.removedBlobs) process.stdout.write(`removed blob ${blob.digest} (${blob.size} bytes)\n`);
      for (const file of report.removedTempFiles) process.stdout.write(`removed temp file ${file.name} (${file.size} bytes)\n`);
      for (const pack of chunks.removedPacks) process.stdout.write(`removed chunk pack ${pack.name} (${pack.size} bytes)\n`);
      for (const pack of repack.repacked) {
        process.stdout.write(`rewrote chunk pack ${pack.from} as ${pack.to}: kept ${pack.liveBytes} bytes in use, freed ${pack.freed}\n`);
      }
      for (const pack of repack.skipped) process.stdout.write(`left chunk pack ${pack.pack} as it is: ${pack.why}\n`);
      process.stdout.write(
        `Removed ${report.removedBlobs.length} blob(s), ${report.removedTempFiles.length} temp file(s), ` +
          `${chunks.removedChunks} dataset chunk(s) no version uses and ${chunks.removedPacks.length} chunk pack(s); ` +
          `rewrote ${repack.repacked.length} chunk pack(s); freed ${report.bytesFreed + chunks.bytesFreed + repack.bytesFreed} bytes.\n`
      );
      if (chunks.keptYoungChunks > 0) {
        process.stdout.write(
          `Kept ${chunks.keptYoungChunks} unused chunk(s) uploaded within the last hour (a commit may still need them).\n`
        );
      }
    });

  program
    .command('fsck')
    .description('verify every stored dataset chunk (decompress + sha256) and that every dataset version is complete')
    .option(
      '--repair',
      'drop corrupt chunks from the index and mark the versions using them damaged, so committing the same files again restores them'
    )
    .addOption(dataDirOption())
    .action((options: { dataDir?: string; repair?: boolean }) => {
      const started = Date.now();
      let lastPrinted = 0;
      const progress = (done: FsckProgress): void => {
        // About once a second, and always at the end.
        if (Date.now() - lastPrinted < 1000 && done.packsChecked < done.packsTotal) return;
        lastPrinted = Date.now();
        process.stdout.write(
          `checked ${done.packsChecked}/${done.packsTotal} packs, ${done.chunksChecked}/${done.chunksTotal} chunks, ` +
            `${formatBytes(done.bytesChecked)}/${formatBytes(done.bytesTotal)}\n`
        );
      };
      const report = withDatabase(options.dataDir, (db, layout) => {
        const checked = checkDatasetStore(db, new ChunkPacks(layout.chunksDir), progress);
        if (options.repair) repairDatasetStore(db, checked);
        return checked;
      });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        `Checked ${report.chunksChecked} chunks in ${report.packsChecked} packs (${formatBytes(report.bytesChecked)} stored, ` +
          `${formatBytes(report.rawBytesChecked)} uncompressed) and ${report.versionsChecked} dataset versions in ${seconds} s.\n`
      );
      for (const pack of report.missingPacks) process.stdout.write(`missing pack ${pack}\n`);
      for (const chunk of report.corrupt) process.stdout.write(`corrupt chunk ${chunk.hash} in pack ${chunk.pack}: ${chunk.problem}\n`);
      for (const hash of report.missingChunks) process.stdout.write(`missing chunk ${hash}: named by a dataset file, not in the store\n`);
      for (const version of report.affectedVersions) process.stdout.write(`affected dataset version ${version}\n`);
      for (const wrong of report.wrongSizes) {
        process.stdout.write(
          `wrong sizes in dataset version ${wrong.version}${wrong.path === null ? '' : ` file ${wrong.path}`}: ${wrong.problem}\n`
        );
      }
      const problems = report.corrupt.length + report.missingChunks.length;
      if (problems === 0 && report.wrongSizes.length > 0) {
        const versions = [...new Set(report.wrongSizes.map((wrong) => wrong.version))];
        throw new CliError(
          `${report.wrongSizes.length} size record(s) in dataset version(s) ${versions.join(', ')} disagree with their chunks. ` +
            'The chunks themselves are intact: commit the same files again (`runlab data add <name> <folder>`) for a correct version, ' +
            'then delete the wrong one (`runlab data rm <name>@vN`).'
        );
      }
      if (problems > 0) {
        const found =
          `${report.corrupt.length} corrupt and ${report.missingChunks.length} missing chunk(s); ` +
          `${report.affectedVersions.length} dataset version(s) affected: ${report.affectedVersions.join(', ') || 'none'}.`;
        if (options.repair) {
          process.stdout.write(
            `Repaired the index: dropped ${report.corrupt.length} corrupt chunk(s); marked ${report.affectedVersions.length} version(s) damaged.\n`
          );
          throw new CliError(
            `${found} They are marked damaged: commit the same files again (\`runlab data add <name> <folder>\`) to restore ` +
              'each one, or restore the data directory from a backup.'
          );
        }
        throw new CliError(
          `${found} Those versions cannot be fetched until the data directory is restored from a backup, or until ` +
            '`runlab-server fsck --repair` drops the bad chunks and the same files are committed again.'
        );
      }
      process.stdout.write('All good: every chunk reads back with its hash and every dataset version is complete.\n');
    });

  return program;
}

/** The spelling this program had before it was renamed; it keeps working for one release. */
const DEPRECATED_NAME = 'runlab';

async function run(): Promise<void> {
  if (path.basename(process.argv[1] ?? '') === DEPRECATED_NAME) {
    process.stderr.write(
      'runlab: this server command is now `runlab-server` (`npx runlab-server …`); `npx runlab …` still works but ' +
        'goes away in the next release. The Python `runlab` (in the venv) is the program for notebooks and runners.\n'
    );
  }
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(`error: ${(error as Error).message ?? String(error)}\n`);
    process.exit(1);
  }
}

if (require.main === module) void run();
