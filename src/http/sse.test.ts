import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseStream } from './sse.ts';

describe('SseStream', () => {
  it('writes retry, events with increasing ids and comments', () => {
    const sse = new SseStream({ keepAliveMs: 60_000, retryMs: 2000, maxBufferedBytes: 1 << 20 });
    sse.send('state', { a: 1 });
    sse.comment('hi');
    sse.send('progress', 'x');
    sse.end();
    const chunks: string[] = [];
    let chunk: Buffer | null;
    while ((chunk = sse.stream.read() as Buffer | null) !== null) chunks.push(chunk.toString());
    assert.equal(chunks.join(''), 'retry: 2000\n\nid: 1\nevent: state\ndata: {"a":1}\n\n: hi\n\nid: 2\nevent: progress\ndata: "x"\n\n');
  });

  it('disconnects a client that stops reading once its buffer passes the bound, and runs onEnd once', () => {
    const sse = new SseStream({ keepAliveMs: 60_000, retryMs: 1000, maxBufferedBytes: 1024 });
    let ended = 0;
    sse.onEnd(() => ended++);
    for (let i = 0; i < 100 && !sse.stream.destroyed; i++) sse.send('state', 'x'.repeat(100));
    assert.equal(sse.stream.destroyed, true);
    sse.end();
    sse.send('state', 'dropped');
    assert.equal(sse.ended, true);
    sse.onEnd(() => ended++);
    assert.equal(ended, 1 + 1);
  });
});
