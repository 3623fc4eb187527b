import { randomUUID } from 'node:crypto';
import {
  encodeMessage,
  type Bus,
  type Delivery,
  type DeliveryHandler,
  type Subscription,
} from '../../shared/bus/bus.js';

interface Subscriber {
  handler: DeliveryHandler;
  closed: boolean;
}

/**
 * An in-process bus with Pub/Sub's semantics that matter to us: every
 * subscription gets every message, a throwing handler gets it again (after a
 * short backoff), and after `maxDeliveryAttempts` the message goes to the
 * topic's dead-letter topic, `${topic}-dead-letter`.
 */
export class MemoryBus implements Bus {
  private readonly topics = new Map<string, Map<string, Subscriber>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly options: { maxDeliveryAttempts?: number; retryDelayMs?: number } = {},
  ) {}

  async publish(
    topic: string,
    message: unknown,
    attributes: Record<string, string> = {},
  ): Promise<string> {
    const id = randomUUID();
    const data = encodeMessage(message);
    for (const subscriber of this.topics.get(topic)?.values() ?? []) {
      this.track(this.deliver(topic, subscriber, { id, data, attributes, deliveryAttempt: 1 }));
    }
    return id;
  }

  async subscribe(topic: string, name: string, handler: DeliveryHandler): Promise<Subscription> {
    const subscribers = this.topics.get(topic) ?? new Map<string, Subscriber>();
    this.topics.set(topic, subscribers);
    const subscriber: Subscriber = { handler, closed: false };
    subscribers.set(name, subscriber);
    return {
      close: async () => {
        subscriber.closed = true;
        if (subscribers.get(name) === subscriber) subscribers.delete(name);
      },
    };
  }

  /** Resolves when every delivery in flight, and those it caused, has settled. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    await this.drain();
    this.topics.clear();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async deliver(topic: string, subscriber: Subscriber, delivery: Delivery): Promise<void> {
    if (subscriber.closed) return;
    try {
      await subscriber.handler(delivery);
    } catch {
      const max = this.options.maxDeliveryAttempts ?? 5;
      if (delivery.deliveryAttempt >= max) {
        const dead = JSON.parse(delivery.data.toString('utf8')) as unknown;
        await this.publish(`${topic}-dead-letter`, dead, delivery.attributes);
        return;
      }
      const delay = (this.options.retryDelayMs ?? 50) * delivery.deliveryAttempt;
      await new Promise((resolve) => setTimeout(resolve, delay));
      await this.deliver(topic, subscriber, {
        ...delivery,
        deliveryAttempt: delivery.deliveryAttempt + 1,
      });
    }
  }
}
