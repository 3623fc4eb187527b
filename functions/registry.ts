import type { TopicRole } from '../shared/bus/topics.js';

/**
 * Every Cloud Function: the name it registers with the Functions Framework
 * (and deploys under), the topic that triggers it and the topics it
 * publishes to. Terraform in infra/ must match this table; a test checks it.
 */
export const Functions = {
  enumerateClusters: { trigger: 'schedule', publishes: ['backup-jobs'] },
  // Plans a backup (functions/plan-backup.ts); deployed names stay as deployments know them.
  exportManifests: {
    trigger: 'backup-jobs',
    // backup-completed: a job that can never be planned is answered Failed at once.
    publishes: ['export-shards', 'disk-snapshots', 'backup-parts', 'backup-completed'],
  },
  exportShard: { trigger: 'export-shards', publishes: ['export-shards', 'backup-parts'] },
  // Snapshots one volume (functions/snapshot-volume.ts). disk-snapshots: a job whose snapshot
  // is still being made hands itself over.
  snapshotDisks: { trigger: 'disk-snapshots', publishes: ['disk-snapshots', 'backup-parts'] },
  emitCatalog: { trigger: 'backup-parts', publishes: ['backup-completed'] },
  restore: { trigger: 'restore', publishes: ['restore', 'restore-completed'] },
  clusterEvents: { trigger: 'cluster-events', publishes: ['cluster-responses', 'restore'] },
  retention: { trigger: 'retention', publishes: [] },
  // drill: a job naming no cluster becomes one drill per cluster, on the same topic.
  drill: { trigger: 'drill', publishes: ['drill', 'drill-completed'] },
} as const satisfies Record<string, { trigger: TopicRole; publishes: readonly TopicRole[] }>;

export type FunctionName = keyof typeof Functions;

/**
 * The functions called over HTTP rather than triggered by a topic, by the
 * name each registers with the Functions Framework (and deploys under).
 * They publish nothing and only read the store; infra/ deploys each behind
 * IAM alone (no public invoker), which a test checks.
 */
export const HttpFunctions = [
  // The catalog browser: reads catalogs and packs, writes nothing.
  'ui',
] as const;

export type HttpFunctionName = (typeof HttpFunctions)[number];
