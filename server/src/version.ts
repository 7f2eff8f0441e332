import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The server's version, read from server/package.json at run time so it cannot drift from the
 * published package. Both src/ (ts-jest) and dist/ (built) sit one level below server/.
 */
function readVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') {
    throw new Error('server/package.json has no "version"');
  }
  return manifest.version;
}

export const VERSION: string = readVersion();
