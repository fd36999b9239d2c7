/**
 * Text a store cannot keep: PostgreSQL refuses NUL and unpaired surrogates, and one refused value
 * in a batched write would fail every other job's write in that batch. The same rules hold on
 * both stores, so code moves between them unchanged: such input is refused with a typed error
 * that names the field, and what must be kept anyway (an error a handler threw) is kept storable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cancel, defineTask, isOffloadError } from '../../src/index.ts';
import type { TestStore } from '../stores.ts';
import { client, storeLifecycle } from './helpers.ts';

const LONE = '\ud800';

export function storableTextSuite(make: () => TestStore): void {
  const store = make();
  describe(`storable text: ${store.name}`, () => {
    const { use, name } = storeLifecycle(store);

    it('refuses a payload with a NUL or an unpaired surrogate, naming the field, and stores nothing', async () => {
      const t = defineTask({ name: name('text'), handler: () => null });
      const o = use(client(store, { tasks: [t] }));
      await assert.rejects(o.enqueue(t, { user: { name: 'a\u0000b' } }), (err: unknown) => {
        assert.ok(isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD'), String(err));
        assert.match(err.message, /NUL/);
        assert.match(err.message, /\$\.user\.name/);
        return true;
      });
      await assert.rejects(o.enqueue(t, { list: ['ok', `x${LONE}`] }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD') && /surrogate/.test(err.message) && /\$\.list\[1\]/.test(err.message));
      await assert.rejects(o.enqueue(t, { ['k\u0000']: 1 }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD') && /a key of \$/.test(err.message));
      // enqueueMany: one bad payload refuses the call, and none of the good ones is stored.
      await assert.rejects(o.enqueueMany(t, [{ n: 1 }, { n: 'bad\u0000' }, { n: 3 }]), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD'));
      assert.equal((await o.jobs.list({ task: t.name })).jobs.length, 0);
    });

    it('keeps text that only looks like those escapes, and paired surrogates, as they are', async () => {
      const t = defineTask({ name: name('lookalike'), handler: (p: unknown) => p });
      const o = use(client(store, { tasks: [t] }));
      const payload = { slash: '\\u0000', pair: '😀', both: '\\\\u0000 \\ud800' };
      const { job } = await o.enqueue(t, payload);
      await o.start({ concurrency: 1 });
      const done = await o.jobs.waitFor(job.id);
      assert.deepEqual([done.state, done.payload, done.result], ['completed', payload, payload]);
      await o.stop();
    });

    it('refuses such an idempotency key or cancel reason', async () => {
      const t = defineTask({ name: name('keys'), handler: () => null });
      const o = use(client(store, { tasks: [t] }));
      for (const key of ['a\u0000b', `k${LONE}`]) {
        await assert.rejects(o.enqueue(t, {}, { idempotencyKey: key }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /idempotencyKey/.test(err.message));
        await assert.rejects(o.jobs.list({ idempotencyKey: key }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
        // Filters too: on PostgreSQL such text failed the query as a store error (503 over HTTP).
        await assert.rejects(o.jobs.list({ task: key }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
        await assert.rejects(o.jobs.count({ queue: key }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
      }
      const { job } = await o.enqueue(t, {}, { delayMs: 60_000 });
      await assert.rejects(o.jobs.cancel(job.id, 'no\u0000'), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS') && /reason/.test(err.message));
      await assert.rejects(o.jobs.cancel(job.id, 42 as never), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
      await assert.rejects(o.jobs.cancelMany({ task: t.name }, { reason: `r${LONE}` }), (err: unknown) => isOffloadError(err, 'OFFLOAD_INVALID_OPTIONS'));
      assert.equal((await o.jobs.get(job.id))?.state, 'scheduled');
      assert.equal((await o.jobs.list({ task: t.name })).jobs.length, 1);
    });

    it('a bad result, progress, error or cancel reason ends that job alone; the jobs completed beside it are kept', async () => {
      const kinds = ['result', 'progress', 'error', 'cancel', 'ok'] as const;
      type Kind = (typeof kinds)[number];
      const progressErrors: unknown[] = [];
      const t = defineTask({
        name: name('outcomes'),
        retry: { attempts: 1 },
        async handler(p: { kind: Kind; n: number }, ctx) {
          if (p.kind === 'result') return { text: 'r\u0000' };
          if (p.kind === 'progress') {
            await ctx.progress({ step: 'p\u0000' }).catch((err: unknown) => progressErrors.push(err));
            return 'progress refused';
          }
          if (p.kind === 'error') throw Object.assign(new Error(`bad\u0000message${LONE}`), { details: { big: 10n } });
          if (p.kind === 'cancel') throw cancel('stop\u0000now');
          return p.n;
        },
      });
      const o = use(client(store, { tasks: [t] }));
      // Many jobs at once, so that the bad outcomes share their completion batches with good ones.
      const jobs = await o.enqueueMany(
        t,
        Array.from({ length: 60 }, (_, n) => ({ kind: kinds[n % kinds.length]!, n })),
      );
      await o.start({ concurrency: 20 });
      const done = await Promise.all(jobs.map((r) => o.jobs.waitFor(r.job.id)));
      const byKind = (k: Kind) => done.filter((j) => (j.payload as { kind: Kind }).kind === k);
      assert.deepEqual(byKind('ok').map((j) => [j.state, j.result]), byKind('ok').map((j) => ['completed', (j.payload as { n: number }).n]));
      for (const j of byKind('result')) {
        assert.equal(j.state, 'discarded');
        assert.equal(j.errors[0]?.code, 'OFFLOAD_INVALID_PAYLOAD');
        assert.match(j.errors[0]?.message ?? '', /result holds a NUL character .* at \$\.text/);
      }
      for (const j of byKind('progress')) assert.deepEqual([j.state, j.result, j.progress], ['completed', 'progress refused', null]);
      assert.equal(progressErrors.length, byKind('progress').length);
      for (const err of progressErrors) assert.ok(isOffloadError(err, 'OFFLOAD_INVALID_PAYLOAD'), String(err));
      for (const j of byKind('error')) {
        assert.equal(j.state, 'discarded');
        assert.equal(j.errors[0]?.message, 'bad\ufffdmessage\ufffd');
        assert.match(String(j.errors[0]?.details), /not JSON-serializable/);
      }
      for (const j of byKind('cancel')) assert.deepEqual([j.state, j.cancelReason], ['cancelled', 'stop\ufffdnow']);
      await o.stop();
    });
  });
}
