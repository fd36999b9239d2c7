import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openApiPath } from './openapi.ts';

describe('openApiPath', () => {
  it('turns parameters into {name} and the escaped colon into a colon', () => {
    assert.equal(openApiPath('/v1/jobs/:id/events'), '/v1/jobs/{id}/events');
    assert.equal(openApiPath('/v1/jobs::batch'), '/v1/jobs:batch');
    assert.equal(openApiPath('/api/v1/queues/:name/pause'), '/api/v1/queues/{name}/pause');
  });
});
