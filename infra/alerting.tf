# Failed restore drills page. The drill function writes one ERROR entry
# "restore drill failed" (jsonPayload.verdict "failed", with the policy,
# the cluster, the drill id, the reasons and what it left behind) for each
# drill that fails, and DrillCompleted carries the same verdict on the
# drill-completed topic. This log-based alert policy opens an incident for
# each such entry and notifies var.drill_alert_notification_channels; a
# pager that reads Pub/Sub can subscribe to the drill-completed topic
# instead (README.md, "Paging on failed drills").

locals {
  drill_failed_message = "restore drill failed"

  drill_failed_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${local.function_ids["drill"]}\"",
    "severity>=ERROR",
    "jsonPayload.message=\"${local.drill_failed_message}\"",
    "jsonPayload.verdict=\"failed\"",
  ])
}

resource "google_monitoring_alert_policy" "drill_failed" {
  display_name = "${var.prefix}restore drill failed"
  combiner     = "OR"
  severity     = "ERROR"

  conditions {
    display_name = "a restore drill failed (log entry of ${local.function_ids["drill"]})"

    condition_matched_log {
      filter = local.drill_failed_filter
      label_extractors = {
        policy   = "EXTRACT(jsonPayload.policy)"
        cluster  = "EXTRACT(jsonPayload.cluster)"
        drill_id = "EXTRACT(jsonPayload.drillId)"
      }
    }
  }

  # Log-based alert policies need a notification rate limit; one
  # notification per five minutes still tells of each failed policy.
  alert_strategy {
    notification_rate_limit {
      period = "300s"
    }
    auto_close = "604800s"
  }

  notification_channels = var.drill_alert_notification_channels

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A Lifeboat restore drill failed: the latest backup of the cluster in this incident's
      labels (with its drill policy and drill id) could not be restored and verified. Until
      a drill of that cluster passes, assume its backups would not restore. The log entry
      lists the reasons and anything the drill left behind in the drill cluster;
      `lifeboat drill describe DRILL_ID` shows the report.
    EOT
  }

  depends_on = [google_project_service.enabled]
}
