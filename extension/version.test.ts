import fs from 'node:fs';
import path from 'node:path';
import { EXTENSION_VERSION, isCompatibleVersion } from './version';

const root = path.join(__dirname, '..');
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

describe('versions', () => {
  it('are the same in the extension, the server and the Python package', () => {
    expect(JSON.parse(read('package.json')).version).toBe(EXTENSION_VERSION);
    expect(JSON.parse(read('server/package.json')).version).toBe(EXTENSION_VERSION);
    expect(read('pyproject.toml')).toContain(`version = "${EXTENSION_VERSION}"`);
    expect(read('python/runlab/__init__.py')).toContain(`__version__ = "${EXTENSION_VERSION}"`);
  });

  it('are compatible on the same major.minor only', () => {
    expect(isCompatibleVersion('0.1.7', '0.1.0')).toBe(true);
    expect(isCompatibleVersion('0.2.0', '0.1.0')).toBe(false);
    expect(isCompatibleVersion('1.1.0', '0.1.0')).toBe(false);
  });
});
