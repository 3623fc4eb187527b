import { strict as assert } from 'node:assert';
import type { Bus, Delivery } from '../../shared/bus/bus.js';
import { unique } from '../../local/settings.js';

function collector(): { received: Delivery[]; until: (n: number, ms?: number) => Promise<void> } {
  const received: Delivery[] = [];
  return {
    received,
    until: async (n, ms = 20_000) => {
      const deadline = Date.now() + ms;
      while (received.length < n) {
        if (Date.now() > deadline)
          throw new Error(`expected ${n} deliveries, got ${received.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** The behaviour every Bus adapter must share; run against each one. */
export function busContract(name: string, open: () => Promise<Bus>): void {
  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    before(async () => {
      bus = await open();
    });
    after(async () => {
      await bus.close();
    });

    it('delivers a published JSON message with its attributes', async () => {
      const topic = unique('t');
      const got = collector();
      const sub = await bus.subscribe(
        topic,
        `${topic}-sub`,
        async (d) => void got.received.push(d),
      );
      const id = await bus.publish(topic, { kind: 'Ping', n: 1 }, { origin: 'test' });
      await got.until(1);
      await sub.close();
      assert.equal(got.received[0]?.id, id);
      assert.deepEqual(JSON.parse(got.received[0]!.data.toString()), { kind: 'Ping', n: 1 });
      assert.equal(got.received[0]?.attributes['origin'], 'test');
    });

    it('gives every subscription its own copy', async () => {
      const topic = unique('t');
      const a = collector();
      const b = collector();
      const subA = await bus.subscribe(topic, `${topic}-a`, async (d) => void a.received.push(d));
      const subB = await bus.subscribe(topic, `${topic}-b`, async (d) => void b.received.push(d));
      await bus.publish(topic, { n: 2 });
      await Promise.all([a.until(1), b.until(1)]);
      await Promise.all([subA.close(), subB.close()]);
      assert.equal(a.received.length + b.received.length, 2);
    });

    it('redelivers a message whose handler throws', async () => {
      const topic = unique('t');
      const got = collector();
      let failures = 0;
      const sub = await bus.subscribe(topic, `${topic}-sub`, async (d) => {
        if (failures < 2) {
          failures += 1;
          throw new Error('transient');
        }
        got.received.push(d);
      });
      await bus.publish(topic, { n: 3 });
      await got.until(1, 60_000);
      await sub.close();
      assert.equal(failures, 2);
      assert.deepEqual(JSON.parse(got.received[0]!.data.toString()), { n: 3 });
    });

    it('delivers many messages, none lost', async () => {
      const topic = unique('t');
      const got = collector();
      const sub = await bus.subscribe(
        topic,
        `${topic}-sub`,
        async (d) => void got.received.push(d),
      );
      await Promise.all(Array.from({ length: 50 }, (_, i) => bus.publish(topic, { i })));
      await got.until(50);
      await sub.close();
      const seen = new Set(
        got.received.map((d) => (JSON.parse(d.data.toString()) as { i: number }).i),
      );
      assert.equal(seen.size, 50);
    });
  });
}
