/**
 * Which browser origins may call the server. The extension runs on JupyterLab's origin (e.g.
 * http://localhost:8888), so local origins on any port are allowed by default; others must be
 * listed in RUNLAB_ALLOWED_ORIGINS. Tokens travel in the Authorization header, never in
 * cookies, so credentials mode stays off.
 */
import type { CorsOptions } from 'cors';
import { AppError } from './errors';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isAllowedOrigin(origin: string, allowedOrigins: readonly string[]): boolean {
  if (allowedOrigins.includes('*')) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && LOCAL_HOSTS.has(url.hostname)) return true;
  return allowedOrigins.includes(url.origin);
}

/**
 * The 403 for a live connection (socket.io, either transport) from a browser origin that may not
 * call the server, or undefined when it may. Browsers do not apply CORS to websockets, so the
 * server checks the Origin itself. No Origin header means no browser page (the Python client, a
 * runner, curl): allowed, as for HTTP.
 */
export function originRefusal(origin: string | undefined, allowedOrigins: readonly string[]): AppError | undefined {
  if (origin === undefined || isAllowedOrigin(origin, allowedOrigins)) return undefined;
  return new AppError(
    'forbidden',
    `Origin ${JSON.stringify(origin.slice(0, 200))} may not open live connections to this server. If JupyterLab is ` +
      'served from there, add that origin to RUNLAB_ALLOWED_ORIGINS (comma-separated, or * for any) and restart the server'
  );
}

/** Options shared by express (via the cors package) and socket.io (which uses the same package). */
export function corsOptions(allowedOrigins: readonly string[]): CorsOptions {
  return {
    origin: (origin, callback) => {
      // No Origin header: not a cross-origin browser request (curl, the Python client).
      callback(null, origin === undefined || isAllowedOrigin(origin, allowedOrigins));
    },
    credentials: false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id'],
    maxAge: 600
  };
}
