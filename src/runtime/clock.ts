/**
 * The one module that reads real time and randomness. Everything else receives a Clock, so tests
 * can control both. Note what is due is decided by the database clock, not this one: this clock
 * only paces the runtime's own timers and backoff draws.
 */
export interface Clock {
  now(): number;
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
};
