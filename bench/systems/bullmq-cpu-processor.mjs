// The file BullMQ's sandbox imports in each worker thread (useWorkerThreads). On Node 20 a
// worker_thread does not inherit the tsx loader of its process, so this registers tsx first and
// then loads the TypeScript processor. offload's task threads do the same when a task module is
// TypeScript, so both pay one tsx registration per thread.
import { register } from 'tsx/esm/api';

register();
const { default: processor } = await import('./bullmq-cpu-processor.ts');
export default processor;
