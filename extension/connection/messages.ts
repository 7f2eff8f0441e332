/**
 * What the panel says about the connection: one sentence a user can act on, true in the state
 * they are in. Advice depends on which server is configured and on the local server `npm start`
 * runs: "start it with `npm start`" is only said where that would bring the configured server
 * back, and a running local server is named when the configured one is another.
 */
import { EXTENSION_VERSION } from '../version';
import { ILocalServer, isLocalServer, isLoopbackUrl } from './localServer';

/** The connection's situation, before it is put in words. */
export type Situation =
  | { status: 'not-configured' }
  | { status: 'connecting' }
  | { status: 'unreachable' }
  | { status: 'unauthorized'; reason: string; runnerToken: boolean }
  | { status: 'version-mismatch'; serverVersion: string }
  | { status: 'connected'; identityName: string };

export interface IMessageContext {
  serverUrl: string;
  token: string;
  local: ILocalServer | null;
  /** The local server answered its last health check (with a version this extension speaks). */
  localRunning: boolean;
}

/** The name of the panel's button (and palette command) that switches to the local server. */
export const USE_LOCAL_SERVER = 'Use the local server';

const TOKEN_CREATE = '`npx runlab-server token create --name <you>`';

export function describeSituation(situation: Situation, context: IMessageContext, offerLocal: boolean): string {
  const { serverUrl, local } = context;
  const isLocal = isLocalServer(serverUrl, local);
  const localUrl = local?.url ?? '';
  const offer = offerLocal
    ? ` Or switch to the local Runlab server at ${localUrl} (the one \`npm start\` runs) with “${USE_LOCAL_SERVER}”.`
    : '';
  switch (situation.status) {
    case 'not-configured':
      return offerLocal
        ? `No Runlab server is configured. The local Runlab server \`npm start\` runs is at ${localUrl}: connect to it with “${USE_LOCAL_SERVER}”, or sign in to another server.`
        : 'No Runlab server configured. Sign in to set its URL and token.';
    case 'connecting':
      return `Connecting to ${serverUrl}…`;
    case 'unreachable':
      if (offerLocal) {
        return (
          `Cannot reach the Runlab server at ${serverUrl}, the one your settings name. ` +
          `The local Runlab server \`npm start\` runs is up at ${localUrl}: switch to it with “${USE_LOCAL_SERVER}”, ` +
          'or sign in to another server. Retrying…'
        );
      }
      if (isLocal) {
        return `Cannot reach the local Runlab server at ${serverUrl}. Start it again with \`npm start\` (or \`npx runlab-server serve\`). Retrying…`;
      }
      if (local && !context.localRunning) {
        // The configured server is another one, and the local server is down too.
        return (
          `Cannot reach the Runlab server at ${serverUrl}, the one your settings name. Check that it is running, ` +
          `or sign in to another server; the local server \`npm start\` ran (${localUrl}) is not running either. Retrying…`
        );
      }
      if (!local && isLoopbackUrl(serverUrl)) {
        return `Cannot reach the Runlab server at ${serverUrl}. Start it with \`npm start\` (or \`npx runlab-server serve\`), or check the server URL in Settings → Runlab. Retrying…`;
      }
      return `Cannot reach the Runlab server at ${serverUrl}. Check that it is running and that this machine can reach it, or sign in to another server. Retrying…`;
    case 'unauthorized':
      if (situation.runnerToken) {
        return `This token may not be used here (it is a runner token). Sign in with a user token.${offer}`;
      }
      if (isLocal && offerLocal) {
        return (
          `The local Runlab server at ${serverUrl} rejected the token in your settings (${situation.reason}). ` +
          `“${USE_LOCAL_SERVER}” switches to the token \`npm start\` gave it; or sign in with a valid token.`
        );
      }
      if (isLocal || (!local && isLoopbackUrl(serverUrl))) {
        return `The server rejected the token (${situation.reason}). Sign in with a valid token: create one with ${TOKEN_CREATE}.`;
      }
      return (
        `The Runlab server at ${serverUrl} rejected the token (${situation.reason}). Sign in with a valid token: ` +
        `whoever runs that server creates one with ${TOKEN_CREATE}.${offer}`
      );
    case 'version-mismatch':
      return `The server runs Runlab ${situation.serverVersion} but this extension is ${EXTENSION_VERSION}. Upgrade the older one so both match.${offer}`;
    case 'connected':
      return offerLocal
        ? `Connected to ${serverUrl} as ${situation.identityName}. The local Runlab server \`npm start\` runs is also up, at ${localUrl}.`
        : `Connected to ${serverUrl} as ${situation.identityName}.`;
  }
}
