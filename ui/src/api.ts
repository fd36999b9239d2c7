/**
 * The page's calls to its server. Reads and actions on jobs and queues go to the HTTP API through
 * /dashboard/api (the server adds the session's token); every POST and DELETE carries the
 * session's CSRF token. A 401 means the session ended: with tokens, off to the login page.
 */
import type { SessionInfo } from '../../src/http/dashboard/protocol.ts';

/** A refused or failed request: the problem's code and detail when the server sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

let session: SessionInfo | null = null;

export function currentSession(): SessionInfo | null {
  return session;
}

/** Reads the session (and with it the CSRF token). Without tokens this starts one. */
export async function loadSession(): Promise<SessionInfo> {
  const res = await fetch('/dashboard/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) {
    window.location.assign('/login');
    throw new ApiError(401, 'OFFLOAD_HTTP_UNAUTHORIZED', 'log in again');
  }
  if (!res.ok) throw await errorOf(res);
  session = (await res.json()) as SessionInfo;
  return session;
}

async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const p = JSON.parse(text) as { code?: unknown; detail?: unknown };
    return new ApiError(res.status, typeof p.code === 'string' ? p.code : `HTTP_${res.status}`, typeof p.detail === 'string' ? p.detail : res.statusText);
  } catch {
    return new ApiError(res.status, `HTTP_${res.status}`, res.statusText || `request failed with ${res.status}`);
  }
}

async function call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, retried = false): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = (session ?? (await loadSession())).csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (res.status === 401 && !retried) {
    // The session ended. Without tokens a new one starts at once; with tokens loadSession goes to the login.
    await loadSession();
    return call(method, path, body, true);
  }
  return res;
}

/** GET, parsed as JSON; throws ApiError when not 2xx. */
export async function getJson<T>(path: string): Promise<T> {
  const res = await call('GET', path);
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/** POST or DELETE; the JSON answer, or null for 204. Throws ApiError when not 2xx. */
export async function act<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T | null> {
  const res = await call(method, path, body);
  if (!res.ok) throw await errorOf(res);
  return res.status === 204 ? null : ((await res.json()) as T);
}

/** Ends the session and goes to the login page (or reloads, without tokens). */
export async function logout(): Promise<void> {
  const csrf = session?.csrfToken ?? '';
  await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrf } });
  session = null;
  window.location.assign('/login');
}

/** The API path of the dashboard's proxy. */
export const apiPath = (path: string): string => `/dashboard/api${path}`;

/** True when the session may act (retry, cancel, delete, pause). The API decides in the end. */
export function canAct(): boolean {
  return session?.scopes.includes('admin') ?? false;
}

/**
 * POST with the CSRF token, answered as an event stream (text/event-stream): calls `onEvent` for
 * each event as it arrives and resolves when the stream ends. A refusal (not 2xx) throws ApiError.
 */
export async function postStream(path: string, body: unknown, onEvent: (event: string, data: unknown) => void, signal?: AbortSignal): Promise<void> {
  const csrf = (session ?? (await loadSession())).csrfToken;
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
  if (!res.ok || res.body === null) throw await errorOf(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) onEvent(event, JSON.parse(data) as unknown);
    }
  }
}
