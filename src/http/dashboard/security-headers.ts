/**
 * Headers on every dashboard response. The CSP allows only the dashboard's own files: no inline
 * script or style, no eval, no other origin, no plugin, no framing (clickjacking); form posts
 * only to itself. The page is built for it (Vite emits external files; the code sets styles
 * through the CSSOM, which CSP does not restrict).
 */
import type { FastifyReply } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Sets the security headers on a reply. */
export function setSecurityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  // Older browsers that do not know frame-ancestors.
  reply.header('x-frame-options', 'DENY');
  // Not no-referrer: with it, browsers send `Origin: null` on the login form's POST, and the
  // origin check (csrf.ts) could not tell the page from an opaque one.
  reply.header('referrer-policy', 'same-origin');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
}
