import type { ProjectsClient, protos, RegionsClient } from '@google-cloud/compute';
import type { Failed } from './disk-snapshotter.js';

type Quota = protos.google.cloud.compute.v1.IQuota;

/** Regional quota each disk type counts against; types not listed are not checked. */
const DISK_QUOTA_METRIC: Record<string, string> = {
  'pd-standard': 'DISKS_TOTAL_GB',
  'pd-balanced': 'SSD_TOTAL_GB',
  'pd-ssd': 'SSD_TOTAL_GB',
};

/**
 * Checks quota before creating, so an exhausted quota is reported as such
 * (Velero's plugin ignored quota errors) instead of surfacing later as an
 * operation error or, worse, a snapshot that never appears. Best-effort: when
 * the quota cannot be read (no compute.projects.get permission, say) the
 * check passes and the insert itself reports quotaExceeded.
 */
export class QuotaCheck {
  constructor(
    private readonly projects: ProjectsClient,
    private readonly regions: RegionsClient,
  ) {}

  /** FAILED when the project has no room for one more snapshot. */
  async snapshots(project: string, timeout: number): Promise<Failed | undefined> {
    const quotas = await this.read(
      async () => (await this.projects.get({ project }, { timeout }))[0].quotas,
    );
    return exhausted(quotas, 'SNAPSHOTS', 1, `project ${project}`);
  }

  /** FAILED when the region has no room for a disk of `sizeGb` of `type`. */
  async disks(
    project: string,
    region: string,
    type: string | undefined,
    sizeGb: number | undefined,
    timeout: number,
  ): Promise<Failed | undefined> {
    const metric = type ? DISK_QUOTA_METRIC[type] : undefined;
    if (!metric || !sizeGb) return undefined;
    const quotas = await this.read(
      async () => (await this.regions.get({ project, region }, { timeout }))[0].quotas,
    );
    return exhausted(quotas, metric, sizeGb, `region ${region} of project ${project}`);
  }

  private async read(get: () => Promise<Quota[] | null | undefined>): Promise<Quota[]> {
    try {
      return (await get()) ?? [];
    } catch {
      return []; // best-effort, see the class comment
    }
  }
}

function exhausted(
  quotas: Quota[],
  metric: string,
  need: number,
  where: string,
): Failed | undefined {
  const quota = quotas.find((q) => q.metric === metric);
  if (!quota || quota.limit === undefined || quota.limit === null) return undefined;
  const usage = Number(quota.usage ?? 0);
  const limit = Number(quota.limit);
  if (usage + need <= limit) return undefined;
  return {
    status: 'FAILED',
    reason: `quota ${metric} exceeded in ${where}: usage ${usage} of limit ${limit}, ${need} more needed`,
    retryable: false,
  };
}
