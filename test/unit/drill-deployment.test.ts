import { strict as assert } from 'node:assert';
import { DEPLOYMENT_ENV, DeployedConfiguration } from '../../shared/config/deployment.js';
import { isRetryable, ValidationError } from '../../shared/errors.js';
import { API_VERSION, parseMessage, type DrillJob } from '../../shared/messages/index.js';

const shopEu = { project: 'acme-prod', location: 'europe-west1', name: 'shop-eu' };
const billing = { project: 'acme-prod', location: 'europe-west1', name: 'billing' };
const drills = { project: 'acme-dr', location: 'europe-west4', name: 'drills' };
const standby = { project: 'acme-dr', location: 'europe-west4', name: 'standby' };

/** A drill policy as an operator writes it: fields left out take their defaults. */
const weekly = {
  name: 'weekly',
  projects: ['acme-prod'],
  locations: ['europe-*'],
  clusterNames: ['shop-*'],
  drillCluster: drills,
  timeoutSeconds: 900,
};

const deployed = (drillPolicies: unknown[]): DeployedConfiguration =>
  DeployedConfiguration.fromEnvironment({
    [DEPLOYMENT_ENV]: JSON.stringify({ drillPolicies }),
  });

/** A DrillJob as the drill function receives it: validated, defaults filled in. */
const job = (policy: Record<string, unknown>, extra: Record<string, unknown> = {}): DrillJob =>
  parseMessage('DrillJob', {
    apiVersion: API_VERSION,
    kind: 'DrillJob',
    drillId: 'd1',
    policy,
    ...extra,
  });

describe('deployed drill policies', function () {
  it('are read from LIFEBOAT_DEPLOYMENT with their defaults, and none without any', function () {
    const config = deployed([weekly]);
    assert.deepEqual(config.drillPolicyNames(), ['weekly']);
    assert.equal(config.drillPolicy('weekly')?.restoreVolumes, true);
    assert.deepEqual(config.drillPolicy('weekly')?.namespaces, ['*']);
    assert.deepEqual(DeployedConfiguration.fromEnvironment({}).drillPolicyNames(), []);
  });

  it('refuses a deployment that defines a drill policy twice, or an invalid one, saying where', function () {
    assert.throws(
      () => deployed([weekly, weekly]),
      (e: unknown) =>
        e instanceof ValidationError && /drill policy weekly is defined twice/.test(e.message),
    );
    assert.throws(
      () => deployed([{ ...weekly, drillCluster: undefined }]),
      (e: unknown) => e instanceof ValidationError && /drillPolicies\/0/.test(e.message),
    );
  });

  it('accept a DrillJob carrying exactly the deployed policy, for a cluster it selects or for all', function () {
    const config = deployed([weekly]);
    assert.equal(config.checkDrillJob(job(weekly)).name, 'weekly');
    assert.equal(config.checkDrillJob(job(weekly, { cluster: shopEu })).name, 'weekly');
  });

  it('refuse a DrillJob whose policy is not deployed, saying which are', function () {
    const config = deployed([weekly]);
    assert.throws(
      () => config.checkDrillJob(job({ ...weekly, name: 'monthly' })),
      (e: unknown) =>
        e instanceof Error &&
        !isRetryable(e) &&
        /no drill policy named monthly is deployed \(deployed: weekly\)/.test(e.message),
    );
  });

  it('refuse a DrillJob whose drill cluster (or any field) differs from the deployed policy', function () {
    const config = deployed([weekly]);
    assert.throws(
      () => config.checkDrillJob(job({ ...weekly, drillCluster: standby })),
      /policy weekly differs from the deployed one in drillCluster; refused/,
    );
    assert.throws(
      () => config.checkDrillJob(job({ ...weekly, clusterNames: ['*'], restoreVolumes: false })),
      /differs from the deployed one in clusterNames, restoreVolumes; refused/,
    );
  });

  it('refuse a DrillJob for a cluster the policy does not select', function () {
    const config = deployed([weekly]);
    assert.throws(
      () => config.checkDrillJob(job(weekly, { cluster: billing })),
      /policy weekly does not select cluster acme-prod\/europe-west1\/billing; refused/,
    );
  });

  it('keep drill policy names apart from backup policy names', function () {
    const config = DeployedConfiguration.fromEnvironment({
      [DEPLOYMENT_ENV]: JSON.stringify({
        backupPolicies: [{ name: 'weekly', projects: ['acme-prod'] }],
        drillPolicies: [weekly],
      }),
    });
    assert.deepEqual(config.policyNames(), ['weekly']);
    assert.deepEqual(config.drillPolicyNames(), ['weekly']);
  });
});
