/**
 * Without API tokens the dashboard, like the API, serves only this machine. Two checks: the peer
 * address is loopback, and the Host header names loopback. The second stops DNS rebinding: a
 * page of evil.example whose name was made to resolve to 127.0.0.1 is same-origin with itself,
 * reaches the port, and could read the CSRF token; its requests carry `Host: evil.example`.
 */
import type { FastifyRequest } from 'fastify';

const PEER = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/** A Host header value (name or address, with an optional port) that names this machine. */
export function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  const h = host.toLowerCase();
  const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** Null when the request is from and to this machine; otherwise why not. */
export function loopbackProblem(request: FastifyRequest): string | null {
  if (!PEER.test(request.socket.remoteAddress ?? '')) return 'no API tokens are configured, so only clients on this machine (loopback) are served';
  if (!isLoopbackHostHeader(request.headers.host)) return 'no API tokens are configured, so the dashboard answers only to a loopback host name (localhost, 127.0.0.1, [::1])';
  return null;
}
