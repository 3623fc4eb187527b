import type { Bus, Subscription } from '../shared/bus/bus.js';

/** Collects the messages published to a topic, through a subscription of its own. */
export class Inbox<T = Record<string, unknown>> {
  readonly messages: T[] = [];
  private subscription: Subscription | undefined;

  static async open<T = Record<string, unknown>>(
    bus: Bus,
    topic: string,
    name: string,
  ): Promise<Inbox<T>> {
    const inbox = new Inbox<T>();
    inbox.subscription = await bus.subscribe(topic, name, async (d) => {
      inbox.messages.push(JSON.parse(d.data.toString('utf8')) as T);
    });
    return inbox;
  }

  /** Waits for a message that matches, failing with what did arrive after `timeoutMs`. */
  async waitFor(match: (m: T) => boolean, timeoutMs = 90_000, what = 'message'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no ${what} within ${timeoutMs / 1000}s; received: ${JSON.stringify(this.messages).slice(0, 1500)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  count(match: (m: T) => boolean): number {
    return this.messages.filter(match).length;
  }

  async close(): Promise<void> {
    await this.subscription?.close();
  }
}
