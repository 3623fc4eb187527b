# Cloud Scheduler publishes the ticks that start backups and retention.
# The bodies are the messages of shared/messages/backup.ts, built here from
# the variables; a test validates them with the code's own schemas.

locals {
  schedule_ticks = {
    for name, p in var.backup_policies : name => {
      apiVersion = local.api_version
      kind       = "ScheduleTick"
      # Unset optional fields are left out rather than sent as null: the
      # schema allows no null and no unknown field.
      policy = { for k, v in {
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
  }

  retention_tick = {
    apiVersion = local.api_version
    kind       = "RetentionTick"
    dryRun     = var.retention_dry_run
  }
}

resource "google_cloud_scheduler_job" "backup" {
  for_each = local.schedule_ticks

  name        = "${var.prefix}backup-${each.key}"
  description = "Lifeboat backup policy ${each.key}: publishes a ScheduleTick to ${var.prefix}schedule."
  region      = var.region
  schedule    = var.backup_policies[each.key].schedule
  time_zone   = var.backup_policies[each.key].time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topic["schedule"].id
    data       = base64encode(jsonencode(each.value))
  }

  depends_on = [google_project_service.enabled]
}

resource "google_cloud_scheduler_job" "retention" {
  name        = "${var.prefix}retention"
  description = "Lifeboat retention: publishes a RetentionTick to ${var.prefix}retention."
  region      = var.region
  schedule    = var.retention_schedule
  time_zone   = var.retention_time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topic["retention"].id
    data       = base64encode(jsonencode(local.retention_tick))
  }

  depends_on = [google_project_service.enabled]
}
