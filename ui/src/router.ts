/**
 * Pages by the URL's hash (#/jobs?state=discarded, #/jobs/42), so links can be shared and the
 * server serves one page at /.
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'overview' }
  | { page: 'queues' }
  | { page: 'jobs'; params: URLSearchParams }
  | { page: 'job'; id: string }
  | { page: 'workers' }
  | { page: 'not-found'; path: string };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  if (path === '/' || path === '') return { page: 'overview' };
  if (path === '/queues') return { page: 'queues' };
  if (path === '/jobs') return { page: 'jobs', params };
  if (path === '/workers') return { page: 'workers' };
  const job = /^\/jobs\/([^/]+)$/.exec(path);
  if (job !== null) return { page: 'job', id: decodeURIComponent(job[1]!) };
  return { page: 'not-found', path };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The href of a page. */
export function href(path: string, params?: Record<string, string | readonly string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    q.set(k, Array.isArray(v) ? v.join(',') : (v as string));
  }
  const s = q.toString();
  return `#${path}${s === '' ? '' : `?${s}`}`;
}

export function navigate(to: string): void {
  window.location.hash = to.replace(/^#/, '');
}
