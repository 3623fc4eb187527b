# What this deployment may do, rendered once from the variables: the
# backup policies, the restore plans and the drill policies, in the camelCase JSON of Deployment
# (shared/config/deployment.ts), set as LIFEBOAT_DEPLOYMENT on every function
# (functions.tf). The functions refuse a ScheduleTick or ClusterBackupJob
# whose policy is not exactly the deployed policy of its name, and a
# RestoreRequest that no deployed plan allows, and a DrillJob whose drill
# policy is not exactly the deployed one; so each scheduler job's message
# carries local.deployed_policies[name] (or local.deployed_drill_policies[name])
# itself (scheduler.tf), never a second rendering of the same variable.
#
# Unset optional fields are left out rather than written as null: the
# schemas allow no null and no unknown field.

locals {
  deployed_policies = {
    for name, p in var.backup_policies : name => { for k, v in {
      name          = name
      projects      = p.projects
      locations     = p.locations
      clusterNames  = p.cluster_names
      clusterLabels = p.cluster_labels
      filters = p.filters == null ? null : { for fk, fv in {
        includeNamespaces       = p.filters.include_namespaces
        excludeNamespaces       = p.filters.exclude_namespaces
        includeResources        = p.filters.include_resources
        excludeResources        = p.filters.exclude_resources
        labelSelector           = p.filters.label_selector
        includeClusterResources = p.filters.include_cluster_resources
      } : fk => fv if fv != null }
      snapshotVolumes          = p.snapshot_volumes
      csiSnapshotClasses       = p.csi_snapshot_classes
      snapshotStorageLocations = p.snapshot_storage_locations
      snapshotType             = p.snapshot_type
      snapshotTimeoutSeconds   = p.snapshot_timeout_seconds
      ttlDays                  = p.ttl_days
      keepLast                 = p.keep_last
      deleteLockDays           = p.delete_lock_days
      standbyCluster           = p.standby_cluster
      restoreOnRecreate        = p.restore_on_recreate
    } : k => v if v != null }
  }

  # The plans declared in var.restore_plans. The plans a policy implies
  # (standby:<policy>, recreate:<policy>) are derived by the code from the
  # policy itself, and are not rendered.
  deployed_restore_plans = {
    for name, p in var.restore_plans : name => { for k, v in {
      name        = name
      description = p.description
      sourceClusters = [
        for c in p.source_clusters : { project = c.project, location = c.location, name = c.name }
      ]
      targetClusters = [
        for c in p.target_clusters : { project = c.project, location = c.location, name = c.name }
      ]
      restoreIntoSource = p.restore_into_source
      options = { for ok, ov in {
        includeNamespaces = p.options.include_namespaces
        excludeNamespaces = p.options.exclude_namespaces
        includeResources  = p.options.include_resources
        excludeResources  = p.options.exclude_resources
        namespaceMapping  = p.options.namespace_mapping
        conflictPolicy    = p.options.conflict_policy
        volumeDataPolicy  = p.options.volume_data_policy
        zoneMapping       = p.options.zone_mapping
        targetProject     = p.options.target_project
        transformations = [
          for t in p.options.transformations : { for tk, tv in {
            description = t.description
            resources   = t.resources
            namespaces  = t.namespaces
            names       = t.names
            # `value` is a string taken as is; `value_json` any JSON value
            # (null included), decoded here.
            patch = [
              for op in t.patch : merge(
                { for pk, pv in { op = op.op, path = op.path, from = op.from, value = op.value } : pk => pv if pv != null },
                [for j in compact([op.value_json]) : { value = jsondecode(j) }]...
              )
            ]
          } : tk => tv if tv != null }
        ]
        restoreOwnedObjects = p.options.restore_owned_objects
        dryRun              = p.options.dry_run
        parallelism         = p.options.parallelism
      } : ok => ov if ov != null }
    } : k => v if v != null }
  }

  # The drill policies: each drill job (scheduler.tf) carries
  # local.deployed_drill_policies[name] itself, as a tick carries its policy.
  deployed_drill_policies = {
    for name, p in var.drill_policies : name => { for k, v in {
      name           = name
      projects       = p.projects
      locations      = p.locations
      clusterNames   = p.cluster_names
      clusterLabels  = p.cluster_labels
      backupPolicies = p.backup_policies
      schedule       = p.schedule
      drillCluster = {
        project  = p.drill_cluster.project
        location = p.drill_cluster.location
        name     = p.drill_cluster.name
      }
      namespaces        = p.namespaces
      excludeNamespaces = p.exclude_namespaces
      restoreVolumes    = p.restore_volumes
      timeoutSeconds    = p.timeout_seconds
      pass = p.pass == null ? null : {
        objectsEqualCatalog         = p.pass.objects_equal_catalog
        volumesBoundToRestoredDisks = p.pass.volumes_bound_to_restored_disks
      }
    } : k => v if v != null }
  }

  deployment = {
    backupPolicies = [for name, p in local.deployed_policies : p]
    restorePlans   = [for name, p in local.deployed_restore_plans : p]
    drillPolicies  = [for name, p in local.deployed_drill_policies : p]
  }
  deployment_json = jsonencode(local.deployment)
}
