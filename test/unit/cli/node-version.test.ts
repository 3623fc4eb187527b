import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NEEDED_NODE_MAJOR, nodeVersionProblem, PINNED_NODE } from '../../../cli/node-version.js';
import { CLI, explain, runCli, type CliResult } from './run-cli.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

/**
 * The machine's own Node, older than 22: the first `node` on the PATH outside
 * node_modules (npm scripts put the pinned Node 22 first), else the usual places.
 */
function oldNode(): { path: string; version: string } {
  const dirs = (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((d) => d && !d.split(sep).includes('node_modules'));
  const seen: string[] = [];
  for (const dir of [...dirs, '/usr/local/bin', '/usr/bin']) {
    const path = join(dir, 'node');
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    seen.push(`${path} ${version}`);
    if (Number(/^v(\d+)\./.exec(version)?.[1]) < NEEDED_NODE_MAJOR) return { path, version };
  }
  throw new Error(
    `no Node older than ${NEEDED_NODE_MAJOR} on the PATH outside node_modules (found: ${seen.join(', ') || 'none'}); ` +
      'this test needs the machine’s own Node to show what the lifeboat command does there',
  );
}

/** Runs `node ARGS` in the checkout's folder. */
function spawnOn(node: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, args, { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cli node version check', () => {
  it('says which Node it found, which it needs and how to get it, in one line', () => {
    assert.equal(
      nodeVersionProblem('v20.20.2', '/src/lifeboat/dist/cli/main.js', '/src/lifeboat'),
      'lifeboat: needs Node 22 or newer, found v20.20.2; run it on the pinned Node 22.23.3 with ' +
        '`npx -p node@22.23.3 node dist/cli/main.js ...` or put Node 22 first on the PATH',
    );
  });

  it('passes Node 22 and newer, stops anything older or unreadable', () => {
    for (const ok of ['v22.0.0', 'v22.23.3', 'v24.1.0', 'v100.0.0']) {
      assert.equal(nodeVersionProblem(ok, '/x/main.js', '/x'), undefined, ok);
    }
    for (const old of ['v21.7.3', 'v20.20.2', 'v18.20.8', 'v8.17.0', 'nonsense']) {
      assert.match(nodeVersionProblem(old, '/x/main.js', '/x') ?? '', /^lifeboat: needs Node 22/);
    }
  });

  it('shows the script relative to the working folder only when it lies inside it', () => {
    const shown = (script: string | undefined, cwd: string): string =>
      /`npx -p node@\S+ node (.*) \.\.\.`/.exec(
        nodeVersionProblem('v20.0.0', script, cwd) ?? '',
      )![1]!;
    assert.equal(shown('/a/b/dist/cli/main.js', '/a/b/'), 'dist/cli/main.js');
    assert.equal(shown('/a/bc/main.js', '/a/b'), '/a/bc/main.js');
    assert.equal(shown('/usr/bin/lifeboat', '/home/me'), '/usr/bin/lifeboat');
    assert.equal(shown('/s/my dir/main.js', '/s'), '"my dir/main.js"');
    assert.equal(shown(undefined, '/a'), 'dist/cli/main.js');
  });

  it('needs the Node that package.json names: engines and the pinned node package', () => {
    assert.equal(pkg.engines.node, `>=${NEEDED_NODE_MAJOR}`);
    assert.equal(pkg.devDependencies['node'], PINNED_NODE);
    assert.equal(Number(PINNED_NODE.split('.')[0]), NEEDED_NODE_MAJOR);
  });

  it('the lifeboat entry exits 2 with that one line on the machine’s own older Node', async () => {
    const node = oldNode();
    const r = await spawnOn(node.path, [CLI, 'backup', 'get', '--store', 'file:///nowhere']);
    assert.equal(r.code, 2, explain(r));
    assert.equal(r.stdout, '', explain(r));
    assert.equal(r.stderr, `${nodeVersionProblem(node.version, CLI, root)}\n`, explain(r));
    assert.ok(r.stderr.includes(`found ${node.version}`), explain(r));
    assert.ok(r.stderr.includes(`node ${['dist', 'cli', 'main.js'].join(sep)} ...`));
  });

  it('on Node 22 the entry goes on to the command', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0, explain(r));
    assert.match(r.stdout, /Usage: lifeboat/);
    assert.equal(r.stderr, '');
  });
});
