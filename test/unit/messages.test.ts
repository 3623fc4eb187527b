import { strict as assert } from 'node:assert';
import {
  API_VERSION,
  MessageKinds,
  parseAuditLogEntry,
  parseMessage,
  type MessageKind,
} from '../../shared/messages/index.js';
import { ValidationError } from '../../shared/errors.js';

const cluster = { project: 'acme-prod', location: 'europe-west1', name: 'shop' };
const policy = { name: 'nightly', projects: ['acme-prod'] };
const resource = {
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};

/** One valid example per kind, and one malformation with the error it must produce. */
const examples: Record<MessageKind, { valid: object; broken: object; error: RegExp }> = {
  ScheduleTick: {
    valid: { policy, scheduledTime: '2026-11-26T02:00:00Z' },
    broken: { policy: { ...policy, projects: [] } },
    error: /\/policy\/projects: must NOT have fewer than 1 items/,
  },
  ClusterBackupJob: {
    valid: {
      backupId: 'nightly-20261126t0200',
      cluster,
      policy,
      scheduledTime: '2026-11-26T02:00:00Z',
    },
    broken: { backupId: 'Nightly_1', cluster, policy, scheduledTime: '2026-11-26T02:00:00Z' },
    error: /\/backupId: must match pattern/,
  },
  ExportShard: {
    valid: { backupId: 'b1', cluster, policy, shardId: 'apps.deployments.0', resource },
    broken: {
      backupId: 'b1',
      cluster,
      policy,
      shardId: 'x',
      resource: { ...resource, namespaced: 'yes' },
    },
    error: /\/resource\/namespaced: must be boolean/,
  },
  VolumeSnapshotJob: {
    valid: { backupId: 'b1', cluster, policy, pvName: 'pvc-1234' },
    broken: { backupId: 'b1', cluster, policy, pvName: '' },
    error: /\/pvName: must NOT have fewer than 1 characters/,
  },
  PartDone: {
    valid: {
      backupId: 'b1',
      cluster,
      partId: 'apps.deployments.0',
      partKind: 'manifests',
      ok: true,
    },
    broken: { backupId: 'b1', cluster, partId: 'p', partKind: 'disks', ok: true },
    error: /\/partKind: must be one of "plan", "manifests", "volume"|\/partKind/,
  },
  BackupCompleted: {
    valid: {
      backupId: 'b1',
      cluster,
      phase: 'Completed',
      catalogKey: 'k',
      counts: { objects: 3 },
      errors: [],
    },
    broken: { backupId: 'b1', cluster, phase: 'Done', catalogKey: 'k', counts: {}, errors: [] },
    error: /\/phase/,
  },
  RestoreRequest: {
    valid: {
      restoreId: 'r1',
      plan: 'standby:nightly',
      backup: { latestOf: cluster },
      target: { ...cluster, name: 'standby' },
    },
    broken: {
      restoreId: 'r1',
      plan: 'standby:nightly',
      backup: { latestOf: cluster },
      target: cluster,
      narrow: { includeNamespaces: [''] },
    },
    error: /\/narrow\/includeNamespaces\/0: must NOT have fewer than 1 characters/,
  },
  RestoreCompleted: {
    valid: { restoreId: 'r1', target: cluster, phase: 'Completed', counts: {}, errors: [] },
    broken: {
      restoreId: 'r1',
      target: cluster,
      phase: 'Completed',
      counts: { restored: -1 },
      errors: [],
    },
    error: /\/counts\/restored: must be >= 0/,
  },
  ClusterResponse: {
    valid: {
      cluster,
      methodName: 'm',
      actions: ['locked-backups'],
      lockedBackups: ['b1'],
      snapshots: [],
      notes: [],
    },
    broken: {
      cluster,
      methodName: 'm',
      actions: ['panic'],
      lockedBackups: [],
      snapshots: [],
      notes: [],
    },
    error: /\/actions\/0/,
  },
  RetentionTick: {
    valid: { scheduledTime: '2026-11-26T03:00:00Z' },
    broken: { scheduledTime: 'yesterday' },
    error: /\/scheduledTime: must match format "date-time"|scheduledTime/,
  },
  DrillJob: {
    valid: {
      drillId: 'w48',
      policy: { name: 'weekly', projects: ['acme-prod'], drillCluster: cluster },
      cluster,
    },
    broken: {
      drillId: 'w48',
      policy: { name: 'weekly', projects: ['acme-prod'], drillCluster: { ...cluster, name: '' } },
    },
    error: /\/policy\/drillCluster\/name/,
  },
  DrillCompleted: {
    valid: {
      drillId: 'w48',
      policy: 'weekly',
      source: cluster,
      backupId: 'nightly-20261126t0200',
      drillCluster: cluster,
      verdict: 'passed',
      rtoSeconds: 42.5,
      reasons: [],
      leftBehind: [],
    },
    broken: {
      drillId: 'w48',
      policy: 'weekly',
      source: cluster,
      drillCluster: cluster,
      verdict: 'maybe',
      reasons: [],
      leftBehind: [],
    },
    error: /\/verdict/,
  },
};

