# Cloud Scheduler publishes the ticks that start backups, retention and
# restore drills. The bodies are the messages of shared/messages/backup.ts
# and shared/messages/drill.ts, built here from the variables; a test validates them with the code's own schemas, and
# checks that each tick's policy is the deployed one (deployment.tf).

locals {
  # The policy is the deployed one (deployment.tf), so the functions find
  # the tick's policy equal to the policy of its name in LIFEBOAT_DEPLOYMENT.
  schedule_ticks = {
    for name, policy in local.deployed_policies : name => {
      apiVersion = local.api_version
      kind       = "ScheduleTick"
      policy     = policy
    }
  }

  # A drill job without a cluster drills every cluster its policy selects;
  # the body is the same on every run, so the drill function gives each
  # drill it starts an id of its own, made from this message's id.
  drill_jobs = {
    for name, policy in local.deployed_drill_policies : name => {
      apiVersion = local.api_version
      kind       = "DrillJob"
      drillId    = "scheduled"
      policy     = policy
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

resource "google_cloud_scheduler_job" "drill" {
  for_each = local.drill_jobs

  name        = "${var.prefix}drill-${each.key}"
  description = "Lifeboat drill policy ${each.key}: publishes a DrillJob to ${var.prefix}drill."
  region      = var.region
  schedule    = var.drill_policies[each.key].schedule
  time_zone   = var.drill_policies[each.key].time_zone

  pubsub_target {
    topic_name = google_pubsub_topic.topic["drill"].id
    data       = base64encode(jsonencode(each.value))
  }

  depends_on = [google_project_service.enabled]
}
