/** Every topic of the flow, by role; deployed names are `${prefix}${role}`. */
export const TopicRoles = [
  'schedule',
  'backup-jobs',
  'export-shards',
  'disk-snapshots',
  'backup-parts',
  'backup-completed',
  'restore',
  'restore-completed',
  'cluster-events',
  'cluster-responses',
  'retention',
  'drill',
  'drill-completed',
] as const;
export type TopicRole = (typeof TopicRoles)[number];

export function topicName(prefix: string, role: TopicRole): string {
  return `${prefix}${role}`;
}

export function deadLetterTopicName(prefix: string, role: TopicRole): string {
  return `${prefix}${role}-dead-letter`;
}
