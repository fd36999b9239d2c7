/**
 * The messages between a scenario and a worker child process (worker-process.ts), over Node's IPC
 * channel. One child runs one worker at a time: start, (progress ...), stop -> stopped; exit ends it.
 */
export type ToWorker =
  | { type: 'start'; concurrency: number; sampleRssMs: number | null }
  | { type: 'stop' }
  | { type: 'exit' };

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
  | { type: 'failed'; message: string };
