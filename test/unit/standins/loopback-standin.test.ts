import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CallCounts,
  FaultQueue,
  LoopbackStandin,
  readRequestText,
  sendJson,
} from '../../../local/standins/loopback-standin.js';

/** Echoes each request's method and body, as a stand-in answers with its JSON. */
class EchoStandin extends LoopbackStandin {
  static start(): Promise<EchoStandin> {
    return new EchoStandin().listen();
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readRequestText(req);
    sendJson(res, 201, JSON.stringify({ method: req.method, text }));
  }
}

describe('the stand-ins’ loopback server', function () {
  it('serves on a 127.0.0.1 port of its own, answers JSON, and stops', async function () {
    const standin = await EchoStandin.start();
    assert.match(standin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(standin.url, `http://${standin.host}`);

    const response = await fetch(`${standin.url}/v1/x`, { method: 'POST', body: 'héllo' });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get('content-type'), 'application/json; charset=UTF-8');
    assert.deepEqual(await response.json(), { method: 'POST', text: 'héllo' });

    const empty = await fetch(standin.url);
    assert.deepEqual(await empty.json(), { method: 'GET', text: '' });

    await standin.stop();
    await assert.rejects(fetch(standin.url));
  });

  it('counts calls by method', function () {
    const counts = new CallCounts<'get' | 'list'>();
    counts.add('get');
    counts.add('get');
    counts.add('list');
    assert.equal(counts.of('get'), 2);
    assert.deepEqual(counts.toRecord(), { get: 2, list: 1 });
    counts.clear();
    assert.equal(counts.of('get'), 0);
    assert.deepEqual(counts.toRecord(), {});
  });

  it('fails the next calls as queued: of one method or of any, each fault for its count', function () {
    const faults = new FaultQueue<'get' | 'list', number>();
    assert.equal(faults.take('get'), undefined);
    faults.add(2, 503, 'list');
    faults.add(1, 429);
    assert.equal(faults.take('get'), 429);
    assert.equal(faults.take('get'), undefined);
    assert.equal(faults.take('list'), 503);
    assert.equal(faults.take('list'), 503);
    assert.equal(faults.take('list'), undefined);
    faults.add(5, 500);
    faults.clear();
    assert.equal(faults.take('get'), undefined);
  });
});
