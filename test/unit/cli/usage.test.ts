import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliBatch, errorLines, explain, type CliResult } from './run-cli.js';

/** No setting leaks in from the caller's environment. */
const batch = new CliBatch({
  LIFEBOAT_STORE: undefined,
  LIFEBOAT_KEY_FILE: undefined,
  LIFEBOAT_PROJECT: undefined,
  GOOGLE_CLOUD_PROJECT: undefined,
  KUBECONFIG: undefined,
});

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-cli-unit-'));
const store = pathToFileURL(join(dir, 'store')).href;
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(
  kubeconfig,
  [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
    'users: [{name: u, user: {token: t}}]',
    'contexts: [{name: Bad_Context, context: {cluster: c, user: u}}, {name: good, context: {cluster: c, user: u}}]',
    'current-context: good',
  ].join('\n'),
);
const shortKey = join(dir, 'short.key');
writeFileSync(shortKey, 'c2hvcnQ=\n');
const badPolicy = join(dir, 'policy.yaml');
writeFileSync(badPolicy, 'name: Nightly\nprojects: [local]\n');
const noSecrets = ['--exclude-resources', 'secrets'];

/** A usage error: exit 2, exactly one `lifeboat: ...` line, no stack, nothing on stdout. */
function usageCase(title: string, args: string[], expected: RegExp): void {
  const result = batch.add(args);
  it(title, async () => {
    const r = await result();
    assert.equal(r.code, 2, explain(r));
    const lines = errorLines(r);
    assert.equal(lines.length, 1, explain(r));
    assert.match(lines[0]!, expected, explain(r));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stdout, '', 'nothing on stdout');
  });
}

function resultCase(title: string, args: string[], check: (r: CliResult) => void): void {
  const result = batch.add(args);
  it(title, async () => check(await result()));
}

