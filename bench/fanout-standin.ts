/**
 * The Container API side of the fan-out benchmark (`npm run bench -- fanout
 * --clusters 1000`): a stand-in serving a fleet of GKE clusters, the policy
 * that selects them, and the cost of listing them through GkeInventory
 * measured against a floor taken in the same run (a bare fetch + JSON.parse
 * of the same ListClusters response).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { GkeInventory, LIST_FIELD_MASK } from '../shared/clusters/gke-inventory.js';
import { BackupPolicy } from '../shared/messages/common.js';
import { validate } from '../shared/validate.js';
import { ContainerStandin } from '../local/standins/container/server.js';

export const FLEET_PROJECT = 'fleet-project';
const LOCATIONS = ['us-central1', 'us-central1-a', 'europe-west1', 'europe-west4-b', 'asia-east1'];

export interface Fleet {
  standin: ContainerStandin;
  /** Selects every cluster of the fleet that is RUNNING. */
  policy: BackupPolicy;
  /** The RUNNING clusters the policy selects. */
  running: number;
}

/**
 * Starts a stand-in with `count` clusters in FLEET_PROJECT across five
 * locations; every 50th is PROVISIONING (so the listing has skips to
 * record). `apiServers` (e.g. the local source and target) become the
 * endpoints of the first clusters, so jobs for them can really connect.
 */
export async function startFleet(count: number, apiServers: KubeConfig[] = []): Promise<Fleet> {
  const standin = await ContainerStandin.start();
  let running = 0;
  for (let i = 0; i < count; i++) {
    const spec = {
      project: FLEET_PROJECT,
      location: LOCATIONS[i % LOCATIONS.length] ?? 'us-central1',
      name: `fleet-${String(i).padStart(5, '0')}`,
      labels: { backup: 'nightly', team: `team-${i % 7}` },
    };
    const kc = apiServers[i];
    if (kc) {
      standin.addClusterFromKubeConfig(kc, spec);
    } else {
      const provisioning = i % 50 === 49;
      standin.addCluster({ ...spec, ...(provisioning ? { status: 'PROVISIONING' as const } : {}) });
      if (provisioning) continue;
    }
    running++;
  }
  const policy = validate(
    BackupPolicy,
    {
      name: 'fleet-nightly',
      projects: [FLEET_PROJECT],
      clusterNames: ['fleet-*'],
      clusterLabels: { backup: 'nightly' },
    },
    'fleet policy',
  );
  return { standin, policy, running };
}

export interface ListingFigures {
  clusters: number;
  skipped: number;
  /** GkeInventory.list: the real client's request, decoding, and selection. */
  list_ms: number;
  /** fetch + JSON.parse of the same response (same field mask): what no client can beat. */
  floor_ms: number;
  ratio: number;
}

/** Lists the fleet `rounds` times (after one warm-up) and reports the medians. */
export async function measureListing(
  fleet: Fleet,
  options: { rounds?: number; fieldMask?: boolean } = {},
): Promise<ListingFigures> {
  const rounds = options.rounds ?? 5;
  const fieldMask = options.fieldMask ?? true;
  const inventory = new GkeInventory({
    client: fleet.standin.clientOptions(),
    accessToken: async () => 'bench-token',
    fieldMask,
  });
  const headers: Record<string, string> = fieldMask ? { 'X-Goog-FieldMask': LIST_FIELD_MASK } : {};
  const url = `${fleet.standin.url}/v1/projects/${FLEET_PROJECT}/locations/-/clusters?%24alt=json%3Benum-encoding%3Dint`;
  try {
    let listing = await inventory.list(fleet.policy);
    await (await fetch(url, { headers })).json();
    const list: number[] = [];
    const floor: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = performance.now();
      listing = await inventory.list(fleet.policy);
      list.push(performance.now() - t);
      t = performance.now();
      await (await fetch(url, { headers })).json();
      floor.push(performance.now() - t);
    }
    const list_ms = median(list);
    const floor_ms = median(floor);
    return {
      clusters: listing.clusters.length,
      skipped: listing.skipped.length,
      list_ms: round(list_ms),
      floor_ms: round(floor_ms),
      ratio: round(list_ms / floor_ms),
    };
  } finally {
    await inventory.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const round = (n: number): number => Math.round(n * 100) / 100;