describe('message schemas', () => {
  for (const kind of MessageKinds) {
    describe(kind, () => {
      const example = examples[kind];
      it('accepts a valid message', () => {
        const parsed = parseMessage(kind, { apiVersion: API_VERSION, kind, ...example.valid });
        assert.equal(parsed.kind, kind);
      });
      it('rejects a malformed one, naming the field', () => {
        assert.throws(
          () => parseMessage(kind, { apiVersion: API_VERSION, kind, ...example.broken }),
          (error: unknown) =>
            error instanceof ValidationError &&
            error.message.startsWith(`Invalid ${kind} message: `) &&
            example.error.test(error.message),
        );
      });
      it('rejects an unknown property', () => {
        assert.throws(
          () =>
            parseMessage(kind, { apiVersion: API_VERSION, kind, ...example.valid, surprise: 1 }),
          /unknown property "surprise"/,
        );
      });
      it('rejects another apiVersion', () => {
        assert.throws(
          () => parseMessage(kind, { apiVersion: 'lifeboat.dev/v0', kind, ...example.valid }),
          /\/apiVersion/,
        );
      });
    });
  }

  it('rejects a message of the wrong kind', () => {
    assert.throws(
      () => parseMessage('PartDone', { apiVersion: API_VERSION, kind: 'ScheduleTick', policy }),
      /Invalid PartDone message: \/kind: expected "PartDone", got "ScheduleTick"/,
    );
  });

  describe('RestoreRequest: a deployed plan decides, the request may only narrow it', () => {
    const request = {
      apiVersion: API_VERSION,
      kind: 'RestoreRequest',
      restoreId: 'r1',
      plan: 'shop-to-staging',
      backup: { backupId: 'nightly-20261126t0200', cluster },
      target: { ...cluster, name: 'staging' },
    };
    const invalid = (message: object, error: RegExp) =>
      assert.throws(
        () => parseMessage('RestoreRequest', message),
        (e: unknown) =>
          e instanceof ValidationError &&
          e.message.startsWith('Invalid RestoreRequest message: ') &&
          error.test(e.message),
      );

    it('needs a plan', () => {
      const { plan: _plan, ...planless } = request;
      invalid(planless, /\(root\): must have required property 'plan'/);
    });

    it('takes a plan name, or one a policy implies (standby:, recreate:)', () => {
      for (const plan of ['shop-to-staging', 'standby:nightly', 'recreate:nightly', 'p']) {
        assert.equal(parseMessage('RestoreRequest', { ...request, plan }).plan, plan);
      }
      for (const plan of ['', 'Shop', 'backup:nightly', 'standby:', 'a-', 'x'.repeat(41)]) {
        invalid({ ...request, plan }, /\/plan: must match pattern/);
      }
    });

    it("refuses options: they are the plan's to decide", () => {
      invalid({ ...request, options: {} }, /\(root\): unknown property "options"/);
      invalid(
        { ...request, options: { conflictPolicy: 'replace' } },
        /\(root\): unknown property "options"/,
      );
    });

    it('takes a narrowing of namespaces, resources and dry run, and nothing more', () => {
      const narrow = {
        includeNamespaces: ['shop'],
        excludeNamespaces: ['shop-cache'],
        includeResources: ['deployments'],
        excludeResources: ['secrets'],
        dryRun: true,
      };
      const parsed = parseMessage('RestoreRequest', { ...request, narrow });
      assert.deepEqual(parsed.narrow, narrow);
      assert.equal(parsed.step, 0);
      assert.deepEqual(parseMessage('RestoreRequest', { ...request, narrow: {} }).narrow, {});
      assert.equal(parseMessage('RestoreRequest', { ...request }).narrow, undefined);
      for (const key of ['namespaceMapping', 'conflictPolicy', 'volumeDataPolicy', 'zoneMapping']) {
        invalid(
          { ...request, narrow: { [key]: 'x' } },
          new RegExp(`/narrow: unknown property "${key}"`),
        );
      }
      invalid({ ...request, narrow: { dryRun: 'yes' } }, /\/narrow\/dryRun: must be boolean/);
    });
  });

  it('fills in defaults so handlers see complete policies', () => {
    const tick = parseMessage('ScheduleTick', {
      apiVersion: API_VERSION,
      kind: 'ScheduleTick',
      policy: { ...policy },
    });
    assert.deepEqual(tick.policy.locations, ['-']);
    assert.equal(tick.policy.ttlDays, 30);
    assert.equal(tick.policy.snapshotVolumes, true);
  });

  it('parses a real DeleteCluster audit entry and rejects one from another service', () => {
    const entry = {
      insertId: 'abc',
      logName: 'projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity',
      timestamp: '2026-11-26T04:00:00.123Z',
      severity: 'NOTICE',
      resource: {
        type: 'gke_cluster',
        labels: { project_id: 'acme-prod', location: 'europe-west1', cluster_name: 'shop' },
      },
      protoPayload: {
        '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
        serviceName: 'container.googleapis.com',
        methodName: 'google.container.v1.ClusterManager.DeleteCluster',
        resourceName: 'projects/acme-prod/locations/europe-west1/clusters/shop',
        authenticationInfo: { principalEmail: 'someone@acme.example' },
      },
      operation: { id: 'operation-1', producer: 'container.googleapis.com', first: true },
    };
    assert.equal(parseAuditLogEntry(entry).resource.labels.cluster_name, 'shop');
    assert.throws(
      () =>
        parseAuditLogEntry({
          ...entry,
          protoPayload: { ...entry.protoPayload, serviceName: 'compute.googleapis.com' },
        }),
      /Invalid audit log entry: \/protoPayload\/serviceName/,
    );
  });
});
