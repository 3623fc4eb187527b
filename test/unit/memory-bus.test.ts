import { strict as assert } from 'node:assert';
import { MemoryBus } from '../support/memory-bus.js';
import { busContract } from '../contract/bus.contract.js';

busContract('in-process', async () => new MemoryBus({ retryDelayMs: 5 }));

describe('MemoryBus dead letters', () => {
  it('moves a message that keeps failing to the dead-letter topic', async () => {
    const bus = new MemoryBus({ maxDeliveryAttempts: 3, retryDelayMs: 1 });
    let attempts = 0;
    const dead: unknown[] = [];
    await bus.subscribe('jobs', 'jobs-sub', async () => {
      attempts += 1;
      throw new Error('poison');
    });
    await bus.subscribe(
      'jobs-dead-letter',
      'dl',
      async (d) => void dead.push(JSON.parse(d.data.toString())),
    );
    await bus.publish('jobs', { bad: true });
    await bus.drain();
    assert.equal(attempts, 3);
    assert.deepEqual(dead, [{ bad: true }]);
  });
});
