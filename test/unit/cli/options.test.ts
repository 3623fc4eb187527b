import { strict as assert } from 'node:assert';
import { CommanderError } from 'commander';
import { NotFoundError, PermanentError } from '../../../shared/errors.js';
import {
  CliNotFoundError,
  ExitCode,
  exitCodeFor,
  oneLine,
  UsageError,
} from '../../../cli/exit-codes.js';
import {
  parseClusterRef,
  parseDurationFlag,
  parseMappings,
  parseSelector,
} from '../../../cli/options.js';
import { formatTable } from '../../../cli/output.js';
import { policyFrom, takesSecrets } from '../../../cli/policy.js';
import { restoreNameFrom, restoreOptionsFrom } from '../../../cli/restore-flags.js';
import { Layout } from '../../../shared/catalog/layout.js';

const restoreFlags = { fromBackup: 'b1', output: 'table' as const, topicPrefix: 'lifeboat-' };

describe('cli options', () => {
  it('maps Velero existing-resource-policy onto conflict policies, default skip', () => {
    assert.equal(restoreOptionsFrom({ ...restoreFlags }).conflictPolicy, 'skip');
    assert.equal(
      restoreOptionsFrom({ ...restoreFlags, existingResourcePolicy: 'none' }).conflictPolicy,
      'skip',
    );
    assert.equal(
      restoreOptionsFrom({ ...restoreFlags, existingResourcePolicy: 'update' }).conflictPolicy,
      'replace',
    );
    assert.equal(
      restoreOptionsFrom({ ...restoreFlags, conflictPolicy: 'fail' }).conflictPolicy,
      'fail',
    );
  });

  it('builds restore options from every flag', () => {
    const o = restoreOptionsFrom({
      ...restoreFlags,
      namespaceMappings: 'shop:shop-copy, web:web2',
      includeNamespaces: 'shop,web',
      excludeResources: 'secrets',
      zoneMappings: 'europe-west1-b:europe-west1-c',
      volumeDataPolicy: 'no-volume-data',
      dryRun: true,
    });
    assert.deepEqual(o.namespaceMapping, { shop: 'shop-copy', web: 'web2' });
    assert.deepEqual(o.includeNamespaces, ['shop', 'web']);
    assert.deepEqual(o.excludeResources, ['secrets']);
    assert.deepEqual(o.zoneMapping, { 'europe-west1-b': 'europe-west1-c' });
    assert.equal(o.volumeDataPolicy, 'no-volume-data');
    assert.equal(o.dryRun, true);
    assert.deepEqual(o.includeResources, ['*'], 'defaults filled in');
  });

  it('rejects a namespace mapped twice', () => {
    assert.throws(() => parseMappings('a:b,a:c', '--namespace-mappings'), UsageError);
  });

  it('names a restore after its backup and the time, within 63 characters', () => {
    const at = new Date('2026-11-26T02:03:04Z');
    assert.equal(restoreNameFrom(undefined, 'nightly', at), 'nightly-20261126020304');
    const long = restoreNameFrom(undefined, `${'a'.repeat(50)}-bbbbbbbbbbbb`, at);
    assert.ok(long.length <= 63, long);
    assert.match(long, /^a+-20261126020304$/);
    assert.equal(restoreNameFrom('mine', 'nightly', at), 'mine');
    assert.throws(() => restoreNameFrom('Mine', 'nightly', at), UsageError);
  });

  it('turns filter flags into a valid policy; include-cluster-resources true/false mean on/off', () => {
    const p = policyFrom(
      undefined,
      {
        includeNamespaces: 'shop',
        excludeResources: 'secrets',
        selector: 'app=web,tier in (a,b)',
        includeClusterResources: 'true',
        snapshotVolumes: 'false',
      },
      'local',
    );
    assert.equal(p.name, 'cli');
    assert.deepEqual(p.projects, ['local']);
    assert.equal(p.snapshotVolumes, false);
    assert.equal(p.filters?.includeClusterResources, 'on');
    assert.equal(p.filters?.labelSelector, 'app=web,tier in (a,b)');
    assert.deepEqual(p.filters?.includeNamespaces, ['shop']);
    assert.equal(takesSecrets(p), false);
    assert.equal(takesSecrets(policyFrom(undefined, {}, 'local')), true);
  });

  it('lets flags override the filters of a policy file, keeping the rest', () => {
    const base = policyFrom(undefined, { includeNamespaces: 'a', excludeNamespaces: 'b' }, 'p1');
    const p = policyFrom({ ...base, name: 'nightly' }, { includeNamespaces: 'c' }, 'ignored');
    assert.equal(p.name, 'nightly');
    assert.deepEqual(p.projects, ['p1']);
    assert.deepEqual(p.filters?.includeNamespaces, ['c']);
    assert.deepEqual(p.filters?.excludeNamespaces, ['b']);
  });

  it('parses label selectors term by term', () => {
    for (const ok of [
      'app=web',
      'app==web,!legacy',
      'env notin (a, b),tier',
      'example.com/team!=x',
    ]) {
      assert.equal(parseSelector(ok), ok);
    }
    for (const bad of ['', 'app web', 'app=we b', '=x', 'env in a,b']) {
      assert.throws(() => parseSelector(bad), UsageError, bad);
    }
  });

  it('parses durations and cluster refs', () => {
    assert.equal(parseDurationFlag('90s', '--timeout'), 90_000);
    assert.equal(parseDurationFlag('30m', '--timeout'), 1_800_000);
    assert.equal(parseDurationFlag('2h', '--timeout'), 7_200_000);
    assert.throws(() => parseDurationFlag('0s', '--timeout'), UsageError);
    assert.deepEqual(parseClusterRef('my-project/europe-west1/prod', '--cluster'), {
      project: 'my-project',
      location: 'europe-west1',
      name: 'prod',
    });
    assert.throws(() => parseClusterRef('local/local/Prod', '--cluster'), /invalid --cluster/);
    assert.deepEqual(Layout.parseClusterKey('local.local.source'), {
      project: 'local',
      location: 'local',
      name: 'source',
    });
    assert.equal(Layout.parseClusterKey('a.b'), undefined);
  });

  it('maps errors to exit codes', () => {
    assert.equal(exitCodeFor(new UsageError('x')), ExitCode.Usage);
    assert.equal(exitCodeFor(new CliNotFoundError('x')), ExitCode.NotFound);
    assert.equal(exitCodeFor(new NotFoundError('x')), ExitCode.NotFound);
    assert.equal(exitCodeFor(new PermanentError('tampered')), ExitCode.NotFullSuccess);
    assert.equal(exitCodeFor(new Error('boom')), ExitCode.NotFullSuccess);
    assert.equal(
      exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'x')),
      ExitCode.Usage,
    );
    assert.equal(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', 'x')), ExitCode.Ok);
  });

  it('says an error and its causes on one line', () => {
    const inner = new Error('connect ECONNREFUSED\n  127.0.0.1:1');
    const error = new Error('cannot publish', {
      cause: new PermanentError('Unable to publish', inner),
    });
    assert.equal(
      oneLine(error),
      'cannot publish (Unable to publish) (connect ECONNREFUSED 127.0.0.1:1)',
    );
  });

  it('aligns table columns', () => {
    assert.equal(
      formatTable(
        ['NAME', 'PHASE'],
        [
          ['a-long-name', 'Completed'],
          ['b', undefined],
        ],
      ),
      'NAME          PHASE\na-long-name   Completed\nb             -',
    );
    assert.equal(formatTable(['NAME'], []), '<none>');
  });
});
