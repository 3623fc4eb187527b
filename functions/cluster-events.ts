import { parseAuditLogEntry } from '../shared/messages/index.js';
import { respondToClusterEvent } from '../shared/pipeline/cluster-events.js';
import { register } from './handle.js';

/** Answers a cluster's deletion or creation, forwarded from the audit log by a log sink. */
register('clusterEvents', parseAuditLogEntry, async (entry, { runtime, deadline }) => {
  const sealer = (await runtime.sealer())?.sealer;
  const { response, restore } = await respondToClusterEvent(entry, {
    store: runtime.store,
    ...(sealer ? { sealer } : {}),
    disks: runtime.disks,
    deadline,
    deployment: runtime.deployment,
    // The Container API confirms deletions and creation times; in local mode (kubeconfig
    // contexts) there is none to ask, and entries are acted on as given.
    ...(runtime.config.kubeconfig ? {} : { clusters: runtime.inventory }),
  });
  if (restore) await runtime.bus.publish(runtime.topic('restore'), restore);
  await runtime.bus.publish(runtime.topic('cluster-responses'), response);
  runtime.logger.info(
    { cluster: response.cluster, actions: response.actions, notes: response.notes },
    'cluster event answered',
  );
});
