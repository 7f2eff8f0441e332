import { hostNameOf, hostRefusal, isAllowedHost, serverHostNames } from './hosts';

test.each([
  ['localhost:8765', 'localhost'],
  ['LocalHost', 'localhost'],
  ['localhost.', 'localhost'],
  ['[::1]:8765', '::1'],
  ['[::1]', '::1'],
  ['::1', '::1'],
  ['10.0.0.5:80', '10.0.0.5'],
  ['lab.example.org', 'lab.example.org'],
  ['user@evil.example', undefined],
  ['evil.example/path', undefined],
  ['a:b:c', undefined],
  ['', undefined]
])('hostNameOf(%j) → %j', (header, expected) => {
  expect(hostNameOf(header)).toBe(expected);
});

test('the server answers to loopback names and its bind address; a wildcard bind adds no name', () => {
  expect(serverHostNames('127.0.0.1', [])).toEqual(['localhost', '127.0.0.1', '::1']);
  expect(serverHostNames('runlab.lan', ['Lab.Example.org', '[fd00::5]'])).toEqual([
    'localhost',
    '127.0.0.1',
    '::1',
    'lab.example.org',
    'fd00::5',
    'runlab.lan'
  ]);
  expect(serverHostNames('0.0.0.0', [])).toEqual(['localhost', '127.0.0.1', '::1']);
  expect(serverHostNames('::', [])).toEqual(['localhost', '127.0.0.1', '::1']);
});

test.each<[string | undefined, string[], boolean]>([
  ['localhost:8765', [], true],
  ['127.0.0.1:8765', [], true],
  ['[::1]:8765', [], true],
  // An IP address cannot be the result of DNS rebinding.
  ['192.168.1.20:8765', [], true],
  ['[fd00::5]:8765', [], true],
  ['evil.example:8765', [], false],
  ['localhost.evil.example', [], false],
  ['lab.example.org:443', ['lab.example.org'], true],
  ['hub.corp.example', ['.corp.example'], true],
  ['corp.example', ['.corp.example'], true],
  ['evilcorp.example', ['.corp.example'], false],
  ['anything.example', ['*'], true],
  [undefined, [], false],
  ['user@localhost', [], false]
])('isAllowedHost(%j, %j) → %s', (header, allowed, expected) => {
  expect(isAllowedHost(header, serverHostNames('127.0.0.1', allowed))).toBe(expected);
});

test('a refusal is a 403 naming the host and RUNLAB_ALLOWED_HOSTS', () => {
  const names = serverHostNames('127.0.0.1', []);
  expect(hostRefusal('localhost:1', names)).toBeUndefined();
  const refusal = hostRefusal('evil.example:8765', names);
  expect(refusal).toMatchObject({ code: 'forbidden', status: 403 });
  expect(refusal?.message).toMatch(/Host "evil\.example:8765".*RUNLAB_ALLOWED_HOSTS/);
  expect(hostRefusal(undefined, names)?.message).toMatch(/no Host header.*RUNLAB_ALLOWED_HOSTS/);
});
