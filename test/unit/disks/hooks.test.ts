import { strict as assert } from 'node:assert';
import type { V1Pod } from '@kubernetes/client-node';
import { hookAnnotation, hookOf, podsUsingClaim, withHooks } from '../../../shared/disks/hooks.js';
import type { ExecRequest, ExecResult, PodExec } from '../../../shared/disks/pod-exec.js';

/** A PodExec stand-in: scripted results per command word, a log of what ran. */
class ScriptedExec implements PodExec {
  readonly log: string[] = [];
  aborted = 0;
  constructor(private readonly script: Record<string, ExecResult | 'hang' | Error>) {}

  exec(request: ExecRequest, signal: AbortSignal): Promise<ExecResult> {
    const word = request.command.join(' ');
    this.log.push(`${request.pod}/${request.container}: ${word}`);
    const planned = this.script[word] ?? { exitCode: 0, stdout: '', stderr: '' };
    if (planned instanceof Error) return Promise.reject(planned);
    if (planned !== 'hang') return Promise.resolve(planned);
    return new Promise((_, reject) =>
      signal.addEventListener('abort', () => {
        this.aborted += 1;
        reject(signal.reason as Error);
      }),
    );
  }
}

function pod(name: string, annotations: Record<string, string>): V1Pod {
  return {
    metadata: { name, namespace: 'shop', annotations },
    spec: {
      containers: [{ name: 'mysql' }, { name: 'sidecar' }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-mysql-0' } }],
    },
  };
}

const freeze = (extra: Record<string, string> = {}): Record<string, string> => ({
  [hookAnnotation('pre', 'command')]: '["fsfreeze","--freeze","/var/lib/mysql"]',
  [hookAnnotation('post', 'command')]: '["fsfreeze","--unfreeze","/var/lib/mysql"]',
  ...extra,
});

describe('consistency hooks', () => {
  it('reads hook annotations with Velero-like defaults', () => {
    const hook = hookOf(pod('mysql-0', freeze()), 'pre');
    assert.deepEqual(hook, {
      phase: 'pre',
      namespace: 'shop',
      pod: 'mysql-0',
      container: 'mysql',
      command: ['fsfreeze', '--freeze', '/var/lib/mysql'],
      timeoutMs: 30_000,
      onError: 'Fail',
    });
    const custom = hookOf(
      pod(
        'mysql-0',
        freeze({
          [hookAnnotation('post', 'container')]: 'sidecar',
          [hookAnnotation('post', 'timeout')]: '2m',
          [hookAnnotation('post', 'on-error')]: 'Continue',
        }),
      ),
      'post',
    );
    assert.ok(custom && !('invalid' in custom));
    assert.equal(custom.container, 'sidecar');
    assert.equal(custom.timeoutMs, 120_000);
    assert.equal(custom.onError, 'Continue');
    assert.equal(hookOf(pod('plain', {}), 'pre'), undefined);
  });

  it('reports unusable annotations instead of guessing', () => {
    const bad = (extra: Record<string, string>): string => {
      const hook = hookOf(pod('p', extra), 'pre');
      return hook && 'invalid' in hook ? hook.invalid : 'valid';
    };
    assert.match(
      bad({ [hookAnnotation('pre', 'command')]: '["fsfreeze", 3]' }),
      /JSON array of strings/,
    );
    assert.match(
      bad({ ...freeze(), [hookAnnotation('pre', 'timeout')]: 'soon' }),
      /not a duration/,
    );
    assert.match(
      bad({ ...freeze(), [hookAnnotation('pre', 'on-error')]: 'Ignore' }),
      /Fail or Continue/,
    );
  });

  it('finds the pods that mount a claim', () => {
    const other = pod('web', {});
    other.spec = { containers: [{ name: 'nginx' }], volumes: [{ name: 'tmp', emptyDir: {} }] };
    const pods = [pod('mysql-0', {}), other];
    assert.deepEqual(
      podsUsingClaim(pods, 'shop', 'data-mysql-0').map((p) => p.metadata?.name),
      ['mysql-0'],
    );
    assert.deepEqual(podsUsingClaim(pods, 'other-ns', 'data-mysql-0'), []);
  });

  it('runs pre hook, action and post hook in that order', async () => {
    const exec = new ScriptedExec({});
    const order: string[] = [];
    const hooked = await withHooks([pod('mysql-0', freeze())], exec, async () => {
      order.push(...exec.log, 'snapshot');
      return 'READY';
    });
    assert.deepEqual(order, ['mysql-0/mysql: fsfreeze --freeze /var/lib/mysql', 'snapshot']);
    assert.deepEqual(exec.log.slice(1), ['mysql-0/mysql: fsfreeze --unfreeze /var/lib/mysql']);
    assert.equal(hooked.result, 'READY');
    assert.deepEqual(hooked.errors, []);
    assert.deepEqual(
      hooked.runs.map((r) => [r.phase, r.ok]),
      [
        ['pre', true],
        ['post', true],
      ],
    );
  });

  it('skips the action when a pre hook fails with on-error Fail, and still runs the post hook', async () => {
    const exec = new ScriptedExec({
      'fsfreeze --freeze /var/lib/mysql': {
        exitCode: 1,
        stdout: '',
        stderr: 'fsfreeze: operation not permitted',
      },
    });
    let ran = false;
    const hooked = await withHooks([pod('mysql-0', freeze())], exec, async () => (ran = true));
    assert.equal(ran, false);
    assert.equal(hooked.stopped, true);
    assert.deepEqual(hooked.errors, [
      'pre hook in pod shop/mysql-0 container mysql failed: exit code 1: fsfreeze: operation not permitted',
    ]);
    assert.equal(exec.log.length, 2, 'the post hook ran');
  });

  it('goes on when a pre hook fails with on-error Continue, recording a warning', async () => {
    const exec = new ScriptedExec({
      'fsfreeze --freeze /var/lib/mysql': new Error('container not found'),
    });
    const hooked = await withHooks(
      [pod('mysql-0', freeze({ [hookAnnotation('pre', 'on-error')]: 'Continue' }))],
      exec,
      async () => 'READY',
    );
    assert.equal(hooked.result, 'READY');
    assert.deepEqual(hooked.errors, []);
    assert.match(
      hooked.warnings[0] ?? '',
      /pre hook in pod shop\/mysql-0 container mysql failed: container not found/,
    );
  });

  it('times a hanging hook out, aborts the exec, and still runs the post hook', async () => {
    const exec = new ScriptedExec({ 'fsfreeze --freeze /var/lib/mysql': 'hang' });
    const started = Date.now();
    const hooked = await withHooks(
      [pod('mysql-0', freeze({ [hookAnnotation('pre', 'timeout')]: '50ms' }))],
      exec,
      async () => 'READY',
    );
    assert.ok(Date.now() - started < 2000);
    assert.equal(exec.aborted, 1, 'the exec was told to stop');
    assert.equal(hooked.stopped, true);
    assert.match(hooked.errors[0] ?? '', /timed out after 50ms/);
    assert.deepEqual(exec.log[1], 'mysql-0/mysql: fsfreeze --unfreeze /var/lib/mysql');
  });

  it('times out even an exec that ignores its abort signal', async () => {
    const deaf: PodExec = { exec: () => new Promise(() => undefined) };
    const hooked = await withHooks(
      [
        pod('mysql-0', {
          [hookAnnotation('post', 'command')]: '["sync"]',
          [hookAnnotation('post', 'timeout')]: '30ms',
        }),
      ],
      deaf,
      async () => 'READY',
    );
    assert.match(hooked.errors[0] ?? '', /post hook .* failed: timed out after 30ms/);
  });

  it('runs the post hook when the snapshot fails, and reports post-hook failures by policy', async () => {
    const exec = new ScriptedExec({
      'fsfreeze --unfreeze /var/lib/mysql': { exitCode: 2, stdout: '', stderr: '' },
    });
    const hooked = await withHooks([pod('mysql-0', freeze())], exec, async () => {
      throw new Error('snapshot failed');
    });
    assert.equal((hooked.thrown as Error).message, 'snapshot failed');
    assert.deepEqual(exec.log, [
      'mysql-0/mysql: fsfreeze --freeze /var/lib/mysql',
      'mysql-0/mysql: fsfreeze --unfreeze /var/lib/mysql',
    ]);
    assert.deepEqual(hooked.errors, [
      'post hook in pod shop/mysql-0 container mysql failed: exit code 2',
    ]);
  });

  it('fails declared hooks when no exec access is configured', async () => {
    const hooked = await withHooks([pod('mysql-0', freeze())], undefined, async () => 'READY');
    assert.equal(hooked.stopped, true);
    assert.match(hooked.errors[0] ?? '', /no exec access/);
  });
});
