import { Type, type Static } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_FILTERS } from '../backup/plan.js';
import { canonicalJson } from '../catalog/canonical.js';
import { locationSelected } from '../clusters/cluster-selection.js';
import { LOCAL } from '../clusters/kubeconfig-inventory.js';
import { PermanentError, ValidationError } from '../errors.js';
import { globMatch } from '../glob.js';
import { BackupPolicy, type ClusterRef } from '../messages/common.js';
import { DrillPolicy } from '../messages/drill.js';
import {
  RestoreOptions,
  RestorePlan,
  type ClusterPattern,
  type RestoreNarrowing,
} from '../messages/restore.js';
import { validate } from '../validate.js';

/**
 * What this deployment may do: its backup policies, restore plans and drill
 * policies. It is
 * deployed configuration (Terraform renders it into LIFEBOAT_DEPLOYMENT of
 * every function), so whoever can publish a message can only ask for what
 * is already allowed here, never widen it.
 */
export const Deployment = Type.Object(
  {
    backupPolicies: Type.Array(BackupPolicy, { default: [] }),
    restorePlans: Type.Array(RestorePlan, { default: [] }),
    drillPolicies: Type.Array(DrillPolicy, { default: [] }),
  },
  { additionalProperties: false },
);
export type Deployment = Static<typeof Deployment>;

export const DEPLOYMENT_ENV = 'LIFEBOAT_DEPLOYMENT';

const sameCluster = (a: ClusterRef, b: ClusterRef): boolean =>
  a.project === b.project && a.location === b.location && a.name === b.name;

const clusterText = (c: ClusterRef): string => `${c.project}/${c.location}/${c.name}`;

function patternMatches(pattern: ClusterPattern, cluster: ClusterRef): boolean {
  return (
    pattern.project === cluster.project &&
    locationSelected([pattern.location], cluster.location) &&
    globMatch(pattern.name, cluster.name)
  );
}

/** The clusters a policy can select, as patterns (labels are checked where clusters are listed). */
function policyPatterns(
  policy: Pick<BackupPolicy, 'projects' | 'locations' | 'clusterNames'>,
): ClusterPattern[] {
  return policy.projects.flatMap((project) =>
    policy.locations.flatMap((location) =>
      policy.clusterNames.map((name) => ({ project, location, name })),
    ),
  );
}

/** The plans a policy implies: restoring into its standby cluster, and into its recreated clusters. */
function impliedPlans(policy: BackupPolicy): RestorePlan[] {
  const defaults = (extra: Partial<RestoreOptions> = {}): RestoreOptions =>
    validate(RestoreOptions, { ...extra }, 'restore options');
  // The policy's clusters by name, and (as labels are not patterns) only backups the policy took.
  const sourceClusters = policyPatterns(policy);
  const backupPolicies = [policy.name];
  const plans: RestorePlan[] = [];
  const plan = (
    kind: 'standby' | 'recreate',
    into: string,
    target: Pick<RestorePlan, 'targetClusters' | 'restoreIntoSource' | 'options'>,
  ): RestorePlan => ({
    name: `${kind}:${policy.name}`,
    description: `backups of policy ${policy.name} ${into}`,
    sourceClusters,
    backupPolicies,
    ...target,
  });
  if (policy.standbyCluster) {
    plans.push(
      plan('standby', 'into its standby cluster', {
        targetClusters: [policy.standbyCluster],
        restoreIntoSource: false,
        // Disks are created in the standby's project, and in its zones unless the policy maps them.
        // (A kubeconfig context's pseudo-project 'local' names no project: disks stay where they were.)
        options: defaults({
          ...(policy.standbyCluster.project !== LOCAL
            ? { targetProject: policy.standbyCluster.project }
            : {}),
          zoneMapping: { ...(policy.standbyZoneMapping ?? {}) },
        }),
      }),
    );
  }
  if (policy.restoreOnRecreate) {
    plans.push(
      plan('recreate', 'into their recreated cluster', {
        targetClusters: [],
        restoreIntoSource: true,
        options: defaults(),
      }),
    );
  }
  return plans;
}

/** The top-level fields in which two policies differ (no filters means the default ones). */
function differingFields(first: BackupPolicy, second: BackupPolicy): string[] {
  return differingKeys(
    { ...first, filters: first.filters ?? DEFAULT_FILTERS },
    { ...second, filters: second.filters ?? DEFAULT_FILTERS },
  );
}

function differingKeys(a: object, b: object): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys]
    .filter(
      (k) =>
        canonicalJson((a as Record<string, unknown>)[k] ?? null) !==
        canonicalJson((b as Record<string, unknown>)[k] ?? null),
    )
    .sort();
}

/** A restore as its plan allows it: the plan's options, narrowed by the request. */
export interface AuthorisedRestore {
  plan: RestorePlan;
  options: RestoreOptions;
  narrowing: RestoreNarrowing;
}

export class DeployedConfiguration {
  private readonly policies = new Map<string, BackupPolicy>();
  private readonly plans = new Map<string, RestorePlan>();
  private readonly drills = new Map<string, DrillPolicy>();

