import type { Static, TSchema } from '@sinclair/typebox';
import { ValidationError } from '../errors.js';
import { validate } from '../validate.js';
import {
  BackupCompleted,
  ClusterBackupJob,
  ExportShard,
  PartDone,
  RetentionTick,
  ScheduleTick,
  VolumeSnapshotJob,
} from './backup.js';
import { AuditLogEntry, ClusterResponse } from './cluster-event.js';
import { RestoreCompleted, RestoreRequest } from './restore.js';
import { DrillCompleted, DrillJob } from './drill.js';

export * from './common.js';
export * from './backup.js';
export * from './restore.js';
export * from './cluster-event.js';
export * from './drill.js';
export * from './constructors.js';

/** Every Lifeboat message, by kind: the single source of their types. */
export const MessageSchemas = {
  ScheduleTick,
  ClusterBackupJob,
  ExportShard,
  VolumeSnapshotJob,
  PartDone,
  BackupCompleted,
  RestoreRequest,
  RestoreCompleted,
  ClusterResponse,
  RetentionTick,
  DrillJob,
  DrillCompleted,
} as const satisfies Record<string, TSchema>;

export type MessageKind = keyof typeof MessageSchemas;
export const MessageKinds = Object.keys(MessageSchemas) as MessageKind[];
export type MessageOf<K extends MessageKind> = Static<(typeof MessageSchemas)[K]>;
export type Message = { [K in MessageKind]: MessageOf<K> }[MessageKind];

/** Validates one of our messages of the expected kind; the error names the kind and each problem. */
export function parseMessage<K extends MessageKind>(kind: K, data: unknown): MessageOf<K> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ValidationError(`${kind} message`, ['(root): must be a JSON object']);
  }
  const found = (data as { kind?: unknown }).kind;
  if (found !== kind) {
    throw new ValidationError(`${kind} message`, [
      `/kind: expected "${kind}", got ${JSON.stringify(found)}`,
    ]);
  }
  return validate(MessageSchemas[kind], data, `${kind} message`) as MessageOf<K>;
}

/** Validates a forwarded audit log entry (not one of ours, so it has no kind). */
export function parseAuditLogEntry(data: unknown): AuditLogEntry {
  return validate(AuditLogEntry, data, 'audit log entry');
}

/** Decodes a Pub/Sub payload to JSON with an error that says what was wrong. */
export function decodeJson(payload: Buffer | string, where: string): unknown {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(where, [`not valid JSON (${(error as Error).message})`]);
  }
}
