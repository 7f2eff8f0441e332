/** `runlab-server serve`: read config, open the database, listen, and shut down cleanly on signals. */
import { createApp } from './app';
import { ConfigError, EXIT_BAD_CONFIG, loadConfig, type ConfigFlags } from './config';
import { ensureDataDir } from './data-dir';
import { openDatabase } from './db/database';
import { createLogger } from './logger';

export async function serve(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config;
  try {
    config = loadConfig(env, flags);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(EXIT_BAD_CONFIG);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const layout = ensureDataDir(config.dataDir);
  const app = createApp({ config, db: openDatabase(layout.databaseFile), logger });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      }
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // A programmer error leaves the process in an unknown state: log it and exit to be restarted.
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    void app.close().finally(() => process.exit(1));
  });

  try {
    await app.listen();
  } catch (error) {
    const code = (error as { code?: string }).code;
    const hint =
      code === 'EADDRINUSE'
        ? `port ${config.port} is in use; choose another with --port or RUNLAB_PORT (0 picks a free one)`
        : code === 'EACCES'
          ? `not allowed to listen on ${config.host}:${config.port}`
          : String((error as Error).message);
    process.stderr.write(`Cannot start the server: ${hint}\n`);
    await app.close();
    process.exit(1);
  }
}
