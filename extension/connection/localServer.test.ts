/**
 * Which server wins: the local server `npm start` runs, unless the user signed in to another on
 * purpose; a stale localhost address gives way to it; Sign In and "Use the local server" write
 * what that needs.
 */
import {
  isLoopbackUrl,
  isStaleLocalSetting,
  IStaleCheck,
  localServerFromDefaults,
  offersLocalServer,
  sameServerUrl,
  signInSettings,
  useLocalServerSettings
} from './localServer';

const local = { url: 'http://127.0.0.1:8766', token: 'rl_a_local' };
const health = { status: 'ok' as const, version: '0.1.0', serverId: 'a'.repeat(32) };

function staleCheck(overrides: Partial<IStaleCheck> & { user: IStaleCheck['user'] }): IStaleCheck {
  const user = overrides.user;
  return {
    configured: { serverUrl: user.serverUrl ?? local.url, token: user.token ?? local.token, project: 'demo' },
    local,
    configuredAnswers: false,
    localAnswers: true,
    ...overrides
  };
}

describe('the local server', () => {
  it('is what the defaults name on this machine with a token, as npm start writes them', () => {
    expect(localServerFromDefaults({ serverUrl: 'http://127.0.0.1:8766', token: 'rl_a_x' })).toEqual({
      url: 'http://127.0.0.1:8766',
      token: 'rl_a_x'
    });
    // The schema's own defaults (no token), and a site-wide default elsewhere, are no local server.
    expect(localServerFromDefaults({ serverUrl: 'http://127.0.0.1:8765', token: '' })).toBeNull();
    expect(localServerFromDefaults({ serverUrl: 'https://runlab.example.org', token: 'rl_u_x' })).toBeNull();
    expect(localServerFromDefaults({})).toBeNull();
  });

  it('compares addresses as servers: trailing slash, localhost and 127.0.0.1 are the same', () => {
    expect(sameServerUrl('http://localhost:8766/', 'http://127.0.0.1:8766')).toBe(true);
    expect(sameServerUrl('http://127.0.0.1:8766', 'http://127.0.0.1:8767')).toBe(false);
    expect(sameServerUrl('https://runlab.example.org', 'http://runlab.example.org')).toBe(false);
    expect(isLoopbackUrl('http://[::1]:8765')).toBe(true);
    expect(isLoopbackUrl('http://127.1.2.3:8765')).toBe(true);
    expect(isLoopbackUrl('http://runlab.example.org')).toBe(false);
    expect(isLoopbackUrl('not a url')).toBe(false);
  });
});

describe('a stale local address', () => {
  it('is an earlier local server written by the old Sign In: replaced while the local server answers', () => {
    const user = { serverUrl: 'http://127.0.0.1:42057', token: 'rl_u_old' };
    expect(isStaleLocalSetting(staleCheck({ user }))).toBe(true);
    // Not while the local server is down too, nor while the address still answers.
    expect(isStaleLocalSetting(staleCheck({ user, localAnswers: false }))).toBe(false);
    expect(isStaleLocalSetting(staleCheck({ user, configuredAnswers: true }))).toBe(false);
  });

  it('is never a server signed in to on purpose, nor one elsewhere, even while it is down', () => {
    const chosen = { serverUrl: 'http://127.0.0.1:9000', token: 'rl_u_mine', signedInTo: 'http://127.0.0.1:9000' };
    expect(isStaleLocalSetting(staleCheck({ user: chosen }))).toBe(false);
    expect(isStaleLocalSetting(staleCheck({ user: { serverUrl: 'https://runlab.example.org', token: 'rl_u_x' } }))).toBe(false);
    // Settings without a server address of their own already follow the local server.
    expect(isStaleLocalSetting(staleCheck({ user: { token: 'rl_u_x' } }))).toBe(false);
  });

  it('holding the local server’s own token is that server on an earlier port, whatever was recorded', () => {
    const user = { serverUrl: 'http://127.0.0.1:42057', token: local.token, signedInTo: 'http://127.0.0.1:42057' };
    expect(isStaleLocalSetting(staleCheck({ user }))).toBe(true);
  });
});

describe('Sign In and “Use the local server”', () => {
  it('signing in to another server records it as chosen, with its token', () => {
    const entered = { serverUrl: 'http://127.0.0.1:9000', token: 'rl_u_shared', project: 'demo' };
    expect(signInSettings({}, entered, local)).toEqual({ ...entered, signedInTo: 'http://127.0.0.1:9000' });
  });

  it('signing in to the local server stores no address, so the next npm start port is followed', () => {
    const user = { serverUrl: 'http://127.0.0.1:9000', token: 'rl_u_shared', signedInTo: 'http://127.0.0.1:9000', project: 'p' };
    // Its own token is the default already; the token of the server left behind is dropped.
    expect(signInSettings(user, { serverUrl: 'http://localhost:8766/', project: 'demo' }, local)).toEqual({ project: 'demo' });
    expect(signInSettings(user, { serverUrl: local.url, token: local.token, project: 'demo' }, local)).toEqual({ project: 'demo' });
    // A token of one's own for the local server is kept.
    expect(signInSettings({}, { serverUrl: local.url, token: 'rl_u_me', project: 'demo' }, local)).toEqual({
      token: 'rl_u_me',
      project: 'demo'
    });
  });

  it('an empty token field keeps the token set before when moving between other servers', () => {
    const user = { serverUrl: 'http://127.0.0.1:9000', token: 'rl_u_shared', signedInTo: 'http://127.0.0.1:9000' };
    expect(signInSettings(user, { serverUrl: 'http://127.0.0.1:9001', project: 'demo' }, local)).toEqual({
      serverUrl: 'http://127.0.0.1:9001',
      token: 'rl_u_shared',
      signedInTo: 'http://127.0.0.1:9001',
      project: 'demo'
    });
  });

  it('“Use the local server” leaves the defaults to apply, keeping the project', () => {
    const user = { serverUrl: 'http://127.0.0.1:9000', token: 'rl_u_shared', signedInTo: 'http://127.0.0.1:9000', project: 'p' };
    expect(useLocalServerSettings(user)).toEqual({ project: 'p' });
  });
});

describe('the offer to switch', () => {
  const base = {
    serverUrl: 'http://127.0.0.1:9000',
    token: 'rl_u_shared',
    local,
    localHealth: health,
    configuredServerId: null,
    tokenRejected: false
  };

  it('is made while the local server answers and another is configured', () => {
    expect(offersLocalServer(base)).toBe(true);
    expect(offersLocalServer({ ...base, localHealth: null })).toBe(false);
    expect(offersLocalServer({ ...base, local: null })).toBe(false);
    // A local server this extension cannot speak to is no way out.
    expect(offersLocalServer({ ...base, localHealth: { ...health, version: '9.0.0' } })).toBe(false);
  });

  it('is not made for the local server itself, under any of its names, unless its token is refused', () => {
    expect(offersLocalServer({ ...base, serverUrl: 'http://localhost:8766', token: local.token })).toBe(false);
    expect(offersLocalServer({ ...base, configuredServerId: health.serverId })).toBe(false);
    expect(offersLocalServer({ ...base, serverUrl: local.url, token: 'rl_u_wrong', tokenRejected: true })).toBe(true);
  });
});
