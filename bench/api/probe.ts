/**
 * Samplers of the experiment. A probe sends one request at a time on one keep-alive connection
 * (a monitoring client, or a user with a page open), waits `pauseMs` after each answer, and
 * records when each request was sent and how long its answer took.
 */
import { Agent, request } from 'node:http';

export interface Sample {
  /** Seconds since the scenario started, when the request was sent. */
  atS: number;
  ms: number;
  /** 0 for a request still unanswered when the probe stopped: `ms` is then a lower bound. */
  status: number;
  body: string;
}

export interface Probe {
  /** Stops sending; resolves once the request in flight (if any) has answered, or after `drainMs`. */
  stop(drainMs: number): Promise<Sample[]>;
}

export function startProbe(url: string, options: { pauseMs: number; t0: number }): Probe {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const samples: Sample[] = [];
  const state = { stopped: false };
  let inFlight: Promise<void> = Promise.resolve();
  let pendingSince: number | null = null;
  const once = () =>
    new Promise<void>((resolve) => {
      const sent = performance.now();
      pendingSince = sent;
      const req = request(url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          pendingSince = null;
          samples.push({ atS: (sent - options.t0) / 1000, ms: performance.now() - sent, status: res.statusCode ?? 0, body });
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
  const loop = async () => {
    while (!state.stopped) {
      inFlight = once();
      await inFlight;
      if (!state.stopped) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  void loop();
  return {
    async stop(drainMs) {
      state.stopped = true;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([inFlight, new Promise((r) => (timer = setTimeout(r, drainMs)))]);
      clearTimeout(timer);
      if (pendingSince !== null) samples.push({ atS: (pendingSince - options.t0) / 1000, ms: performance.now() - pendingSince, status: 0, body: '' });
      agent.destroy();
      return samples;
    },
  };
}
