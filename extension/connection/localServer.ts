/**
 * The local companion server `npm start` runs, and how the server in the user's settings
 * relates to it.
 *
 * `npm start` (scripts/launch.mjs) writes the local server's URL and token as JupyterLab's
 * settings defaults (overrides.json); what the user sets wins over them. So the local server is
 * what the defaults name, when they name one on this machine with a token (the schema's own
 * default has none). The user's own `serverUrl` either was chosen on purpose (Sign In records it
 * in `signedInTo`) or is a leftover: a localhost address of an earlier local server that no
 * longer answers, which is dropped in favour of the current one.
 */
import type { HealthResponse } from '../../server/src/contract';
import { requestAPI } from '../request';
import type { IConnectionSettings } from '../tokens';
import { isCompatibleVersion } from '../version';

/** The companion server `npm start` started for this JupyterLab. */
export interface ILocalServer {
  url: string;
  token: string;
}

/** The user's own values of the connection settings (absent: the default applies). */
export interface IUserConnectionSettings {
  serverUrl?: string;
  token?: string;
  project?: string;
  /** The server URL the user chose with Sign In, kept over the local server. */
  signedInTo?: string;
}

/** The settings keys this module writes; the rest of the user's settings are kept as they are. */
const USER_KEYS = ['serverUrl', 'token', 'project', 'signedInTo'] as const;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** An address on this machine: `localhost`, 127.x.x.x or ::1. */
export function isLoopbackUrl(url: string): boolean {
  const parsed = parse(url);
  if (!parsed) {
    return false;
  }
  return LOOPBACK_HOSTS.has(parsed.hostname) || /^127(\.\d{1,3}){3}$/.test(parsed.hostname);
}

/** The same server address, whatever the trailing slash, and `localhost` meaning 127.0.0.1. */
export function sameServerUrl(a: string, b: string): boolean {
  const [x, y] = [parse(a.trim()), parse(b.trim())];
  if (!x || !y) {
    return a.trim() === b.trim();
  }
  const host = (url: URL) => (isLoopbackUrl(url.href) ? '127.0.0.1' : url.hostname);
  const path = (url: URL) => url.pathname.replace(/\/+$/, '');
  return x.protocol === y.protocol && host(x) === host(y) && x.port === y.port && path(x) === path(y);
}

/**
 * The local server, from the settings' defaults: a loopback URL with a token is what `npm start`
 * writes there. Null when JupyterLab was started some other way.
 */
export function localServerFromDefaults(defaults: { serverUrl?: unknown; token?: unknown }): ILocalServer | null {
  const url = typeof defaults.serverUrl === 'string' ? defaults.serverUrl.trim() : '';
  const token = typeof defaults.token === 'string' ? defaults.token.trim() : '';
  return url && token && isLoopbackUrl(url) ? { url, token } : null;
}

/** Whether the configured server is the local one (same address). */
export function isLocalServer(serverUrl: string, local: ILocalServer | null): boolean {
  return local !== null && sameServerUrl(serverUrl, local.url);
}

/** What a server answers to the health check, or null when it does not answer as a Runlab server. */
export async function serverHealth(serverUrl: string, timeoutMs = 2000): Promise<HealthResponse | null> {
  try {
    const health = await requestAPI<HealthResponse>({ serverUrl, token: '' }, '/api/health', {}, timeoutMs);
    return health?.status === 'ok' ? health : null;
  } catch {
    return null;
  }
}

export interface IStaleCheck {
  /** What is in effect: the user's values over the defaults. */
  configured: IConnectionSettings;
  /** The user's own values only. */
  user: IUserConnectionSettings;
  local: ILocalServer | null;
  /** The configured server answered the health check just now. */
  configuredAnswers: boolean;
  /** The local server answered the health check just now. */
  localAnswers: boolean;
}