  /** Without drillPolicies (code that predates drills), no drill is deployed. */
  constructor(deployment: Omit<Deployment, 'drillPolicies'> & { drillPolicies?: DrillPolicy[] }) {
    for (const drill of deployment.drillPolicies ?? []) {
      if (this.drills.has(drill.name)) {
        throw new ValidationError(DEPLOYMENT_ENV, [
          `/drillPolicies: drill policy ${drill.name} is defined twice`,
        ]);
      }
      this.drills.set(drill.name, drill);
    }
    for (const policy of deployment.backupPolicies) {
      if (this.policies.has(policy.name)) {
        throw new ValidationError(DEPLOYMENT_ENV, [
          `/backupPolicies: policy ${policy.name} is defined twice`,
        ]);
      }
      this.policies.set(policy.name, policy);
    }
    const implied = deployment.backupPolicies.flatMap(impliedPlans);
    for (const plan of [...deployment.restorePlans, ...implied]) {
      if (this.plans.has(plan.name)) {
        throw new ValidationError(DEPLOYMENT_ENV, [
          `/restorePlans: restore plan ${plan.name} is defined twice`,
        ]);
      }
      if (plan.targetClusters.length === 0 && !plan.restoreIntoSource) {
        throw new ValidationError(DEPLOYMENT_ENV, [
          `/restorePlans: restore plan ${plan.name} has no target cluster and does not restore into the source`,
        ]);
      }
      this.plans.set(plan.name, plan);
    }
  }

  /** The configuration in LIFEBOAT_DEPLOYMENT (JSON or YAML); none deployed allows nothing. */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): DeployedConfiguration {
    const text = env[DEPLOYMENT_ENV];
    if (text === undefined || text.trim() === '') {
      return new DeployedConfiguration({ backupPolicies: [], restorePlans: [] });
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (error) {
      throw new ValidationError(DEPLOYMENT_ENV, [
        `(root): not JSON or YAML (${(error as Error).message.split('\n')[0]})`,
      ]);
    }
    return new DeployedConfiguration(validate(Deployment, parsed, DEPLOYMENT_ENV));
  }

  policyNames(): string[] {
    return [...this.policies.keys()].sort();
  }

  planNames(): string[] {
    return [...this.plans.keys()].sort();
  }

  drillPolicyNames(): string[] {
    return [...this.drills.keys()].sort();
  }

  /** The drill policy deployed under this name today, if any. */
  drillPolicy(name: string): DrillPolicy | undefined {
    return this.drills.get(name);
  }

  /**
   * The deployed drill policy a DrillJob carries, which must be exactly the
   * deployed one (so its drill cluster is the deployed drill cluster, the
   * only cluster a drill writes to) and must select the job's cluster.
   */
  checkDrillJob(job: { policy: DrillPolicy; cluster?: ClusterRef | undefined }): DrillPolicy {
    const where = 'DrillJob';
    const deployed = this.drills.get(job.policy.name);
    if (!deployed) {
      throw new PermanentError(
        `${where}: no drill policy named ${job.policy.name} is deployed (deployed: ${this.drillPolicyNames().join(', ') || 'none'}); refused`,
      );
    }
    const differs = differingKeys(job.policy, deployed);
    if (differs.length) {
      throw new PermanentError(
        `${where}: drill policy ${deployed.name} differs from the deployed one in ${differs.join(', ')}; refused`,
      );
    }
    if (job.cluster && !policyPatterns(deployed).some((p) => patternMatches(p, job.cluster!))) {
      throw new PermanentError(
        `${where}: drill policy ${deployed.name} does not select cluster ${clusterText(job.cluster)}; refused`,
      );
    }
    return deployed;
  }

  /** The policy deployed under this name today, if any. */
  policy(name: string): BackupPolicy | undefined {
    return this.policies.get(name);
  }

  /** The deployed policy a message carries, or a refusal saying how it differs. */
  checkPolicy(carried: BackupPolicy, where: string): BackupPolicy {
    const deployed = this.policies.get(carried.name);
    if (!deployed) {
      throw new PermanentError(
        `${where}: no backup policy named ${carried.name} is deployed (deployed: ${this.policyNames().join(', ') || 'none'}); refused`,
      );
    }
    const differs = differingFields(carried, deployed);
    if (differs.length) {
      throw new PermanentError(
        `${where}: policy ${carried.name} differs from the deployed one in ${differs.join(', ')}; refused`,
      );
    }
    return deployed;
  }

  /** The deployed policy of a ClusterBackupJob, which must select its cluster. */
  checkBackupJob(job: { policy: BackupPolicy; cluster: ClusterRef }, where: string): BackupPolicy {
    const policy = this.checkPolicy(job.policy, where);
    if (!policyPatterns(policy).some((p) => patternMatches(p, job.cluster))) {
      throw new PermanentError(
        `${where}: policy ${policy.name} does not select cluster ${clusterText(job.cluster)}; refused`,
      );
    }
    return policy;
  }

  /**
   * Whether a restore plan allows restoring a backup of `source` into
   * `target`; the options are the plan's, narrowed by the request.
   */
  authoriseRestore(
    request: { plan: string; target: ClusterRef; narrow?: RestoreNarrowing | undefined },
    source: ClusterRef,
  ): AuthorisedRestore {
    const plan = this.plans.get(request.plan);
    if (!plan) {
      throw new PermanentError(
        `RestoreRequest: no restore plan named ${request.plan} is deployed (deployed: ${this.planNames().join(', ') || 'none'}); refused`,
      );
    }
    if (!plan.sourceClusters.some((p) => patternMatches(p, source))) {
      throw new PermanentError(
        `RestoreRequest: restore plan ${plan.name} does not cover backups of ${clusterText(source)}; refused`,
      );
    }
    const intoSource = plan.restoreIntoSource && sameCluster(request.target, source);
    if (!intoSource && !plan.targetClusters.some((t) => sameCluster(t, request.target))) {
      throw new PermanentError(
        `RestoreRequest: restore plan ${plan.name} does not restore into ${clusterText(request.target)}; refused`,
      );
    }
    const narrowing = request.narrow ?? {};
    return {
      plan,
      options: { ...plan.options, dryRun: plan.options.dryRun || narrowing.dryRun === true },
      narrowing,
    };
  }
}
