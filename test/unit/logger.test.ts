import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  currentLogContext,
  invocationTrace,
  newExecutionId,
  requestLogContext,
  withLogContext,
} from '../../shared/log/log-context.js';
import { createLogger, type Logger } from '../../shared/log/logger.js';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes Cloud Logging fields: severity, message, labels, trace', () => {
    const out = capture();
    const logger = createLogger({ labels: { fn: 'restore' }, destination: out.stream });
    logger.warn({ backupId: 'b1' }, 'disk is slow');
    withLogContext({ executionId: 'e1', trace: 'projects/acme/traces/t123' }, () =>
      logger.warn({ backupId: 'b1' }, 'disk is slow'),
    );
    const [line, traced] = out.lines();
    assert.equal(line?.['severity'], 'WARNING');
    assert.equal(line?.['message'], 'disk is slow');
    assert.deepEqual(line?.['logging.googleapis.com/labels'], { fn: 'restore' });
    assert.equal(line?.['logging.googleapis.com/trace'], undefined);
    assert.equal(line?.['backupId'], 'b1');
    assert.deepEqual(traced?.['logging.googleapis.com/labels'], {
      fn: 'restore',
      execution_id: 'e1',
    });
    assert.equal(traced?.['logging.googleapis.com/trace'], 'projects/acme/traces/t123');
    assert.equal(traced?.['backupId'], 'b1');
  });

  it('gives every line logged deep inside an invocation its execution id and trace', async () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    // Deep: a child logger, across awaits, timers and concurrent promises.
    const deep = async (log: Logger, depth: number): Promise<void> => {
      await sleep(1);
      if (depth > 0) return deep(log.child({ depth }), depth - 1);
      await Promise.all([1, 2].map(async (n) => (await sleep(n), log.info({ n }, 'deep'))));
    };
    const invocation = (traceparent: unknown) =>
      withLogContext(
        { executionId: newExecutionId(), trace: invocationTrace('acme', traceparent) },
        () => deep(logger.child({ function: 'restore' }), 3),
      );
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    // Two invocations at once: neither's ids leak into the other's lines.
    await Promise.all([invocation(`00-${traceId}-00f067aa0ba902b7-01`), invocation(undefined)]);
    logger.info('between invocations');
    assert.equal(currentLogContext(), undefined);
    const lines = out.lines();
    const deepLines = lines.filter((l) => l['message'] === 'deep');
    assert.equal(deepLines.length, 4);
    const labels = (l: Record<string, unknown>) =>
      l['logging.googleapis.com/labels'] as Record<string, string> | undefined;
    const traced = deepLines.filter(
      (l) => l['logging.googleapis.com/trace'] === `projects/acme/traces/${traceId}`,
    );
    const fresh = deepLines.filter((l) => l !== traced[0] && l !== traced[1]);
    assert.equal(traced.length, 2);
    assert.match(
      String(fresh[0]?.['logging.googleapis.com/trace']),
      /^projects\/acme\/traces\/[0-9a-f]{32}$/,
    );
    assert.equal(
      fresh[0]?.['logging.googleapis.com/trace'],
      fresh[1]?.['logging.googleapis.com/trace'],
    );
    for (const group of [traced, fresh]) {
      assert.match(String(labels(group[0]!)?.['execution_id']), /^[0-9a-f]{12}$/);
      assert.equal(labels(group[0]!)?.['execution_id'], labels(group[1]!)?.['execution_id']);
      assert.equal(group[0]?.['depth'], 1);
    }
    assert.notEqual(labels(traced[0]!)?.['execution_id'], labels(fresh[0]!)?.['execution_id']);
    const between = lines.find((l) => l['message'] === 'between invocations');
    assert.equal(between?.['logging.googleapis.com/trace'], undefined);
    assert.equal(labels(between!), undefined);
  });

  it("reads an HTTP request's execution id and trace from the headers the Functions Framework reads", () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    assert.deepEqual(
      requestLogContext('acme', {
        'function-execution-id': 'xk2hj1a9b3c4',
        'x-cloud-trace-context': `${traceId.toUpperCase()}/6052;o=1`,
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      }),
      { executionId: 'xk2hj1a9b3c4', trace: `projects/acme/traces/${traceId}` },
    );
    // Without X-Cloud-Trace-Context, the W3C traceparent.
    assert.equal(
      requestLogContext('acme', {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      }).trace,
      'projects/acme/traces/4bf92f3577b34da6a3ce929d0e0e4736',
    );
    // Neither header, or ones that do not parse: fresh ids, never the caller's text.
    for (const headers of [
      {},
      { 'function-execution-id': 'a b"c', 'x-cloud-trace-context': 'nonsense', traceparent: 'x' },
      { 'function-execution-id': ['e1', 'e2'] },
    ]) {
      const context = requestLogContext('acme', headers);
      assert.match(context.trace, /^projects\/acme\/traces\/[0-9a-f]{32}$/);
      assert.match(context.executionId, /^([0-9a-f]{12}|e1)$/);
    }
  });

  it('never writes secret values', () => {
    const out = capture();
    const logger = createLogger({ destination: out.stream });
    logger.info({ secret: { data: { password: 'hunter2' } }, auth: { token: 'abc' } }, 'applied');
    const text = JSON.stringify(out.lines());
    assert.ok(!text.includes('hunter2'), text);
    assert.ok(!text.includes('"abc"'), text);
    assert.ok(text.includes('[redacted]'));
  });
});
