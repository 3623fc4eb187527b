import { Layout } from '../catalog/layout.js';
import { BackupId, ClusterRef } from '../messages/common.js';
import { validate } from '../validate.js';
import { errorMessage } from '../errors.js';
import { HttpError } from './http-error.js';

const BACKUP_ID = new RegExp(BackupId.pattern ?? '^$');

/** A cluster key from the path (`project.location.name`); a malformed one is a 400 saying why. */
export function clusterParam(key: string): ClusterRef {
  const cluster = Layout.parseClusterKey(key);
  if (!cluster) {
    throw new HttpError(400, `cluster "${key}" is not PROJECT.LOCATION.NAME`);
  }
  try {
    return validate(ClusterRef, cluster, `cluster "${key}"`);
  } catch (error) {
    throw new HttpError(400, errorMessage(error));
  }
}

/** A backup or restore id from the path or the query; `what` names where it came from. */
export function idParam(value: string | null | undefined, what: string): string {
  if (value === null || value === undefined || value === '') {
    throw new HttpError(400, `${what} is missing`);
  }
  if (!BACKUP_ID.test(value)) {
    throw new HttpError(
      400,
      `${what} "${value}" is not a backup id (a lowercase RFC 1123 label: a-z, 0-9 and "-")`,
    );
  }
  return value;
}

/** A required query parameter that is free text (object names, resources). */
export function textParam(value: string | null, what: string): string {
  if (value === null || value === '') throw new HttpError(400, `${what} is missing`);
  if (value.length > 512) throw new HttpError(400, `${what} is longer than 512 characters`);
  return value;
}
