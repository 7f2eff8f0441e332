import { isAllowedOrigin } from './cors';

test.each([
  ['http://localhost:8888', [], true],
  ['http://127.0.0.1:1234', [], true],
  ['http://[::1]:8888', [], true],
  ['https://localhost', [], true],
  ['http://localhost.evil.example', [], false],
  ['https://lab.example.org', [], false],
  ['https://lab.example.org', ['https://lab.example.org'], true],
  ['https://lab.example.org:8443', ['https://lab.example.org'], false],
  ['https://anything.example', ['*'], true],
  ['null', [], false],
  ['file://localhost', [], false]
])('%s with %j → %s', (origin, allowed, expected) => {
  expect(isAllowedOrigin(origin, allowed)).toBe(expected);
});
