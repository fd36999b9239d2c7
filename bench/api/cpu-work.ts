/**
 * The unit of CPU work of the experiment: one bcrypt hash, then a chain of SHA-256 hashes, about
 * 100 ms in all on the machine that runs it. Both sides (inline handler, offload task) run this
 * same function with the same parameters.
 */
import { createHash } from 'node:crypto';
import { genSaltSync, hashSync } from 'bcryptjs';

export interface CpuWork {
  /** bcrypt cost factor (2^rounds iterations). */
  bcryptRounds: number;
  /** SHA-256 hashes chained after bcrypt. */
  shaIterations: number;
}

export function doCpuWork(work: CpuWork, input: string): string {
  let h = hashSync(input, genSaltSync(work.bcryptRounds));
  for (let i = 0; i < work.shaIterations; i++) h = createHash('sha256').update(h).digest('hex');
  return h;
}

/** bcrypt at cost 10 (about 65 ms here), then enough SHA-256 to reach `targetMs`, measured now. */
export function calibrate(targetMs: number): { work: CpuWork; measuredMs: number } {
  const time = (w: CpuWork) => {
    const t = performance.now();
    doCpuWork(w, 'calibration');
    return performance.now() - t;
  };
  const bcryptRounds = 10;
  time({ bcryptRounds, shaIterations: 0 }); // warm-up: JIT
  const bcryptMs = Math.min(...[0, 1, 2].map(() => time({ bcryptRounds, shaIterations: 0 })));
  const perSha = Math.min(...[0, 1, 2].map(() => time({ bcryptRounds: 4, shaIterations: 20_000 }) / 20_000));
  const work = { bcryptRounds, shaIterations: Math.max(0, Math.round((targetMs - bcryptMs) / perSha)) };
  return { work, measuredMs: Math.min(...[0, 1, 2].map(() => time(work))) };
}
