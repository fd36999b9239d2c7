/**
 * The messages between a scenario and a worker child process (worker-process.ts), over Node's IPC
 * channel. One child runs one worker at a time: start, (progress ...), stop -> stopped; exit ends it.
 * While a worker runs, measure-loop -> loop takes one event-loop reading in the child (loop scenario).
 */
import type { LoopReading } from './loop-probe.ts';

export type ToWorker =
  | { type: 'start'; concurrency: number; sampleRssMs: number | null }
  /** Wait `warmupMs`, then read the child's own event loop for `windowMs` (timed by the child). */
  | { type: 'measure-loop'; warmupMs: number; windowMs: number }
  | { type: 'stop' }
  | { type: 'exit' };

/** One loop window as the child saw it: its loop, the jobs finished within it, the system's details. */
export interface LoopWindow {
  reading: LoopReading;
  completed: number;
  details: Record<string, number>;
}

export interface RssSummary {
  /** RSS once the client was open, before any worker started. */
  idleBytes: number;
  peakBytes: number;
  medianBytes: number;
  samples: number;
}

export type FromWorker =
  | { type: 'ready'; rssBytes: number }
  | { type: 'started' }
  /** Jobs finished since the last start, and when the first and the latest finished (clock.ts). Sent at most every 10 ms. */
  | { type: 'progress'; count: number; firstAt: number; lastAt: number }
  | { type: 'stopped'; count: number; firstAt: number; lastAt: number; rss: RssSummary | null }
  | ({ type: 'loop' } & LoopWindow)
  | { type: 'failed'; message: string };
