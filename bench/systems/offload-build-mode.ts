/** The variable that makes the bench load offload from its TypeScript source instead of dist/. */
export const FROM_SOURCE_ENV = 'OFFLOAD_BENCH_FROM_SOURCE';
