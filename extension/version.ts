/**
 * The extension's own version, compared with the companion server's on connect.
 * Kept equal to package.json's "version" (a unit test checks it), so no JSON import is
 * needed in the browser bundle.
 */
export const EXTENSION_VERSION = '0.1.0';

/** Same major.minor means the REST contract is compatible; patch releases may differ. */
export function isCompatibleVersion(serverVersion: string, extensionVersion = EXTENSION_VERSION): boolean {
  const majorMinor = (version: string) => version.split('.').slice(0, 2).join('.');
  return majorMinor(serverVersion) === majorMinor(extensionVersion);
}
