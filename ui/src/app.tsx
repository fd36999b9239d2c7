/**
 * The page's frame: header with the pages, the stream's state, the theme toggle and the session;
 * then the page of the URL's hash. Loads the session first (it carries the CSRF token).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionInfo } from '../../src/http/dashboard/protocol.ts';
import { loadSession, logout } from './api.ts';
import { Notice } from './components/notice.tsx';
import { JobPage } from './pages/job.tsx';
import { JobsPage } from './pages/jobs.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { QueuesPage } from './pages/queues.tsx';
import { WorkersPage } from './pages/workers.tsx';
import { href, useRoute, type Route } from './router.ts';
import { takeRequestedFocus, useShortcuts } from './shortcuts.ts';
import { StatsProvider, useStats, type StreamStatus } from './stats.tsx';
import { applyTheme, effectiveTheme, NEXT_THEME, storedTheme, type ThemeChoice } from './theme.ts';

const NAV: Array<{ page: Route['page']; path: string; label: string }> = [
  { page: 'overview', path: '/', label: 'Overview' },
  { page: 'queues', path: '/queues', label: 'Queues' },
  { page: 'jobs', path: '/jobs', label: 'Jobs' },
  { page: 'workers', path: '/workers', label: 'Workers' },
];

const STATUS_TEXT: Record<StreamStatus, string> = { connecting: 'connecting', live: 'live', reconnecting: 'reconnecting…', ended: 'disconnected' };

function StreamBadge() {
  const { status } = useStats();
  return (
    <span class={`stream stream-${status}`} id="stream-status" title="The stats stream from the server">
      <span class="dot" aria-hidden="true" />
      {STATUS_TEXT[status]}
    </span>
  );
}

function Page({ route, theme }: { route: Route; theme: string }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage theme={theme} />;
    case 'queues':
      return <QueuesPage />;
    case 'jobs':
      return <JobsPage params={route.params} />;
    case 'job':
      return <JobPage id={route.id} />;
    case 'workers':
      return <WorkersPage />;
    case 'not-found':
      break;
  }
  return (
    <>
      <h1>No such page</h1>
      <p>
        Nothing lives at <code>{route.path}</code>. Go to the <a href={href('/')}>overview</a>.
      </p>
    </>
  );
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [theme, setTheme] = useState<ThemeChoice>(storedTheme);
  // The theme in effect. Set together with <html data-theme> (applyTheme) before the render that
  // uses it, so the charts, which read their colours from CSS when built, get the new ones.
  const [shown, setShown] = useState(() => effectiveTheme(theme));
  const chooseTheme = (choice: ThemeChoice) => {
    applyTheme(choice);
    setTheme(choice);
    setShown(effectiveTheme(choice));
  };
  const main = useRef<HTMLElement>(null);
  useShortcuts();

  useEffect(() => {
    loadSession().then(setSession, (err: unknown) => setFailure(err instanceof Error ? err.message : String(err)));
  }, []);
  useEffect(() => {
    if (theme !== 'system') return undefined;
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => {
      applyTheme('system');
      setShown(effectiveTheme('system'));
    };
    media.addEventListener('change', onChange);
    // The effect runs after the render that chose 'system': a change of the system's scheme in
    // between had no listener yet, so read it once now.
    onChange();
    return () => media.removeEventListener('change', onChange);
  }, [theme]);
  // A new page (not the first): focus goes to the content, so keyboard and screen-reader users
  // start there rather than on the link they followed.
  const routeKey = route.page === 'job' ? `job:${route.id}` : route.page;
  const firstRouteRef = useRef(routeKey);
  useEffect(() => {
    if (routeKey !== firstRouteRef.current) {
      (takeRequestedFocus() ?? main.current)?.focus({ preventScroll: true });
    }
    firstRouteRef.current = '';
  }, [routeKey]);

  if (failure !== null) {
    return (
      <main class="content">
        <Notice kind="error">The dashboard could not start: {failure}</Notice>
      </main>
    );
  }
  if (session === null) return <p class="muted boot">Loading…</p>;

  return (
    <StatsProvider>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        main.current?.focus();
      }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('/')}>
          offload
        </a>
        <nav aria-label="Pages">
          {NAV.map((n) => {
            const active = route.page === n.page || (n.page === 'jobs' && route.page === 'job');
            return (
              <a key={n.page} href={href(n.path)} aria-current={active ? 'page' : undefined} id={`nav-${n.page}`}>
                {n.label}
              </a>
            );
          })}
        </nav>
        <div class="top-right">
          <StreamBadge />
          <button type="button" id="theme-toggle" onClick={() => chooseTheme(NEXT_THEME[theme])} title="Theme: system, light or dark" aria-label={`Theme: ${theme} (${shown}); change`}>
            {theme === 'system' ? `Theme: auto (${shown})` : `Theme: ${theme}`}
          </button>
          {session.authRequired ? (
            <>
              <span class="user" id="session-user">
                {session.user}
              </span>
              <button type="button" id="logout" onClick={() => void logout()}>
                Log out
              </button>
            </>
          ) : (
            <span class="user muted" title="The server has no API tokens: it serves this machine only">
              local, no login
            </span>
          )}
        </div>
      </header>
      <main class="content" id="main" ref={main} tabIndex={-1}>
        <Page route={route} theme={shown} />
      </main>
      <footer class="foot">
        Keys: <kbd>g</kbd> <kbd>o</kbd> overview · <kbd>g</kbd> <kbd>q</kbd> queues · <kbd>g</kbd> <kbd>j</kbd> jobs · <kbd>g</kbd> <kbd>w</kbd> workers · <kbd>/</kbd> find a job
      </footer>
    </StatsProvider>
  );
}
