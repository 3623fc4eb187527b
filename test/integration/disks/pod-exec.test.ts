import { strict as assert } from 'node:assert';
import type { V1Pod } from '@kubernetes/client-node';
import { hookAnnotation, withHooks } from '../../../shared/disks/hooks.js';
import { KubePodExec } from '../../../shared/disks/pod-exec.js';
import { ExecStandin, type ExecScript } from './exec-standin.js';

/**
 * KubePodExec (the real @kubernetes/client-node Exec, over a WebSocket)
 * against a stand-in exec endpoint, and the hooks on top of it.
 */
describe('KubePodExec against a stand-in exec endpoint', () => {
  let standin: ExecStandin;
  let exec: KubePodExec;
  const scripts: Record<string, ExecScript> = {
    'fsfreeze --freeze /var/lib/mysql': { stdout: 'frozen\n' },
    'fsfreeze --unfreeze /var/lib/mysql': { stdout: 'thawed\n' },
    'sh -c exit 3': { stderr: 'boom\n', exitCode: 3 },
    'no-such-binary': { cannotRun: 'exec: "no-such-binary": executable file not found in $PATH' },
    'sleep infinity': { hang: true },
  };

  before(async () => {
    standin = await ExecStandin.start(
      ['shop/mysql-0'],
      (call) => scripts[call.command.join(' ')] ?? { exitCode: 127 },
    );
    exec = new KubePodExec(standin.kubeConfig());
  });
  after(async () => standin.stop());

  const run = (command: string[], signal = new AbortController().signal) =>
    exec.exec({ namespace: 'shop', pod: 'mysql-0', container: 'mysql', command }, signal);

  it('runs a command in the named container and reads stdout and the exit status', async () => {
    const result = await run(['fsfreeze', '--freeze', '/var/lib/mysql']);
    assert.deepEqual(result, { exitCode: 0, stdout: 'frozen\n', stderr: '' });
    const call = standin.calls.at(-1);
    assert.deepEqual(call?.command, ['fsfreeze', '--freeze', '/var/lib/mysql']);
    assert.equal(call?.container, 'mysql');
    assert.equal(call?.protocol, 'v5.channel.k8s.io');
    assert.equal(call?.authorization, `Bearer ${standin.token}`);
    assert.equal(call?.closedByClient, false);
  });

  it('reports a non-zero exit code with stderr', async () => {
    assert.deepEqual(await run(['sh', '-c', 'exit 3']), {
      exitCode: 3,
      stdout: '',
      stderr: 'boom\n',
    });
  });

  it('rejects when the command cannot run, or the pod does not exist', async () => {
    await assert.rejects(
      run(['no-such-binary']),
      /exec in pod shop\/mysql-0 container mysql failed: .*executable file not found/,
    );
    await assert.rejects(
      exec.exec(
        { namespace: 'shop', pod: 'gone-0', container: 'mysql', command: ['true'] },
        new AbortController().signal,
      ),
      /cannot exec in pod shop\/gone-0 container mysql: Unexpected server response: 404/,
    );
  });

  it('closes the WebSocket when aborted, so a hung command does not hold the backup', async () => {
    const controller = new AbortController();
    const pending = run(['sleep', 'infinity'], controller.signal);
    setTimeout(() => controller.abort(new Error('timed out after 100ms')), 100);
    await assert.rejects(pending, /timed out after 100ms/);
    const call = standin.calls.at(-1);
    await waitUntil(() => call?.closedByClient === true);
    assert.equal(call?.closedByClient, true, 'the endpoint saw the client close');
  });

  it('freezes, snapshots and thaws through the hooks; a hung pre hook times out and the post hook still runs', async () => {
    const pod = (pre: string[]): V1Pod => ({
      metadata: {
        name: 'mysql-0',
        namespace: 'shop',
        annotations: {
          [hookAnnotation('pre', 'command')]: JSON.stringify(pre),
          [hookAnnotation('pre', 'timeout')]: '200ms',
          [hookAnnotation('post', 'command')]: '["fsfreeze","--unfreeze","/var/lib/mysql"]',
        },
      },
      spec: { containers: [{ name: 'mysql' }] },
    });
    const good = await withHooks(
      [pod(['fsfreeze', '--freeze', '/var/lib/mysql'])],
      exec,
      async () => 'READY',
    );
    assert.equal(good.result, 'READY');
    assert.deepEqual(good.errors, []);

    const before = standin.calls.length;
    const hung = await withHooks([pod(['sleep', 'infinity'])], exec, async () => 'READY');
    assert.equal(hung.stopped, true);
    assert.match(
      hung.errors[0] ?? '',
      /pre hook in pod shop\/mysql-0 container mysql failed: timed out after 200ms/,
    );
    assert.deepEqual(
      standin.calls.slice(before).map((c) => c.command.join(' ')),
      ['sleep infinity', 'fsfreeze --unfreeze /var/lib/mysql'],
    );
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
}
