/** The connection's advice is true in the state the user is in. */
import { describeSituation, IMessageContext, Situation } from './messages';

const local = { url: 'http://127.0.0.1:8766', token: 'rl_a_local' };
const NPM_START_ADVICE = /start it (again )?with `npm start`/i;

function say(situation: Situation, context: Partial<IMessageContext>, offer = false): string {
  return describeSituation(
    situation,
    { serverUrl: 'http://127.0.0.1:9000', token: 'rl_u_x', local: null, localRunning: false, ...context },
    offer
  );
}

describe('connection messages', () => {
  it('a different server down while the local one runs: names both and offers the switch, no “start it with npm start”', () => {
    const message = say({ status: 'unreachable' }, { local, localRunning: true }, true);
    expect(message).toContain('Cannot reach the Runlab server at http://127.0.0.1:9000');
    expect(message).toContain('http://127.0.0.1:8766');
    expect(message).toContain('Use the local server');
    expect(message).not.toMatch(NPM_START_ADVICE);
  });

  it('the local server down: start it again with npm start', () => {
    expect(say({ status: 'unreachable' }, { serverUrl: local.url, local })).toMatch(NPM_START_ADVICE);
    // No npm start known (JupyterLab started by hand) and a localhost address: npm start is the way to a server.
    expect(say({ status: 'unreachable' }, {})).toMatch(NPM_START_ADVICE);
  });

  it('a server elsewhere down: never “start it with npm start”', () => {
    const message = say({ status: 'unreachable' }, { serverUrl: 'https://runlab.example.org' });
    expect(message).not.toMatch(NPM_START_ADVICE);
    expect(message).toContain('Check that it is running');
    // Another localhost server down while the local server is down too: says both.
    const both = say({ status: 'unreachable' }, { local, localRunning: false });
    expect(both).not.toMatch(NPM_START_ADVICE);
    expect(both).toContain('is not running either');
  });

  it('a token the local server refuses: the switch gives it its own token', () => {
    const message = say(
      { status: 'unauthorized', reason: 'unknown token', runnerToken: false },
      { serverUrl: local.url, local, localRunning: true },
      true
    );
    expect(message).toContain('The local Runlab server at http://127.0.0.1:8766 rejected the token');
    expect(message).toContain('Use the local server');
  });

  it('a token a shared server refuses: its operator makes tokens, and the local server is named when it runs', () => {
    const message = say(
      { status: 'unauthorized', reason: 'unknown token', runnerToken: false },
      { serverUrl: 'https://runlab.example.org', local, localRunning: true },
      true
    );
    expect(message).toContain('whoever runs that server');
    expect(message).toContain('local Runlab server at http://127.0.0.1:8766');
  });

  it('connected elsewhere while the local server runs: says so; otherwise just connected', () => {
    expect(say({ status: 'connected', identityName: 'ada' }, { local, localRunning: true }, true)).toBe(
      'Connected to http://127.0.0.1:9000 as ada. The local Runlab server `npm start` runs is also up, at http://127.0.0.1:8766.'
    );
    expect(say({ status: 'connected', identityName: 'ada' }, {})).toBe('Connected to http://127.0.0.1:9000 as ada.');
  });

  it('nothing configured: offers the local server when it runs, else sign in', () => {
    expect(say({ status: 'not-configured' }, { serverUrl: '', local, localRunning: true }, true)).toContain('Use the local server');
    expect(say({ status: 'not-configured' }, { serverUrl: '' })).toBe('No Runlab server configured. Sign in to set its URL and token.');
  });
});
