import { PubSub, type Message, type Topic } from '@google-cloud/pubsub';
import { TransientError } from '../errors.js';
import { encodeMessage, type Bus, type DeliveryHandler, type Subscription } from './bus.js';

/**
 * The bus on Google Cloud Pub/Sub (or its emulator, through
 * PUBSUB_EMULATOR_HOST). Topics are created on first use when `createTopics`
 * is set, as in local mode; in production Terraform owns them.
 */
export class PubSubBus implements Bus {
  private readonly topics = new Map<string, Promise<Topic>>();

  constructor(
    private readonly client: PubSub,
    private readonly options: { createTopics: boolean; ackDeadlineSeconds?: number } = {
      createTopics: false,
    },
  ) {}

  private topic(name: string): Promise<Topic> {
    let topic = this.topics.get(name);
    if (!topic) {
      topic = this.options.createTopics
        ? this.client
            .topic(name)
            .get({ autoCreate: true })
            .then(([t]) => t)
        : Promise.resolve(this.client.topic(name));
      topic.catch(() => this.topics.delete(name));
      this.topics.set(name, topic);
    }
    return topic;
  }

  async publish(
    topic: string,
    message: unknown,
    attributes: Record<string, string> = {},
  ): Promise<string> {
    try {
      return await (
        await this.topic(topic)
      ).publishMessage({ data: encodeMessage(message), attributes });
    } catch (error) {
      throw new TransientError(`Unable to publish to topic "${topic}".`, error);
    }
  }

  async subscribe(topic: string, name: string, handler: DeliveryHandler): Promise<Subscription> {
    const t = await this.topic(topic);
    const [subscription] = await t.subscription(name).get({
      autoCreate: true,
      ackDeadlineSeconds: this.options.ackDeadlineSeconds ?? 60,
    } as object);
    const onMessage = (message: Message): void => {
      handler({
        id: message.id,
        data: message.data,
        attributes: message.attributes,
        deliveryAttempt: message.deliveryAttempt || 1,
      }).then(
        () => message.ack(),
        () => message.nack(),
      );
    };
    subscription.on('message', onMessage);
    subscription.on('error', () => undefined);
    return {
      close: async () => {
        subscription.off('message', onMessage);
        await subscription.close();
      },
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