/**
 * Whether the user's server URL is a stale local address, to be replaced by the local server:
 * a localhost address, not the local server's, that does not answer while the local server
 * does, and either holds the local server's own token (the same server on an earlier port) or
 * was not chosen with Sign In (an earlier local server's address, written before Sign In
 * recorded choices, or by hand). A server signed in to on purpose, or any server elsewhere, is
 * kept even while it is down.
 */
export function isStaleLocalSetting({ configured, user, local, configuredAnswers, localAnswers }: IStaleCheck): boolean {
  if (!local || !localAnswers || user.serverUrl === undefined || configuredAnswers) {
    return false;
  }
  if (isLocalServer(configured.serverUrl, local) || !isLoopbackUrl(configured.serverUrl)) {
    return false;
  }
  if (user.token !== undefined && user.token.trim() === local.token) {
    return true;
  }
  return !(user.signedInTo && sameServerUrl(user.signedInTo, configured.serverUrl));
}

/** The user's settings with the connection keys replaced by `changes` (undefined: removed). */
function withChanges(user: IUserConnectionSettings, changes: IUserConnectionSettings): IUserConnectionSettings {
  const next: IUserConnectionSettings = { ...user };
  for (const key of USER_KEYS) {
    if (key in changes) {
      const value = changes[key];
      if (value === undefined) {
        delete next[key];
      } else {
        next[key] = value;
      }
    }
  }
  return next;
}

/**
 * The user's settings after "Use the local server": no server URL, token or sign-in choice of
 * their own, so the defaults `npm start` writes apply, and keep applying when it next starts
 * on another port.
 */
export function useLocalServerSettings(user: IUserConnectionSettings): IUserConnectionSettings {
  return withChanges(user, { serverUrl: undefined, token: undefined, signedInTo: undefined });
}

/**
 * The user's settings after signing in. Signing in to the local server stores no address (the
 * defaults follow `npm start` to its next port) and a token only if it is not the local
 * server's own; signing in anywhere else stores the address, the token and that it was chosen.
 */
export function signInSettings(
  user: IUserConnectionSettings,
  entered: Partial<IConnectionSettings>,
  local: ILocalServer | null
): IUserConnectionSettings {
  const changes: IUserConnectionSettings = {};
  if (entered.project !== undefined) {
    changes.project = entered.project;
  }
  const serverUrl = entered.serverUrl ?? '';
  if (serverUrl && isLocalServer(serverUrl, local)) {
    changes.serverUrl = undefined;
    changes.signedInTo = undefined;
    if (entered.token !== undefined) {
      changes.token = entered.token === local?.token ? undefined : entered.token;
    } else if (user.signedInTo) {
      changes.token = undefined; // the token kept so far was for the server signed in to before
    }
  } else {
    changes.serverUrl = serverUrl;
    changes.signedInTo = serverUrl || undefined;
    if (entered.token !== undefined) {
      changes.token = entered.token;
    }
  }
  return withChanges(user, changes);
}

export interface IOfferCheck {
  /** The configured server. */
  serverUrl: string;
  token: string;
  local: ILocalServer | null;
  /** The local server's last health answer; null while it does not answer. */
  localHealth: HealthResponse | null;
  /** Who the configured server said it is, when it answered. */
  configuredServerId: string | null;
  /** The configured server rejected the token. */
  tokenRejected: boolean;
}

/**
 * Whether to offer "Use the local server": the local server answers, speaks this extension's
 * version, and is not what is configured, or is at the configured address but the token there
 * is not its own and was rejected.
 */
export function offersLocalServer({ serverUrl, token, local, localHealth, configuredServerId, tokenRejected }: IOfferCheck): boolean {
  if (!local || !localHealth || !isCompatibleVersion(localHealth.version)) {
    return false;
  }
  // The same server, by address or by what it says it is (another name for this machine).
  const sameServer = isLocalServer(serverUrl, local) || (configuredServerId !== null && configuredServerId === localHealth.serverId);
  return sameServer ? tokenRejected && token !== local.token : true;
}
