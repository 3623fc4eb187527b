import type {
  GlobalOperationsClient,
  protos,
  RegionOperationsClient,
  ZoneOperationsClient,
} from '@google-cloud/compute';
import type { Deadline } from '../time/deadline.js';
import { poll } from '../time/retry.js';
import { lastSegment } from './zones.js';

type Operation = protos.google.cloud.compute.v1.IOperation;

export interface OperationClients {
  global: GlobalOperationsClient;
  zone: ZoneOperationsClient;
  region: RegionOperationsClient;
}

/** Either the finished operation, or the last state seen when the deadline came. */
export type WaitResult =
  { done: true; operation: Operation } | { done: false; operation: Operation };

/** The most one `wait` call may block; the API itself returns after about two minutes. */
const MAX_WAIT_CALL_MS = 120_000;

export function isDone(operation: Operation): boolean {
  return operation.status === 'DONE';
}

/**
 * Waits for a Compute Engine operation. The v7 client does not poll its
 * operations (an insert resolves to `{latestResponse, done: false}` and has
 * no `.promise()`), so this calls the `wait` method of the operation's own
 * scope (zone, region or global) until the status is DONE or the deadline
 * passes. `wait` blocks on the server, so polling is cheap; each call gets
 * the remaining time as its timeout so the client's own retries (up to ten
 * minutes by default) never outlive the deadline.
 */
export class OperationWaiter {
  constructor(
    private readonly clients: OperationClients,
    private readonly pollIntervalMs: number,
  ) {}

  async wait(project: string, started: Operation, deadline: Deadline): Promise<WaitResult> {
    let operation = started;
    if (isDone(operation)) return { done: true, operation };
    if (deadline.expired()) return { done: false, operation };
    const outcome = await poll(
      deadline,
      this.pollIntervalMs,
      async () => {
        const timeout = Math.max(1, Math.min(deadline.remainingMs(), MAX_WAIT_CALL_MS));
        try {
          operation = await this.waitOnce(project, operation, timeout);
        } catch (error) {
          // A wait cut short by the deadline is "not done in time", not an API failure.
          if (deadline.expired()) return 'cut short';
          throw error;
        }
        return isDone(operation) ? 'done' : undefined;
      },
      { lookAtDeadline: false },
    );
    return { done: outcome === 'done', operation };
  }

  private async waitOnce(
    project: string,
    operation: Operation,
    timeout: number,
  ): Promise<Operation> {
    const name = operation.name ?? '';
    if (operation.zone) {
      const [next] = await this.clients.zone.wait(
        { project, zone: lastSegment(operation.zone), operation: name },
        { timeout },
      );
      return next;
    }
    if (operation.region) {
      const [next] = await this.clients.region.wait(
        { project, region: lastSegment(operation.region), operation: name },
        { timeout },
      );
      return next;
    }
    const [next] = await this.clients.global.wait({ project, operation: name }, { timeout });
    return next;
  }
}
