import { strict as assert } from 'node:assert';
import { parseAuditLogEntry } from '../../../shared/messages/index.js';

/** A real DeleteCluster Admin Activity entry, as the log sink forwards it. */
const entry = {
  insertId: '-a1b2c3d4',
  logName: 'projects/acme-prod/logs/cloudaudit.googleapis.com%2Factivity',
  timestamp: '2026-11-26T04:00:00.123Z',
  severity: 'NOTICE',
  resource: {
    type: 'gke_cluster',
    labels: { project_id: 'acme-prod', location: 'europe-west1-b', cluster_name: 'shop' },
  },
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    serviceName: 'container.googleapis.com',
    methodName: 'google.container.v1.ClusterManager.DeleteCluster',
    resourceName: 'projects/acme-prod/zones/europe-west1-b/clusters/shop',
    status: { code: 0 },
  },
  operation: {
    id: 'operation-1764129600123-5f3a',
    producer: 'container.googleapis.com',
    first: true,
  },
};

type Entry = typeof entry;
const labels = (l: Partial<Entry['resource']['labels']>): Entry => ({
  ...entry,
  resource: { ...entry.resource, labels: { ...entry.resource.labels, ...l } },
});
const payload = (p: Record<string, unknown>): unknown => ({
  ...entry,
  protoPayload: { ...entry.protoPayload, ...p },
});

describe('audit log entries: every field Lifeboat reads has a shape and a size', () => {
  it('accepts a real entry, and a local-mode one', () => {
    assert.equal(parseAuditLogEntry(entry).resource.labels.cluster_name, 'shop');
    assert.equal(
      parseAuditLogEntry(labels({ project_id: 'local', location: 'local', cluster_name: 'source' }))
        .resource.labels.project_id,
      'local',
    );
  });

  const refused: [string, unknown, RegExp][] = [
    [
      'an oversized cluster name',
      labels({ cluster_name: 'a'.repeat(300) }),
      /\/resource\/labels\/cluster_name/,
    ],
    ['a cluster name with a path in it', labels({ cluster_name: 'shop/../prod' }), /cluster_name/],
    ['an upper-case cluster name', labels({ cluster_name: 'Shop' }), /cluster_name/],
    ['a project that is a path', labels({ project_id: 'acme-prod/../other' }), /project_id/],
    ['an oversized project', labels({ project_id: `a${'b'.repeat(200)}` }), /project_id/],
    ['a location with a slash', labels({ location: 'europe-west1/../x' }), /location/],
    ['an oversized location', labels({ location: 'a'.repeat(64) }), /location/],
    [
      'a method no log sink forwards',
      payload({ methodName: 'google.container.v1.ClusterManager.SetLabels' }),
      /methodName/,
    ],
    ['an oversized method', payload({ methodName: 'x'.repeat(100_000) }), /methodName/],
    ['an oversized resource name', payload({ resourceName: 'r'.repeat(600) }), /resourceName/],
    ['an oversized insertId', { ...entry, insertId: 'i'.repeat(10_000) }, /insertId/],
    ['an insertId with a NUL', { ...entry, insertId: 'abc\u0000def' }, /insertId/],
    [
      'an oversized operation id',
      { ...entry, operation: { ...entry.operation, id: 'o'.repeat(257) } },
      /operation\/id/,
    ],
    [
      'an oversized log name',
      {
        ...entry,
        logName: `projects/${'p'.repeat(600)}/logs/cloudaudit.googleapis.com%2Factivity`,
      },
      /logName/,
    ],
    [
      'a log name of another log',
      { ...entry, logName: 'x/logs/cloudaudit.googleapis.com%2Factivity' },
      /logName/,
    ],
    [
      'an oversized timestamp',
      { ...entry, timestamp: `2026-11-26T04:00:00.${'1'.repeat(500)}Z` },
      /timestamp/,
    ],
  ];
  for (const [what, body, field] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => parseAuditLogEntry(body),
        (error: unknown) => {
          const message = (error as Error).message;
          assert.match(message, /Invalid audit log entry/);
          assert.match(message, field);
          return true;
        },
      );
    });
  }
});
