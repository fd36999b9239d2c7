import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWorkerId } from './worker-id.ts';

describe('parseWorkerId', () => {
  it('splits host and pid, keeping a host with colons whole', () => {
    assert.deepEqual(parseWorkerId('api-7f9c:4242:a1b2c3'), { host: 'api-7f9c', pid: 4242 });
    assert.deepEqual(parseWorkerId('::1:77:ffffff'), { host: '::1', pid: 77 });
  });

  it('an id of another shape is the host, with no pid', () => {
    assert.deepEqual(parseWorkerId('worker-1'), { host: 'worker-1', pid: null });
    assert.deepEqual(parseWorkerId('a:b:c'), { host: 'a:b:c', pid: null });
    assert.deepEqual(parseWorkerId('a:0:c'), { host: 'a:0:c', pid: null });
  });
});
