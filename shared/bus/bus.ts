/** A message as a subscriber receives it. */
export interface Delivery {
  id: string;
  data: Buffer;
  attributes: Record<string, string>;
  /** 1 on first delivery; grows with each redelivery. */
  deliveryAttempt: number;
}

/** Returning acknowledges the message; throwing asks for redelivery. */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export interface Subscription {
  close(): Promise<void>;
}

/**
 * Messages between the steps of the pipeline: Pub/Sub in production, on
 * the emulator locally, and in memory in unit tests. Delivery is at least
 * once and unordered on all of them, so handlers must be idempotent.
 */
export interface Bus {
  /** Publishes a JSON message; resolves to its message id once accepted. */
  publish(topic: string, message: unknown, attributes?: Record<string, string>): Promise<string>;
  /** Attaches a handler through a named subscription, creating both if needed. */
  subscribe(topic: string, subscription: string, handler: DeliveryHandler): Promise<Subscription>;
  close(): Promise<void>;
}

export function encodeMessage(message: unknown): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}
