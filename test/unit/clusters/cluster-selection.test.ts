import { strict as assert } from 'node:assert';
import type { DiscoveredCluster } from '../../../shared/clusters/cluster-inventory.js';
import {
  clusterSelected,
  isValidClusterName,
  labelsSelected,
  listingScopes,
  locationSelected,
  selectClusters,
} from '../../../shared/clusters/cluster-selection.js';
import { BackupPolicy } from '../../../shared/messages/common.js';
import { validate } from '../../../shared/validate.js';

/** A policy as a message would carry it, the schema's defaults filled in. */
function policy(overrides: Partial<BackupPolicy> = {}): BackupPolicy {
  return validate(
    BackupPolicy,
    { name: 'nightly', projects: ['prod-project'], ...overrides },
    'test policy',
  );
}

function cluster(
  name: string,
  options: {
    project?: string;
    location?: string;
    labels?: Record<string, string>;
    status?: string;
  } = {},
): DiscoveredCluster {
  return {
    ref: {
      project: options.project ?? 'prod-project',
      location: options.location ?? 'us-central1-a',
      name,
    },
    status: options.status ?? 'RUNNING',
    labels: options.labels ?? {},
  };
}

describe('cluster selection', () => {
  describe('locations', () => {
    it("'-' selects every location, whatever else is listed", () => {
      assert.equal(locationSelected(['-'], 'europe-west1'), true);
      assert.equal(locationSelected(['us-central1', '-'], 'asia-east1-b'), true);
    });

    it('names select exactly: a region does not take its zones', () => {
      assert.equal(locationSelected(['us-central1'], 'us-central1'), true);
      assert.equal(locationSelected(['us-central1'], 'us-central1-a'), false);
      assert.equal(locationSelected(['us-central1-a'], 'us-central1-b'), false);
    });

    it('globs select a region and its zones', () => {
      assert.equal(locationSelected(['us-central1*'], 'us-central1'), true);
      assert.equal(locationSelected(['us-central1*'], 'us-central1-f'), true);
      assert.equal(locationSelected(['europe-*'], 'us-central1'), false);
    });
  });

  describe('labels', () => {
    it('requires every label, with its exact value', () => {
      const labels = { env: 'prod', team: 'payments' };
      assert.equal(labelsSelected({}, labels), true);
      assert.equal(labelsSelected({ env: 'prod' }, labels), true);
      assert.equal(labelsSelected({ env: 'prod', team: 'payments' }, labels), true);
      assert.equal(labelsSelected({ env: 'dev' }, labels), false);
      assert.equal(labelsSelected({ env: 'prod', tier: 'gold' }, labels), false);
      assert.equal(labelsSelected({ env: 'prod' }, {}), false);
    });

    it("a value glob '*' asks only that the key exists", () => {
      assert.equal(labelsSelected({ backup: '*' }, { backup: '' }), true);
      assert.equal(labelsSelected({ backup: '*' }, { env: 'prod' }), false);
      assert.equal(labelsSelected({ env: 'prod-*' }, { env: 'prod-eu' }), true);
    });
  });

  describe('clusterSelected', () => {
    it('needs the project, the location, a name glob and the labels to match', () => {
      const p = policy({
        projects: ['prod-project', 'shared-services'],
        locations: ['us-central1-a', 'europe-west1'],
        clusterNames: ['shop-*', 'payments'],
        clusterLabels: { env: 'prod' },
      });
      const labels = { env: 'prod' };
      assert.equal(clusterSelected(p, cluster('shop-eu', { labels })), true);
      assert.equal(
        clusterSelected(p, cluster('payments', { labels, location: 'europe-west1' })),
        true,
      );
      assert.equal(
        clusterSelected(p, cluster('payments', { labels, project: 'shared-services' })),
        true,
      );
      assert.equal(
        clusterSelected(p, cluster('payments', { labels, project: 'other-project' })),
        false,
      );
      assert.equal(
        clusterSelected(p, cluster('payments', { labels, location: 'asia-east1-b' })),
        false,
      );
      assert.equal(clusterSelected(p, cluster('payments-2', { labels })), false);
      assert.equal(clusterSelected(p, cluster('shop-eu', { labels: { env: 'dev' } })), false);
    });

    it('`?` matches one character', () => {
      const p = policy({ clusterNames: ['web-?'] });
      assert.equal(clusterSelected(p, cluster('web-1')), true);
      assert.equal(clusterSelected(p, cluster('web-12')), false);
    });
  });

  describe('listingScopes', () => {
    it("lists '-' once per project when any location is '-' or a glob", () => {
      assert.deepEqual(listingScopes(policy({ projects: ['a-proj1', 'b-proj2'] })), [
        { project: 'a-proj1', location: '-' },
        { project: 'b-proj2', location: '-' },
      ]);
      assert.deepEqual(listingScopes(policy({ locations: ['us-central1', 'europe-*'] })), [
        { project: 'prod-project', location: '-' },
      ]);
    });

    it('lists each named location once, and each project once', () => {
      const p = policy({
        projects: ['prod-project', 'prod-project'],
        locations: ['us-central1', 'europe-west1-b', 'us-central1'],
      });
      assert.deepEqual(listingScopes(p), [
        { project: 'prod-project', location: 'us-central1' },
        { project: 'prod-project', location: 'europe-west1-b' },
      ]);
    });
  });

  describe('selectClusters', () => {
    it('keeps selected RUNNING clusters in order, skips the rest with the reason, drops the unselected', () => {
      const found = [
        cluster('zeta', { location: 'us-central1-a' }),
        cluster('alpha', { location: 'us-central1-a', status: 'PROVISIONING' }),
        cluster('beta', { location: 'europe-west1' }),
        { ...cluster('gamma', { status: 'ERROR' }), statusMessage: 'etcd quorum lost' },
        cluster('other', { project: 'other-project' }),
      ];
      const { clusters, skipped } = selectClusters(policy(), found);
      assert.deepEqual(
        clusters.map((c) => `${c.ref.location}/${c.ref.name}`),
        ['europe-west1/beta', 'us-central1-a/zeta'],
      );
      assert.deepEqual(skipped, [
        {
          cluster: { project: 'prod-project', location: 'us-central1-a', name: 'alpha' },
          reason: 'cluster status is PROVISIONING, not ready for backup',
        },
        {
          cluster: { project: 'prod-project', location: 'us-central1-a', name: 'gamma' },
          reason: 'cluster status is ERROR, not ready for backup: etcd quorum lost',
        },
      ]);
    });

    it('counts a cluster seen twice (overlapping listings) once', () => {
      const { clusters } = selectClusters(policy(), [cluster('shop'), cluster('shop')]);
      assert.equal(clusters.length, 1);
    });

    it('accepts other ready statuses when told to', () => {
      const found = [cluster('upgrading', { status: 'RECONCILING' })];
      assert.equal(selectClusters(policy(), found).skipped.length, 1);
      assert.equal(selectClusters(policy(), found, ['RUNNING', 'RECONCILING']).clusters.length, 1);
    });

    it('does not report unselected clusters as skipped', () => {
      const found = [cluster('dev-1', { status: 'STOPPING' })];
      const result = selectClusters(policy({ clusterNames: ['prod-*'] }), found);
      assert.deepEqual(result, { clusters: [], skipped: [] });
    });
  });

  it('accepts only DNS-label cluster names', () => {
    for (const ok of ['source', 'prod-eu-1', 'a', '0cluster'])
      assert.equal(isValidClusterName(ok), true, ok);
    for (const bad of [
      'gke_prod_us-central1_shop',
      'Source',
      'kind-',
      '-x',
      'a.b',
      'x'.repeat(64),
      '',
    ]) {
      assert.equal(isValidClusterName(bad), false, bad);
    }
  });
});
