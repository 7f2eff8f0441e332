/**
 * Which browser origins may call the server. The extension runs on JupyterLab's origin (e.g.
 * http://localhost:8888), so local origins on any port are allowed by default; others must be
 * listed in RUNLAB_ALLOWED_ORIGINS. Tokens travel in the Authorization header, never in
 * cookies, so credentials mode stays off.
 */
import type { CorsOptions } from 'cors';

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
