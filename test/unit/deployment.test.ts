import { strict as assert } from 'node:assert';
import { stringify as toYaml } from 'yaml';
import {
  DEPLOYMENT_ENV,
  DeployedConfiguration,
  Deployment,
} from '../../shared/config/deployment.js';
import { isRetryable, PermanentError, ValidationError } from '../../shared/errors.js';
import { API_VERSION, parseMessage, type BackupPolicy } from '../../shared/messages/index.js';
import type { ClusterRef } from '../../shared/messages/common.js';
import { RestoreOptions } from '../../shared/messages/restore.js';
import { validate } from '../../shared/validate.js';

const shopEu = { project: 'acme-prod', location: 'europe-west1', name: 'shop-eu' };
const shopUs = { project: 'acme-prod', location: 'us-central1', name: 'shop-us' };
const billing = { project: 'acme-prod', location: 'europe-west1', name: 'billing' };
const standby = { project: 'acme-dr', location: 'europe-west4', name: 'standby' };
const staging = { project: 'acme-staging', location: 'europe-west1', name: 'staging' };

/** Policies and plans as an operator writes them: fields left out take their defaults. */
const nightly = {
  name: 'nightly',
  projects: ['acme-prod'],
  locations: ['europe-*'],
  clusterNames: ['shop-*'],
  ttlDays: 14,
  standbyCluster: standby,
  restoreOnRecreate: true,
};
const weekly = { name: 'weekly', projects: ['acme-prod'] };
const toStaging = {
  name: 'shop-to-staging',
  description: 'copies of the shop for testing',
  sourceClusters: [{ project: 'acme-prod', location: 'europe-*', name: 'shop-*' }],
  targetClusters: [staging],
  options: {
    includeNamespaces: ['shop', 'payments'],
    namespaceMapping: { shop: 'shop-copy' },
    conflictPolicy: 'replace',
  },
};
const rebuild = {
  name: 'rebuild',
  sourceClusters: [{ project: 'acme-prod' }],
  restoreIntoSource: true,
  options: { dryRun: true },
};
const written = { backupPolicies: [nightly, weekly], restorePlans: [toStaging, rebuild] };

/** The configuration as every function loads it, from the environment. */
function deployed(deployment: unknown = written, yaml = false): DeployedConfiguration {
  const text = yaml ? toYaml(deployment) : JSON.stringify(deployment);
  return DeployedConfiguration.fromEnvironment({ [DEPLOYMENT_ENV]: text });
}

/** A policy as a message carries it: parsed, so with every default filled in. */
function carried(policy: object): BackupPolicy {
  return parseMessage('ScheduleTick', {
    apiVersion: API_VERSION,
    kind: 'ScheduleTick',
    policy: structuredClone(policy),
  }).policy;
}

/** Asserts a permanent (never retried) refusal whose message matches. */
function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof PermanentError, `a PermanentError, not ${String(error)}`);
    assert.equal(isRetryable(error), false);
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return true;
  });
}

/** Asserts that LIFEBOAT_DEPLOYMENT is refused as invalid, naming it and the problem. */
function invalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ValidationError, `a ValidationError, not ${String(error)}`);
    assert.equal(error.where, DEPLOYMENT_ENV);
    assert.match(error.message, /^Invalid LIFEBOAT_DEPLOYMENT: /);
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return true;
  });
}

const restore = (plan: string, target: ClusterRef, narrow?: object) => ({
  plan,
  target,
  ...(narrow ? { narrow } : {}),
});

