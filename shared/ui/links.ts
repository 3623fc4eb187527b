import { href, segment } from './html.js';
import type { ObjectKey } from './load-contents.js';

/** Every URL the UI links to is built here, so routes and links cannot drift apart. */
export const Links = {
  clusters: (): string => '/',
  timeline: (clusterKey: string): string => `/clusters/${segment(clusterKey)}`,
  backup: (clusterKey: string, backupId: string, q?: string): string =>
    href(`/clusters/${segment(clusterKey)}/backups/${segment(backupId)}`, { q }),
  object: (clusterKey: string, backupId: string, key: ObjectKey): string =>
    href(`/clusters/${segment(clusterKey)}/backups/${segment(backupId)}/objects`, {
      resource: key.resource,
      namespace: key.namespace,
      name: key.name,
    }),
  diff: (clusterKey: string, from: string, to: string): string =>
    href(`/clusters/${segment(clusterKey)}/diff`, { from, to }),
  restores: (): string => '/restores',
  restore: (restoreId: string): string => `/restores/${segment(restoreId)}`,
};
