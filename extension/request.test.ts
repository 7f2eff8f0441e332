/** The request helper against a real HTTP server on an ephemeral port. */
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { requestAPI, RunlabRequestError } from './request';

let server: http.Server;
let url: string;
const timers: NodeJS.Timeout[] = [];
const seen: http.IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/ok') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
    } else if (req.url === '/bad') {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          error: { code: 'invalid_request', message: 'name is wrong', details: [{ path: 'body.name', message: 'too long' }] }
        })
      );
    } else if (req.url === '/html') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>hello</html>');
    } else if (req.url === '/slow') {
      timers.push(setTimeout(() => res.writeHead(200).end('{}'), 2000));
    } else {
      res.writeHead(204).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  timers.forEach(clearTimeout);
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
});

describe('requestAPI', () => {
  it('sends the bearer token and parses JSON', async () => {
    await expect(requestAPI({ serverUrl: url + '/', token: 'secret' }, '/ok')).resolves.toEqual({ status: 'ok' });
    expect(seen[seen.length - 1].authorization).toBe('Bearer secret');
  });

  it('turns the error envelope into a typed error with field paths', async () => {
    const error = await requestAPI<never>({ serverUrl: url, token: 't' }, '/bad').catch((e: unknown) => e as RunlabRequestError);
    expect(error).toBeInstanceOf(RunlabRequestError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', message: 'name is wrong' });
    expect(error.details).toEqual([{ path: 'body.name', message: 'too long' }]);
  });

  it('says plainly when the answer is not JSON', async () => {
    await expect(requestAPI({ serverUrl: url, token: '' }, '/html')).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('says the server is unreachable when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await requestAPI<never>({ serverUrl: `http://127.0.0.1:${port}`, token: '' }, '/ok').catch(
      (e: unknown) => e as RunlabRequestError
    );
    expect(error).toMatchObject({ status: 0, code: 'unreachable' });
    expect(error.message).toContain(`127.0.0.1:${port}`);
  });

  it('gives up after the timeout', async () => {
    await expect(requestAPI({ serverUrl: url, token: '' }, '/slow', {}, 200)).rejects.toMatchObject({ code: 'timeout' });
  });

  it('returns nothing for 204', async () => {
    await expect(requestAPI({ serverUrl: url, token: '' }, '/empty', { method: 'DELETE' })).resolves.toBeUndefined();
  });
});
