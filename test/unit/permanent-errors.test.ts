import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { readParts, readPlan, segmentKey } from '../../shared/backup/parts.js';
import { Layout } from '../../shared/catalog/layout.js';
import { isRetryable, PermanentError, TransientError } from '../../shared/errors.js';
import { assertKey } from '../../shared/store/object-store.js';
import { LocalStore } from '../../shared/store/local-store.js';
import { envelopeOf, register } from '../../functions/handle.js';
import type { FunctionName } from '../../functions/registry.js';

const CLUSTER = { project: 'p', location: 'l', name: 'c' };

function permanent(error: unknown): true {
  assert.ok(error instanceof PermanentError, `${String(error)} should be a PermanentError`);
  assert.equal(isRetryable(error), false);
  return true;
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

describe('deterministic errors are permanent', () => {
  let store: LocalStore;
  beforeEach(() => {
    store = new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-permanent-')));
  });

  for (const key of ['', '/abs', '../x', 'a/./b', 'a\0b', `a/${'x'.repeat(1100)}`]) {
    it(`a store key validation error (${JSON.stringify(key.slice(0, 12))}) is permanent`, () => {
      assert.throws(() => assertKey(key), permanent);
    });
  }

  it('a NUL byte in a key is permanent, in the store and from Node itself', async () => {
    permanent(await caught(store.get('backups/a\0b/catalog.json')));
    permanent(await caught(store.put('backups/a\0b/catalog.json', '{}')));
    const raw = await caught(readFile('/tmp/a\0b'));
    assert.equal(isRetryable(raw), false, `Node's ${String(raw)} is not worth retrying`);
  });

  it('ENAMETOOLONG from the file system is not retried', async () => {
    const raw = await caught(readFile(join(tmpdir(), 'n'.repeat(300))));
    assert.equal((raw as NodeJS.ErrnoException).code, 'ENAMETOOLONG');
    assert.equal(isRetryable(raw), false);
    permanent(await caught(store.put(`backups/${'n'.repeat(300)}`, 'x')));
  });

  it('network failures without a status stay retryable', () => {
    assert.equal(
      isRetryable(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })),
      true,
    );
    assert.equal(isRetryable(new TypeError('fetch failed')), true);
  });

  for (const [what, body] of [
    ['truncated JSON', '{"backupId": "b", "shards": ['],
    ['not JSON at all', '\u0000\u0001garbage'],
    ['JSON null', 'null'],
    ['JSON without shards', '{"backupId": "b", "cluster": {}}'],
    ['a JSON array', '[]'],
  ] as const) {
    it(`a corrupted plan (${what}) is permanent`, async () => {
      await store.put(Layout.plan(CLUSTER, 'b'), body);
      const error = await caught(readPlan(store, CLUSTER, 'b'));
      permanent(error);
      assert.match(String(error), /Corrupted object .*parts\/plan\.json/);
    });
  }

  it('a corrupted part is permanent', async () => {
    await store.put(segmentKey({ cluster: CLUSTER, backupId: 'b' }, 's1', 0), '{"shardId":');
    permanent(await caught(readParts(store, CLUSTER, 'b')));
    await store.put(Layout.part(CLUSTER, 'c', 'volumes/pv-1'), 'not json');
    permanent(await caught(readParts(store, CLUSTER, 'c')));
  });
});

describe('push envelopes are read without trusting their shape', () => {
  const name = 'permanentErrorsProbe' as FunctionName;
  const worked: unknown[] = [];
  let failure: unknown;
  let logged = '';
  let saved: Record<string, string | undefined>;
  let write: typeof process.stdout.write;
  type Handler = (event: object) => Promise<void>;
  let handler: Handler;

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-envelope-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n',
    );
    const vars = {
      LIFEBOAT_STORE: `file://${join(dir, 'store')}`,
      LIFEBOAT_KUBECONFIG: kubeconfig,
      LIFEBOAT_TOPIC_PREFIX: 'envelope-',
      LIFEBOAT_PROJECT: 'lifeboat-local',
      LIFEBOAT_LOG_LEVEL: 'info',
    };
    saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    register(
      name,
      (json) => json,
      async (message) => {
        worked.push(message);
        if (failure) throw failure;
      },
    );
    handler = getFunction(name) as Handler;
  });

  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  beforeEach(() => {
    worked.length = 0;
    failure = undefined;
    logged = '';
    write = process.stdout.write.bind(process.stdout);
    // The function's JSON log lines are kept; mocha's own output goes through.
    process.stdout.write = ((chunk: string | Uint8Array) => {
      if (String(chunk).startsWith('{')) logged += String(chunk);
      else write(chunk);
      return true;
    }) as typeof process.stdout.write;
  });

  afterEach(() => {
    process.stdout.write = write;
  });

  const data = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64');

  for (const [what, event] of [
    ['no data', { id: 'e1' }],
    ['data null', { id: 'e2', data: null }],
    ['data without message', { id: 'e3', data: {} }],
    ['message null', { id: 'e4', data: { message: null } }],
    ['message a string', { id: 'e5', data: { message: 'hello' } }],
    ['message.data a number', { id: 'e6', data: { message: { data: 42 } } }],
    ['message.data an object', { id: 'e7', data: { message: { data: { a: 1 } } } }],
    ['not base64 JSON', { id: 'e8', data: { message: { data: '%%%' } } }],
  ] as const) {
    it(`acknowledges an envelope with ${what}, with the reason, and does no work`, async () => {
      await handler(event);
      assert.deepEqual(worked, []);
      assert.match(logged, /rejected a malformed message \(acknowledged, not retried\)/);
      assert.match(logged, /"reason":/);
    });
  }

  it('runs a well-formed message', async () => {
    await handler({ id: 'ok', data: { message: { data: data({ a: 1 }), messageId: 'm1' } } });
    assert.deepEqual(worked, [{ a: 1 }]);
  });

  it('acknowledges a store key error, a NUL byte and a corrupted plan on the first delivery', async () => {
    const store = new LocalStore(mkdtempSync(join(tmpdir(), 'lifeboat-envelope-store-')));
    await store.put(Layout.plan(CLUSTER, 'b'), '{"truncated":');
    for (const fail of [
      await caught(store.get('../outside')),
      await caught(store.get('backups/a\0b')),
      await caught(readFile('/tmp/a\0b')),
      await caught(readPlan(store, CLUSTER, 'b')),
    ]) {
      failure = fail;
      logged = '';
      await handler({ id: 'p', data: { message: { data: data({ a: 2 }) }, deliveryAttempt: 1 } });
      assert.match(logged, /permanent failure \(acknowledged, not retried\)/, String(fail));
    }
  });

  it('still asks for redelivery of a transient failure', async () => {
    failure = new TransientError('the API server said 503');
    await assert.rejects(handler({ id: 't', data: { message: { data: data({ a: 3 }) } } }), /503/);
  });

  it('envelopeOf never throws and names the problem', () => {
    for (const event of [undefined, null, 1, 'x', [], { data: [] }, { data: { message: [] } }]) {
      const envelope = envelopeOf(event);
      assert.ok(envelope.problem, JSON.stringify(event));
      assert.equal(envelope.deliveryAttempt, 1);
    }
    const ok = envelopeOf({
      id: 'e',
      data: { message: { data: 'e30=', messageId: 'm' }, deliveryAttempt: 3 },
    });
    assert.deepEqual(
      { problem: ok.problem, messageId: ok.messageId, attempt: ok.deliveryAttempt },
      { problem: undefined, messageId: 'm', attempt: 3 },
    );
  });
});
