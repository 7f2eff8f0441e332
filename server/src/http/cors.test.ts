import { isAllowedOrigin, originRefusal } from './cors';

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

describe('originRefusal (live connections)', () => {
  test('no Origin header (not a browser page), local and listed origins are not refused', () => {
    expect(originRefusal(undefined, [])).toBeUndefined();
    expect(originRefusal('http://localhost:8888', [])).toBeUndefined();
    expect(originRefusal('https://lab.example.org', ['https://lab.example.org'])).toBeUndefined();
  });

  test('a foreign origin is a 403 that names it and the setting to change', () => {
    const refusal = originRefusal('http://evil.example', ['https://lab.example.org']);
    expect(refusal).toMatchObject({ code: 'forbidden', status: 403 });
    expect(refusal?.message).toMatch(/"http:\/\/evil\.example".*RUNLAB_ALLOWED_ORIGINS/);
  });
});
