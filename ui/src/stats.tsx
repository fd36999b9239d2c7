/**
 * The stats stream (GET /dashboard/stats) for every page: the server's history first, then a
 * sample each second. One EventSource for the whole page; EventSource reconnects by itself, and
 * each reconnection starts with the history again, so a gap fills in.
 */
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import type { StatsCurrent, StatsHistoryEvent, StatsSample, StatsSampleEvent } from '../../src/http/dashboard/protocol.ts';
import { loadSession } from './api.ts';

export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'ended';

export interface StatsState {
  status: StreamStatus;
  intervalMs: number;
  samples: StatsSample[];
  current: StatsCurrent | null;
}

const INITIAL: StatsState = { status: 'connecting', intervalMs: 1000, samples: [], current: null };
const StatsContext = createContext<StatsState>(INITIAL);

/** Most samples kept by the page: 15 minutes at 1 s, like the server. */
const MAX_SAMPLES = 900;

export function StatsProvider({ children }: { children: ComponentChildren }) {
  const [state, setState] = useState<StatsState>(INITIAL);
  useEffect(() => {
    const source = new EventSource('/dashboard/stats');
    source.addEventListener('history', (e: MessageEvent<string>) => {
      const h = JSON.parse(e.data) as StatsHistoryEvent;
      setState({ status: 'live', intervalMs: h.intervalMs, samples: h.samples.slice(-MAX_SAMPLES), current: h.current });
    });
    source.addEventListener('sample', (e: MessageEvent<string>) => {
      const s = JSON.parse(e.data) as StatsSampleEvent;
      setState((prev) => {
        const samples = prev.samples.length >= MAX_SAMPLES ? [...prev.samples.slice(1 - MAX_SAMPLES), s.sample] : [...prev.samples, s.sample];
        return { status: 'live', intervalMs: prev.intervalMs, samples, current: s.current };
      });
    });
    source.addEventListener('session-expired', () => {
      source.close();
      setState((prev) => ({ ...prev, status: 'ended' }));
      // With tokens this goes to the login page; without, it starts a new session: reconnect.
      void loadSession().then(() => window.location.reload(), () => undefined);
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSource.CLOSED) {
        // Refused (401 after the session ended, 503 ...): EventSource gives up. Find out why.
        setState((prev) => ({ ...prev, status: 'ended' }));
        void loadSession().then(() => undefined, () => undefined);
      } else {
        setState((prev) => ({ ...prev, status: 'reconnecting' }));
      }
    });
    return () => source.close();
  }, []);
  return <StatsContext.Provider value={state}>{children}</StatsContext.Provider>;
}

export function useStats(): StatsState {
  return useContext(StatsContext);
}