describe('deployed configuration (LIFEBOAT_DEPLOYMENT)', () => {
  describe('fromEnvironment', () => {
    for (const [title, env] of [
      ['unset', {}],
      ['empty', { [DEPLOYMENT_ENV]: '' }],
      ['blank', { [DEPLOYMENT_ENV]: ' \n ' }],
    ] as const) {
      it(`${title}: nothing is deployed and nothing is allowed`, () => {
        const none = DeployedConfiguration.fromEnvironment(env);
        assert.deepEqual(none.policyNames(), []);
        assert.deepEqual(none.planNames(), []);
        assert.equal(none.policy('nightly'), undefined);
        refused(
          () => none.checkPolicy(carried(weekly), 'ScheduleTick'),
          /^ScheduleTick: no backup policy named weekly is deployed \(deployed: none\); refused$/,
        );
        refused(
          () => none.checkBackupJob({ policy: carried(weekly), cluster: shopEu }, 'Job'),
          /no backup policy named weekly is deployed \(deployed: none\)/,
        );
        refused(
          () => none.authoriseRestore(restore('standby:nightly', standby), shopEu),
          /^RestoreRequest: no restore plan named standby:nightly is deployed \(deployed: none\); refused$/,
        );
      });
    }

    it('reads JSON and YAML alike, filling in the schema defaults', () => {
      for (const yaml of [false, true]) {
        const config = deployed(written, yaml);
        assert.deepEqual(config.policyNames(), ['nightly', 'weekly']);
        assert.deepEqual(config.planNames(), [
          'rebuild',
          'recreate:nightly',
          'shop-to-staging',
          'standby:nightly',
        ]);
        const policy = config.policy('weekly');
        assert.deepEqual(policy?.locations, ['-']);
        assert.deepEqual(policy?.clusterNames, ['*']);
        assert.equal(policy?.ttlDays, 30);
        assert.equal(policy?.restoreOnRecreate, false);
      }
    });

    it('takes a deployment with only policies, or only plans', () => {
      assert.deepEqual(deployed({ backupPolicies: [weekly] }).planNames(), []);
      assert.deepEqual(deployed({ restorePlans: [rebuild] }).policyNames(), []);
      assert.deepEqual(deployed({}).planNames(), []);
    });

    it('refuses malformed JSON or YAML, naming LIFEBOAT_DEPLOYMENT', () => {
      const env = (text: string) => () =>
        DeployedConfiguration.fromEnvironment({ [DEPLOYMENT_ENV]: text });
      invalid(env('{"backupPolicies": ['), /\(root\): not JSON or YAML \(.+\)$/);
      invalid(
        env('backupPolicies:\n  - name: a\n   projects: [x'),
        /\(root\): not JSON or YAML \(.+\)$/,
      );
      invalid(env('backupPolicies: []\nbackupPolicies: []\n'), /not JSON or YAML/);
    });

    it('refuses what is not a deployment, naming the path of each problem', () => {
      const env = (value: unknown) => () => deployed(value);
      for (const value of [null, 42, 'nightly', []]) {
        invalid(env(value), /^Invalid LIFEBOAT_DEPLOYMENT: \(root\): must be object$/);
      }
      invalid(env({ policies: [] }), /\(root\): unknown property "policies"/);
      invalid(
        env({ backupPolicies: [weekly, { ...nightly, name: 'Nightly' }] }),
        /\/backupPolicies\/1\/name: must match pattern/,
      );
      invalid(
        env({ backupPolicies: [{ ...weekly, projects: [] }] }),
        /\/backupPolicies\/0\/projects: must NOT have fewer than 1 items/,
      );
      invalid(
        env({ restorePlans: [{ ...toStaging, sourceClusters: [] }] }),
        /\/restorePlans\/0\/sourceClusters: must NOT have fewer than 1 items/,
      );
      invalid(
        env({
          restorePlans: [{ ...toStaging, targetClusters: [{ ...staging, name: 'Staging' }] }],
        }),
        /\/restorePlans\/0\/targetClusters\/0\/name: must match pattern/,
      );
      invalid(
        env({ restorePlans: [{ ...toStaging, options: { conflictPolicy: 'merge' } }] }),
        /\/restorePlans\/0\/options\/conflictPolicy: must be one of "fail"/,
      );
      invalid(
        env({ restorePlans: [{ ...toStaging, options: undefined }] }),
        /\/restorePlans\/0: must have required property 'options'/,
      );
      invalid(
        env({ restorePlans: [{ ...toStaging, name: 'backup:shop' }] }),
        /\/restorePlans\/0\/name: must match pattern/,
      );
      invalid(
        env({ restorePlans: [{ ...toStaging, options: { ...toStaging.options, surprise: 1 } }] }),
        /\/restorePlans\/0\/options: unknown property "surprise"/,
      );
    });

    it('the constructor takes a deployment already validated', () => {
      const deployment = validate(Deployment, structuredClone(written), 'test deployment');
      const config = new DeployedConfiguration(deployment);
      assert.deepEqual(config.policyNames(), ['nightly', 'weekly']);
      assert.deepEqual(config.planNames(), deployed().planNames());
    });
  });

  describe('names are unique', () => {
    it('refuses a policy defined twice', () => {
      invalid(
        () => deployed({ backupPolicies: [weekly, nightly, { ...weekly, ttlDays: 7 }] }),
        /^Invalid LIFEBOAT_DEPLOYMENT: \/backupPolicies: policy weekly is defined twice$/,
      );
    });

    it('refuses a restore plan defined twice', () => {
      invalid(
        () =>
          deployed({ restorePlans: [rebuild, toStaging, { ...rebuild, description: 'again' }] }),
        /^Invalid LIFEBOAT_DEPLOYMENT: \/restorePlans: restore plan rebuild is defined twice$/,
      );
    });

    it('refuses a plan under the name of one a policy implies', () => {
      invalid(
        () =>
          deployed({
            backupPolicies: [nightly],
            restorePlans: [{ ...toStaging, name: 'standby:nightly' }],
          }),
        /restore plan standby:nightly is defined twice/,
      );
      // Without the policy's standbyCluster, nothing is implied and the name is free.
      const { standbyCluster: _s, ...noStandby } = nightly;
      const config = deployed({
        backupPolicies: [noStandby],
        restorePlans: [{ ...toStaging, name: 'standby:nightly' }],
      });
      assert.deepEqual(config.planNames(), ['recreate:nightly', 'standby:nightly']);
    });

    it('refuses a plan that restores nowhere', () => {
      invalid(
        () => deployed({ restorePlans: [{ ...toStaging, targetClusters: [] }] }),
        /restore plan shop-to-staging has no target cluster and does not restore into the source/,
      );
    });
  });

  describe('checkPolicy', () => {
    const config = deployed();

    it('returns the deployed policy when the message carries it as deployed', () => {
      const policy = config.checkPolicy(carried(nightly), 'ScheduleTick');
      assert.deepEqual(policy, config.policy('nightly'));
      // Defaults written out explicitly are the same policy.
      const explicit = { ...weekly, locations: ['-'], clusterNames: ['*'], ttlDays: 30 };
      assert.equal(config.checkPolicy(carried(explicit), 'ScheduleTick').name, 'weekly');
    });

    it('refuses a policy that is not deployed, listing those that are', () => {
      refused(
        () => config.checkPolicy(carried({ ...weekly, name: 'hourly' }), 'ScheduleTick'),
        /^ScheduleTick: no backup policy named hourly is deployed \(deployed: nightly, weekly\); refused$/,
      );
    });

    it('refuses a policy that differs from the deployed one, naming the fields', () => {
      refused(
        () => config.checkPolicy(carried({ ...nightly, ttlDays: 400 }), 'ScheduleTick'),
        /^ScheduleTick: policy nightly differs from the deployed one in ttlDays; refused$/,
      );
      refused(
        () =>
          config.checkPolicy(
            carried({
              ...nightly,
              projects: ['acme-prod', 'acme-other'],
              clusterNames: ['*'],
              standbyCluster: staging,
            }),
            'ClusterBackupJob',
          ),
        /^ClusterBackupJob: policy nightly differs from the deployed one in clusterNames, projects, standbyCluster; refused$/,
      );
    });

    it('names a field that only one side has', () => {
      const { standbyCluster: _s, ...withoutStandby } = nightly;
      refused(
        () => config.checkPolicy(carried(withoutStandby), 'ScheduleTick'),
        /differs from the deployed one in standbyCluster;/,
      );
      refused(
        () => config.checkPolicy(carried({ ...weekly, keepLast: 3 }), 'ScheduleTick'),
        /policy weekly differs from the deployed one in keepLast;/,
      );
      // filters written out as the defaults are no difference (no filters means the default ones)...
      assert.equal(
        config.checkPolicy(carried({ ...weekly, filters: {} }), 'ScheduleTick').name,
        'weekly',
      );
      // ...other filters are
      refused(
        () =>
          config.checkPolicy(
            carried({ ...weekly, filters: { includeNamespaces: ['x'] } }),
            'ScheduleTick',
          ),
        /policy weekly differs from the deployed one in filters;/,
      );
    });

    it('finds no difference in the order of object keys', () => {
      const reordered = Object.fromEntries(Object.entries(nightly).reverse());
      reordered['standbyCluster'] = {
        name: 'standby',
        location: 'europe-west4',
        project: 'acme-dr',
      };
      assert.equal(config.checkPolicy(carried(reordered), 'ScheduleTick').name, 'nightly');
    });
  });

  describe('checkBackupJob', () => {
    const config = deployed();

    it('returns the policy when it selects the cluster', () => {
      assert.equal(
        config.checkBackupJob({ policy: carried(nightly), cluster: shopEu }, 'ClusterBackupJob')
          .name,
        'nightly',
      );
      // weekly selects every cluster of its project, wherever it is
      for (const cluster of [shopEu, shopUs, billing]) {
        assert.equal(
          config.checkBackupJob({ policy: carried(weekly), cluster }, 'J').name,
          'weekly',
        );
      }
    });

    it('refuses a cluster the policy does not select: project, location, name', () => {
      for (const cluster of [
        { ...shopEu, project: 'acme-other' },
        shopUs, // location europe-* only
        billing, // name shop-* only
      ]) {
        refused(
          () => config.checkBackupJob({ policy: carried(nightly), cluster }, 'ClusterBackupJob'),
          new RegExp(
            `^ClusterBackupJob: policy nightly does not select cluster ${cluster.project}/${cluster.location}/${cluster.name}; refused$`,
          ),
        );
      }
    });

    it('checks the policy before the cluster', () => {
      refused(
        () =>
          config.checkBackupJob(
            { policy: carried({ ...nightly, clusterNames: ['*'] }), cluster: billing },
            'ClusterBackupJob',
          ),
        /policy nightly differs from the deployed one in clusterNames; refused$/,
      );
    });
  });

  describe('authoriseRestore', () => {
    const config = deployed();
    /** An implied plan's options are the plan's own, whatever they are; a request changes none. */
    const asPlanned = (granted: { plan: { options: object }; options: object }): void => {
      assert.deepEqual(granted.options, granted.plan.options);
      assert.equal((granted.options as { dryRun: boolean }).dryRun, false);
    };

    it('refuses a plan that is not deployed, listing those that are', () => {
      refused(
        () => config.authoriseRestore(restore('everything', staging), shopEu),
        /^RestoreRequest: no restore plan named everything is deployed \(deployed: rebuild, recreate:nightly, shop-to-staging, standby:nightly\); refused$/,
      );
      refused(
        () => config.authoriseRestore(restore('standby:weekly', standby), shopEu),
        /no restore plan named standby:weekly is deployed/,
      );
    });

    it('refuses a backup of a cluster the plan does not cover', () => {
      for (const source of [shopUs, billing, { ...shopEu, project: 'acme-other' }]) {
        refused(
          () => config.authoriseRestore(restore('shop-to-staging', staging), source),
          new RegExp(
            `^RestoreRequest: restore plan shop-to-staging does not cover backups of ${source.project}/${source.location}/${source.name}; refused$`,
          ),
        );
      }
    });

    it('refuses a target outside the plan', () => {
      for (const target of [standby, shopEu, { ...staging, location: 'europe-west4' }]) {
        refused(
          () => config.authoriseRestore(restore('shop-to-staging', target), shopEu),
          new RegExp(
            `^RestoreRequest: restore plan shop-to-staging does not restore into ${target.project}/${target.location}/${target.name}; refused$`,
          ),
        );
      }
    });

    it('restoreIntoSource allows the very cluster the backup is of, and only that one', () => {
      assert.equal(
        config.authoriseRestore(restore('rebuild', billing), billing).plan.name,
        'rebuild',
      );
      assert.equal(
        config.authoriseRestore(restore('rebuild', shopUs), shopUs).plan.name,
        'rebuild',
      );
      refused(
        () => config.authoriseRestore(restore('rebuild', shopUs), shopEu),
        /restore plan rebuild does not restore into acme-prod\/us-central1\/shop-us; refused$/,
      );
      // A plan without it does not restore into the source, even one it covers.
      refused(
        () => config.authoriseRestore(restore('shop-to-staging', shopEu), shopEu),
        /restore plan shop-to-staging does not restore into acme-prod\/europe-west1\/shop-eu/,
      );
    });

    it("a policy's standbyCluster implies standby:<policy>, into the standby only", () => {
      const granted = config.authoriseRestore(restore('standby:nightly', standby), shopEu);
      assert.equal(granted.plan.name, 'standby:nightly');
      assert.deepEqual(granted.plan.targetClusters, [standby]);
      assert.equal(granted.plan.restoreIntoSource, false);
      // Labels are not patterns: only backups the policy itself took are covered.
      assert.deepEqual(granted.plan.backupPolicies, ['nightly']);
      asPlanned(granted);
      refused(
        () => config.authoriseRestore(restore('standby:nightly', staging), shopEu),
        /restore plan standby:nightly does not restore into acme-staging\/europe-west1\/staging/,
      );
      refused(
        () => config.authoriseRestore(restore('standby:nightly', shopEu), shopEu),
        /restore plan standby:nightly does not restore into acme-prod\/europe-west1\/shop-eu/,
      );
      // It covers the clusters the policy selects, and no others.
      refused(
        () => config.authoriseRestore(restore('standby:nightly', standby), billing),
        /restore plan standby:nightly does not cover backups of acme-prod\/europe-west1\/billing/,
      );
    });

    it('restoreOnRecreate implies recreate:<policy>, into the source only', () => {
      const granted = config.authoriseRestore(restore('recreate:nightly', shopEu), shopEu);
      assert.equal(granted.plan.name, 'recreate:nightly');
      assert.equal(granted.plan.restoreIntoSource, true);
      assert.deepEqual(granted.plan.targetClusters, []);
      asPlanned(granted);
      for (const target of [standby, { ...shopEu, name: 'shop-eu2' }]) {
        refused(
          () => config.authoriseRestore(restore('recreate:nightly', target), shopEu),
          /restore plan recreate:nightly does not restore into /,
        );
      }
      refused(
        () => config.authoriseRestore(restore('recreate:nightly', shopUs), shopUs),
        /restore plan recreate:nightly does not cover backups of acme-prod\/us-central1\/shop-us/,
      );
      // weekly has neither standbyCluster nor restoreOnRecreate: it implies no plan
      refused(
        () => config.authoriseRestore(restore('recreate:weekly', billing), billing),
        /no restore plan named recreate:weekly is deployed/,
      );
    });

    it("returns the plan's options unchanged, and the narrowing as asked", () => {
      const plan = config.authoriseRestore(restore('shop-to-staging', staging), shopEu);
      const expected = validate(RestoreOptions, structuredClone(toStaging.options), 'options');
      assert.deepEqual(plan.options, expected);
      assert.deepEqual(plan.narrowing, {});
      const narrow = {
        includeNamespaces: ['shop'],
        excludeNamespaces: ['shop-cache'],
        includeResources: ['deployments', 'configmaps'],
        excludeResources: ['secrets'],
      };
      const narrowed = config.authoriseRestore(restore('shop-to-staging', staging, narrow), shopEu);
      assert.deepEqual(narrowed.options, expected, 'a narrowing never rewrites the options');
      assert.deepEqual(narrowed.narrowing, narrow);
      assert.deepEqual(
        config.authoriseRestore(restore('shop-to-staging', staging), shopEu).options,
        expected,
        'nor does it leave a mark on the plan',
      );
    });

    it('a dry run can be asked for, never asked away', () => {
      const dry = config.authoriseRestore(
        restore('shop-to-staging', staging, { dryRun: true }),
        shopEu,
      );
      assert.equal(dry.options.dryRun, true);
      const { dryRun: _d, ...rest } = dry.options;
      const { dryRun: _e, ...planned } = validate(
        RestoreOptions,
        structuredClone(toStaging.options),
        'o',
      );
      assert.deepEqual(rest, planned, 'only dryRun changes');
      assert.equal(
        config.authoriseRestore(restore('shop-to-staging', staging, { dryRun: false }), shopEu)
          .options.dryRun,
        false,
      );
      // The rebuild plan only ever looks: a request cannot make it write.
      for (const narrow of [undefined, { dryRun: false }, { dryRun: true }]) {
        assert.equal(
          config.authoriseRestore(restore('rebuild', billing, narrow), billing).options.dryRun,
          true,
        );
      }
      // And the plan itself is left as deployed.
      assert.equal(
        config.authoriseRestore(restore('shop-to-staging', staging), shopEu).options.dryRun,
        false,
      );
    });

    it('a cluster pattern defaults to every location and every name of its project', () => {
      const config2 = deployed({
        restorePlans: [
          {
            name: 'anything-to-staging',
            sourceClusters: [
              { project: 'acme-prod' },
              { project: 'acme-dr', location: 'europe-west4' },
            ],
            targetClusters: [staging],
            options: {},
          },
        ],
      });
      for (const source of [shopEu, shopUs, billing, standby]) {
        assert.equal(
          config2.authoriseRestore(restore('anything-to-staging', staging), source).plan.name,
          'anything-to-staging',
        );
      }
      refused(
        () =>
          config2.authoriseRestore(restore('anything-to-staging', staging), {
            ...standby,
            location: 'us-east1',
          }),
        /does not cover backups of acme-dr\/us-east1\/standby/,
      );
    });
  });
});