describe('the lifeboat command, run as a child process', function () {
  this.timeout(60_000);
  before(() => batch.start());

  describe('bad arguments exit 2 with one clear line on stderr', () => {
    usageCase(
      'an invalid backup name',
      ['backup', 'create', 'Bad_Name', '--store', store, ...noSecrets],
      /^lifeboat: invalid backup name "Bad_Name": must be a lowercase RFC 1123 label/,
    );
    usageCase(
      'a backup name longer than 63 characters',
      ['backup', 'create', 'a'.repeat(64), '--store', store],
      /invalid backup name "a{64}"/,
    );
    usageCase(
      'a namespace mapping with nothing after the colon',
      ['restore', 'create', '--from-backup', 'b1', '--store', store, '--namespace-mappings', 'a:'],
      /^lifeboat: invalid --namespace-mappings "a:": "a:" must be OLD:NEW with both names non-empty$/,
    );
    usageCase(
      'a namespace mapping to an invalid namespace name',
      ['restore', 'create', '--from-backup', 'b1', '--namespace-mappings', 'shop:Shop_2'],
      /invalid --namespace-mappings "shop:Shop_2": namespace "Shop_2" must be a lowercase/,
    );
    usageCase(
      'both --existing-resource-policy and --conflict-policy',
      [
        ...['restore', 'create', '--from-backup', 'b1', '--store', store],
        ...['--existing-resource-policy', 'update', '--conflict-policy', 'skip'],
      ],
      /^lifeboat: --existing-resource-policy and --conflict-policy say the same thing: give only one$/,
    );
    usageCase(
      'an unknown -o value',
      ['backup', 'get', '--store', store, '-o', 'yaml'],
      /^lifeboat: option '-o, --output <format>' argument 'yaml' is invalid\. Allowed choices are table, json\.$/,
    );
    usageCase(
      'an unknown --existing-resource-policy value',
      ['restore', 'create', '--from-backup', 'b1', '--existing-resource-policy', 'overwrite'],
      /argument 'overwrite' is invalid\. Allowed choices are none, update\./,
    );
    for (const args of [
      ['backup', 'get'],
      ['backup', 'describe', 'b1'],
      ['backup', 'logs', 'b1'],
      ['backup', 'diff', 'b1', 'b2'],
      ['ui'],
      ['restore', 'get'],
      ['restore', 'describe', 'r1'],
      ['catalog', 'verify', 'b1'],
      ['catalog', 'export', 'b1', '--dir', dir],
      ['backup', 'create', 'b1', ...noSecrets],
      ['restore', 'create', '--from-backup', 'b1'],
    ]) {
      usageCase(
        `missing --store: ${args.join(' ')}`,
        args,
        /^lifeboat: missing --store URL \(or set LIFEBOAT_STORE\): where backups are kept/,
      );
    }
    usageCase(
      'a store URL that is neither gs:// nor file:///',
      ['backup', 'get', '--store', 's3://bucket'],
      /^lifeboat: invalid --store "s3:\/\/bucket": must start with gs:\/\/BUCKET or file:\/\/\/$/,
    );
    usageCase(
      'Secrets to back up and no key file, before anything else is checked',
      ['backup', 'create', 'b1', '--store', store, '--kubeconfig', '/does/not/exist'],
      /pass --key-file FILE .*openssl rand -base64 32 > lifeboat\.key.*--exclude-resources secrets/,
    );
    usageCase(
      'a key file that does not hold 32 bytes',
      [
        'backup',
        'create',
        'b1',
        '--store',
        store,
        '--key-file',
        shortKey,
        '--kubeconfig',
        kubeconfig,
      ],
      /^lifeboat: invalid key file .*short\.key: must hold 32 bytes/,
    );
    usageCase(
      'a kubeconfig that cannot be read',
      ['backup', 'create', 'b1', '--store', store, ...noSecrets, '--kubeconfig', '/does/not/exist'],
      /^lifeboat: cannot load kubeconfig \/does\/not\/exist: /,
    );
    usageCase(
      'no kubeconfig at all',
      ['backup', 'create', 'b1', '--store', store, ...noSecrets],
      /^lifeboat: missing --kubeconfig FILE \(or set KUBECONFIG\)/,
    );
    usageCase(
      'a context the kubeconfig does not have',
      [
        ...['backup', 'create', 'b1', '--store', store, ...noSecrets],
        ...['--kubeconfig', kubeconfig, '--context', 'prod'],
      ],
      /has no context "prod" \(it has: Bad_Context, good\)$/,
    );
    usageCase(
      'a context whose name cannot name a cluster',
      [
        ...['backup', 'create', 'b1', '--store', store, ...noSecrets],
        ...['--kubeconfig', kubeconfig, '--context', 'Bad_Context'],
      ],
      /^lifeboat: context "Bad_Context" in .* cannot name a cluster in the catalog/,
    );
    usageCase(
      '--snapshot-volumes with a value that is not a boolean',
      ['backup', 'create', 'b1', '--snapshot-volumes=maybe', ...noSecrets],
      /^lifeboat: invalid --snapshot-volumes "maybe": expected true or false$/,
    );
    usageCase(
      'an unknown --include-cluster-resources value',
      ['backup', 'create', 'b1', '--include-cluster-resources=sometimes', ...noSecrets],
      /argument 'sometimes' is invalid\. Allowed choices are auto, true, false\./,
    );
    usageCase(
      'a malformed label selector',
      ['backup', 'create', 'b1', '--selector', 'app web', ...noSecrets],
      /^lifeboat: invalid --selector "app web"/,
    );
    usageCase(
      'an empty item in a namespace list',
      ['backup', 'create', 'b1', '--include-namespaces', 'a,,b', ...noSecrets],
      /^lifeboat: invalid --include-namespaces "a,,b": expected a comma-separated list of names$/,
    );
    usageCase(
      'a policy file that is not a valid policy names the file and the problem',
      ['schedule', 'run', '--policy', badPolicy, '--store', store],
      new RegExp(`^lifeboat: invalid policy file ${badPolicy}: /name: must match pattern`),
    );
    usageCase(
      'a policy file that does not exist',
      ['schedule', 'run', '--policy', join(dir, 'missing.yaml')],
      /^lifeboat: cannot read policy file .*missing\.yaml: ENOENT/,
    );
    usageCase(
      '--pipeline without --cluster',
      ['backup', 'create', 'b1', '--pipeline'],
      /^lifeboat: missing --cluster PROJECT\/LOCATION\/NAME: the cluster to back up$/,
    );
    usageCase(
      'a cluster that is not PROJECT/LOCATION/NAME',
      ['backup', 'create', 'b1', '--pipeline', '--cluster', 'local/source'],
      /^lifeboat: invalid --cluster "local\/source": expected PROJECT\/LOCATION\/NAME$/,
    );
    usageCase(
      '--pipeline without a project',
      ['backup', 'create', 'b1', '--pipeline', '--cluster', 'local/local/source'],
      /^lifeboat: missing --project: the Google Cloud project Lifeboat is deployed in/,
    );
    usageCase(
      'a --timeout that is not a duration',
      [
        ...['backup', 'create', 'b1', '--pipeline', '--cluster', 'local/local/source'],
        ...['--timeout', 'soon', '--project', 'lifeboat-local'],
      ],
      /^lifeboat: invalid --timeout "soon": expected a duration such as 90s, 30m or 2h$/,
    );
    usageCase(
      'restore --pipeline without --plan',
      [
        ...['restore', 'create', '--pipeline', '--from-backup', 'b1'],
        ...['--target-cluster', 'local/local/target', '--source-cluster', 'local/local/source'],
      ],
      /^lifeboat: missing --plan NAME: the deployed restore plan that allows this restore/,
    );
    usageCase(
      'restore --pipeline without --target-cluster',
      ['restore', 'create', '--pipeline', '--from-backup', 'b1', '--plan', 'p'],
      /^lifeboat: missing --target-cluster PROJECT\/LOCATION\/NAME/,
    );
    usageCase(
      'restore --pipeline with neither --source-cluster nor --store',
      [
        ...['restore', 'create', '--pipeline', '--from-backup', 'b1', '--plan', 'p'],
        ...['--target-cluster', 'local/local/target'],
      ],
      /^lifeboat: missing --source-cluster PROJECT\/LOCATION\/NAME/,
    );
    usageCase(
      'restore --pipeline with a --plan that cannot name a plan',
      [
        ...['restore', 'create', '--pipeline', '--from-backup', 'b1', '--plan', 'Shop_Plan'],
        ...['--target-cluster', 'local/local/target', '--source-cluster', 'local/local/source'],
      ],
      /^lifeboat: Invalid RestoreRequest message: \/plan: must match pattern/,
    );
    for (const [flag, value] of [
      ['--namespace-mappings', 'shop:shop-copy'],
      ['--conflict-policy', 'replace'],
      ['--existing-resource-policy', 'update'],
      ['--volume-data-policy', 'no-volume-data'],
      ['--zone-mappings', 'europe-west1-b:europe-west1-c'],
    ] as const) {
      usageCase(
        `restore --pipeline with ${flag}, which the plan decides`,
        [
          ...['restore', 'create', '--pipeline', '--from-backup', 'b1', '--plan', 'p'],
          ...['--target-cluster', 'local/local/target', '--source-cluster', 'local/local/source'],
          ...['--include-namespaces', 'shop', flag, value],
        ],
        new RegExp(
          `^lifeboat: ${flag}: with --pipeline the restore plan decides this; a request may only narrow it \\(--include/--exclude-namespaces, --include/--exclude-resources, --dry-run\\)$`,
        ),
      );
    }
    usageCase(
      'restore --pipeline with several flags the plan decides names them all, before --plan is asked for',
      [
        ...['restore', 'create', '--pipeline', '--from-backup', 'b1'],
        ...['--conflict-policy', 'skip', '--namespace-mappings', 'a:b'],
      ],
      /^lifeboat: --namespace-mappings, --conflict-policy: with --pipeline the restore plan decides this/,
    );
    usageCase(
      'restore without --from-backup (a commander usage error)',
      ['restore', 'create'],
      /^lifeboat: required option '--from-backup <name>' not specified$/,
    );
    usageCase(
      'catalog export without --dir',
      ['catalog', 'export', 'b1', '--store', store],
      /^lifeboat: required option '--dir <dir>' not specified$/,
    );
    usageCase(
      'an unknown option',
      ['backup', 'get', '--colour'],
      /^lifeboat: unknown option '--colour'/,
    );
    usageCase('an unknown command', ['bakup'], /^lifeboat: unknown command 'bakup'/);
    usageCase(
      'too many arguments',
      ['backup', 'describe', 'a', 'b'],
      /^lifeboat: too many arguments for 'describe'/,
    );
    resultCase('a group without a command shows its help on stderr, exit 2', ['backup'], (r) => {
      assert.equal(r.code, 2, explain(r));
      assert.match(r.stderr, /Usage: lifeboat backup \[options\] \[command\]/);
    });
  });

  describe('what is not there exits 3', () => {
    resultCase(
      'backup describe of an unknown backup',
      ['backup', 'describe', 'nope', '--store', store],
      (r) => {
        assert.equal(r.code, 3, explain(r));
        assert.deepEqual(errorLines(r), [`lifeboat: backup "nope" not found in ${store}`]);
      },
    );
    resultCase(
      'restore describe of an unknown restore',
      ['restore', 'describe', 'nope', '--store', store],
      (r) => {
        assert.equal(r.code, 3, explain(r));
        assert.deepEqual(errorLines(r), [`lifeboat: restore "nope" not found in ${store}`]);
      },
    );
    resultCase(
      'backup get of a name that is not there',
      ['backup', 'get', 'nope', '--store', store],
      (r) => {
        assert.equal(r.code, 3, explain(r));
        assert.deepEqual(errorLines(r), [`lifeboat: backup "nope" not found in ${store}`]);
      },
    );
    resultCase(
      'catalog verify of an unknown backup',
      ['catalog', 'verify', 'nope', '--store', store],
      (r) => {
        assert.equal(r.code, 3, explain(r));
      },
    );
  });

  describe('--help', () => {
    const commands = [
      [],
      ['backup'],
      ...['create', 'get', 'describe', 'logs'].map((c) => ['backup', c]),
      ['restore'],
      ...['create', 'get', 'describe'].map((c) => ['restore', c]),
      ['schedule'],
      ['schedule', 'run'],
      ['catalog'],
      ...['verify', 'export'].map((c) => ['catalog', c]),
    ];
    for (const command of commands) {
      resultCase(
        `lifeboat ${[...command, '--help'].join(' ')} exits 0 with its usage on stdout`,
        [...command, '--help'],
        (r) => {
          assert.equal(r.code, 0, explain(r));
          const usage = `^Usage: lifeboat${command.map((c) => ` ${c}`).join('')} \\[options\\]`;
          assert.match(r.stdout, new RegExp(usage));
          assert.equal(r.stderr, '');
        },
      );
    }
    resultCase('the top-level help states the exit codes', ['--help'], (r) => {
      assert.match(
        r.stdout,
        /Exit codes: 0 success; 1 .*; 2 bad arguments or configuration; 3 not found/s,
      );
    });
  });
});
