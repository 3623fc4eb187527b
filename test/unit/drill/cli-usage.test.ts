import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorLines, explain, runCli } from '../cli/run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-drill-unit-'));
const store = pathToFileURL(join(dir, 'store')).href;
const env = { LIFEBOAT_STORE: undefined, LIFEBOAT_KEY_FILE: undefined, KUBECONFIG: undefined };
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: drills, context: {cluster: c, user: u}}, {name: prod, context: {cluster: c, user: u}}]',
    'current-context: drills',
  ].join('\n'),
);
const policy = (text: string): string => {
  const file = join(dir, `policy-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
};
const good = policy(
  'name: weekly\nprojects: [local]\ndrillCluster: {project: local, location: local, name: drills}\n',
);

describe('lifeboat drill: usage', function () {
  this.timeout(60_000);
  const cases: [string, string[], RegExp, number][] = [
    ['a missing --policy', ['drill', 'run'], /required option '--policy <file>'/, 2],
    [
      'a policy file that does not exist',
      ['drill', 'run', '--policy', join(dir, 'nope.yaml'), '--store', store],
      /cannot read drill policy file .*nope\.yaml/,
      2,
    ],
    [
      'a policy without a drill cluster, naming the field',
      ['drill', 'run', '--policy', policy('name: weekly\nprojects: [local]\n'), '--store', store],
      /invalid drill policy file .*: \(root\): must have required property 'drillCluster'/,
      2,
    ],
    [
      'a context that is not the policy drill cluster',
      [
        ...['drill', 'run', '--policy', good, '--store', store],
        ...['--kubeconfig', kubeconfig, '--context', 'prod'],
      ],
      /the kubeconfig context is cluster local\/local\/prod, but the policy's drill cluster is local\/local\/drills/,
      2,
    ],
    [
      'a store with no backup of a selected cluster',
      ['drill', 'run', '--policy', good, '--store', store, '--kubeconfig', kubeconfig],
      /no cluster the drill policy weekly selects has backups in/,
      3,
    ],
    [
      'a drill id that is too long for the namespaces it names',
      [
        ...['drill', 'run', '--policy', good, '--store', store, '--kubeconfig', kubeconfig],
        ...['--cluster', 'local/local/source', '--id', 'a-very-long-drill-id'],
      ],
      /invalid --id/,
      2,
    ],
    [
      'flags the deployment decides in pipeline mode, naming them',
      [
        ...['drill', 'run', '--policy', good, '--pipeline', '--cluster', 'local/local/source'],
        ...['--kubeconfig', kubeconfig, '--key-file', kubeconfig, '--project', 'p'],
      ],
      /--kubeconfig, --key-file cannot be used with --pipeline: the deployed drill policy decides/,
      2,
    ],
    [
      'a pipeline drill without --cluster',
      ['drill', 'run', '--policy', good, '--pipeline', '--project', 'p'],
      /missing --cluster PROJECT\/LOCATION\/NAME: with --pipeline, drill run drills one cluster/,
      2,
    ],
    [
      'describe of a drill not in the store',
      ['drill', 'describe', 'w48', '--store', store],
      /drill "w48" not found/,
      3,
    ],
  ];
  for (const [title, args, message, code] of cases) {
    it(`refuses ${title} (exit ${code})`, async () => {
      const r = await runCli(args, env);
      assert.equal(r.code, code, explain(r));
      assert.equal(r.stdout, '');
      assert.match(errorLines(r).join('\n'), message);
    });
  }

  it('lists no drills in an empty store, and shows its usage', async () => {
    const r = await runCli(['drill', 'get', '--store', store], env);
    assert.equal(r.code, 0, explain(r));
    assert.equal(r.stdout.trim(), '<none>');
    const help = await runCli(['drill', 'run', '--help'], env);
    assert.match(help.stdout, /^Usage: lifeboat drill run \[options\]/);
  });
});
