import { strict as assert } from 'node:assert';
import { UsageError } from '../../../cli/exit-codes.js';
import { restoreNarrowingFrom, type RestoreFlags } from '../../../cli/restore-flags.js';
import { RestoreNarrowing } from '../../../shared/messages/restore.js';
import { validate } from '../../../shared/validate.js';

const base: RestoreFlags = {
  fromBackup: 'b1',
  output: 'table',
  topicPrefix: 'lifeboat-',
  pipeline: true,
  plan: 'shop-to-staging',
};

function usage(flags: Partial<RestoreFlags>, message: RegExp): void {
  assert.throws(
    () => restoreNarrowingFrom({ ...base, ...flags }),
    (error: unknown) =>
      error instanceof UsageError && message.test(error.message) && !error.message.includes('\n'),
  );
}

describe('restoreNarrowingFrom (restore create --pipeline)', () => {
  it('asks nothing of the plan when no narrowing flag is given', () => {
    assert.deepEqual(restoreNarrowingFrom(base), {});
  });

  it('turns the filter flags and --dry-run into a narrowing the schema accepts', () => {
    const narrow = restoreNarrowingFrom({
      ...base,
      includeNamespaces: 'shop, payments',
      excludeNamespaces: 'shop-cache',
      includeResources: 'deployments,configmaps',
      excludeResources: 'secrets',
      dryRun: true,
    });
    assert.deepEqual(narrow, {
      includeNamespaces: ['shop', 'payments'],
      excludeNamespaces: ['shop-cache'],
      includeResources: ['deployments', 'configmaps'],
      excludeResources: ['secrets'],
      dryRun: true,
    });
    assert.deepEqual(validate(RestoreNarrowing, structuredClone(narrow), 'narrow'), narrow);
  });

  it('carries only the flags given: no defaults that would look like a narrowing', () => {
    assert.deepEqual(restoreNarrowingFrom({ ...base, excludeResources: 'secrets' }), {
      excludeResources: ['secrets'],
    });
    assert.deepEqual(restoreNarrowingFrom({ ...base, dryRun: false }), {});
  });

  for (const [flag, flags] of [
    ['--namespace-mappings', { namespaceMappings: 'shop:shop-copy' }],
    ['--conflict-policy', { conflictPolicy: 'replace' }],
    ['--existing-resource-policy', { existingResourcePolicy: 'update' }],
    ['--volume-data-policy', { volumeDataPolicy: 'no-volume-data' }],
    ['--zone-mappings', { zoneMappings: 'europe-west1-b:europe-west1-c' }],
  ] as [string, Partial<RestoreFlags>][]) {
    it(`refuses ${flag}: the plan decides it`, () => {
      usage(
        flags,
        new RegExp(
          `^${flag}: with --pipeline the restore plan decides this; a request may only narrow it \\(--include/--exclude-namespaces, --include/--exclude-resources, --dry-run\\)$`,
        ),
      );
    });
  }

  it('names every plan-decided flag given, at once', () => {
    usage(
      { namespaceMappings: 'a:b', conflictPolicy: 'skip', zoneMappings: 'x:y', dryRun: true },
      /^--namespace-mappings, --conflict-policy, --zone-mappings: with --pipeline the restore plan decides this/,
    );
  });

  it('refuses a malformed list as the in-process flags do', () => {
    usage(
      { includeNamespaces: 'a,,b' },
      /^invalid --include-namespaces "a,,b": expected a comma-separated list of names$/,
    );
  });
});
