import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { createLogger, withTrace } from '../../shared/log/logger.js';

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
    const logger = withTrace(
      createLogger({ labels: { fn: 'restore' }, destination: out.stream }),
      'acme',
      't123',
    );
    logger.warn({ backupId: 'b1' }, 'disk is slow');
    const [line] = out.lines();
    assert.equal(line?.['severity'], 'WARNING');
    assert.equal(line?.['message'], 'disk is slow');
    assert.deepEqual(line?.['logging.googleapis.com/labels'], { fn: 'restore' });
    assert.equal(line?.['logging.googleapis.com/trace'], 'projects/acme/traces/t123');
    assert.equal(line?.['backupId'], 'b1');
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
