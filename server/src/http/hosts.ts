/**
 * DNS-rebinding defence, as Jupyter Server and Vite do it: a web page on a name the attacker
 * controls can re-point that name at 127.0.0.1 and then talk to this server as same-origin. The
 * browser still sends the attacker's name in the Host header, so every HTTP request and live
 * connection whose Host is not one of the server's names is refused.
 *
 * The server's names: localhost, the address it binds to (RUNLAB_HOST, unless a wildcard such as
 * 0.0.0.0) and RUNLAB_ALLOWED_HOSTS (`*` allows any). A Host that is an IP address is always
 * accepted: it cannot come from rebinding, since a page whose origin is an IP address was served
 * from that address. Ports are not compared. The health check is not exempt; probes that use an
 * IP address or localhost pass anyway.
 */
import net from 'node:net';
import type { RequestHandler } from 'express';
import { AppError } from './errors';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARD_ADDRESSES = new Set(['0.0.0.0', '::', '[::]']);

/** `[::1]` → `::1`; names lowercased, without a trailing dot. */
function normalize(name: string): string {
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  return bare.toLowerCase().replace(/\.$/, '');
}

/** Whether binding to `host` listens on every interface, where no one name is the server's. */
export function isWildcardAddress(host: string): boolean {
  return WILDCARD_ADDRESSES.has(host);
}

/** The names this server answers to, from its bind address and RUNLAB_ALLOWED_HOSTS. */
export function serverHostNames(bindHost: string, allowedHosts: readonly string[]): string[] {
  const names = [...LOOPBACK_NAMES, ...allowedHosts.map(normalize)];
  if (!isWildcardAddress(bindHost)) names.push(normalize(bindHost));
  return [...new Set(names)];
}

/**
 * The host name in a Host header (`localhost:8765`, `[::1]:8765`, `lab.example.org`), lowercased,
 * without port or brackets; undefined when it is not a host at all.
 */
export function hostNameOf(header: string): string | undefined {
  const value = header.trim();
  if (net.isIPv6(value)) return value.toLowerCase();
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]/@\s]+))(?::\d{1,5})?$/.exec(value);
  if (!match) return undefined;
  return normalize(match[1] ?? match[2]);
}

/** Whether a Host header names this server; a name starting with `.` also matches its subdomains. */
export function isAllowedHost(header: string | undefined, names: readonly string[]): boolean {
  if (names.includes('*')) return true;
  if (header === undefined) return false;
  const name = hostNameOf(header);
  if (name === undefined) return false;
  if (net.isIP(name) !== 0) return true;
  return names.some((allowed) => allowed === name || (allowed.startsWith('.') && (name === allowed.slice(1) || name.endsWith(allowed))));
}

/** The 403 for a Host header that does not name this server, or undefined when it does. */
export function hostRefusal(header: string | undefined, names: readonly string[]): AppError | undefined {
  if (isAllowedHost(header, names)) return undefined;
  const shown = header === undefined ? 'no Host header' : `Host ${JSON.stringify(header.slice(0, 200))}`;
  return new AppError(
    'forbidden',
    `This server does not answer to ${shown} (a defence against DNS rebinding). If clients reach it by that ` +
      'name, add the name to RUNLAB_ALLOWED_HOSTS (comma-separated host names, or * for any) and restart it'
  );
}

/** Express middleware refusing requests whose Host is not one of `names`; mount before any route. */
export function hostCheck(names: readonly string[]): RequestHandler {
  return (req, _res, next) => next(hostRefusal(req.headers.host, names));
}
