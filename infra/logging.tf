# Cluster creations and deletions reach the clusterEvents function through log
# sinks that forward their Admin Activity audit entries (always on, free) to
# the cluster-events topic: one sink in the Lifeboat project and one in every
# project a backup policy lists, since a project's audit log is its own; or,
# with cluster_events_log_parent, one aggregated sink on that folder or
# organisation covering every project below it. The methods are
# WatchedMethods of shared/messages/cluster-event.ts; a test checks they are
# the same.

locals {
  # Through either API version (gcloud beta and some tools call v1beta1).
  watched_methods = [
    "google.container.v1.ClusterManager.DeleteCluster",
    "google.container.v1.ClusterManager.CreateCluster",
    "google.container.v1beta1.ClusterManager.DeleteCluster",
    "google.container.v1beta1.ClusterManager.CreateCluster",
  ]

  # Every project whose clusters a policy may back up, and Lifeboat's own
  # (none when an aggregated sink covers them).
  cluster_event_projects = var.cluster_events_log_parent != null ? toset([]) : toset(distinct(concat(
    [var.project],
    flatten([for p in values(var.backup_policies) : p.projects]),
  )))

  aggregated_parent = var.cluster_events_log_parent == null ? {} : {
    (split("/", var.cluster_events_log_parent)[0]) = split("/", var.cluster_events_log_parent)[1]
  }
  methods_filter = "protoPayload.methodName=(${join(" OR ", [for m in local.watched_methods : "\"${m}\""])})"
  aggregated_filter = join(" AND ", [
    "logName:\"/logs/cloudaudit.googleapis.com%2Factivity\"",
    "resource.type=\"gke_cluster\"",
    local.methods_filter,
  ])

  # Logging query language: a parenthesised OR on the right of = matches any
  # of the values; the log name is matched exactly (URL-encoded "/").
  cluster_events_filter = {
    for project in local.cluster_event_projects : project => join(" AND ", [
      "logName=\"projects/${project}/logs/cloudaudit.googleapis.com%2Factivity\"",
      "resource.type=\"gke_cluster\"",
      local.methods_filter,
    ])
  }
}

resource "google_logging_project_sink" "cluster_events" {
  for_each = local.cluster_event_projects

  project     = each.key
  name        = "${var.prefix}cluster-events"
  description = "GKE cluster create/delete audit entries to ${var.prefix}cluster-events in ${var.project} (Lifeboat)."
  destination = "pubsub.googleapis.com/${google_pubsub_topic.topic["cluster-events"].id}"
  filter      = local.cluster_events_filter[each.key]

  # Each sink writes as its own service account, granted publish on this
  # one topic below.
  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "cluster_events_sink" {
  for_each = local.cluster_event_projects

  topic  = google_pubsub_topic.topic["cluster-events"].id
  role   = "roles/pubsub.publisher"
  member = google_logging_project_sink.cluster_events[each.key].writer_identity
}

# With cluster_events_log_parent: one sink on the folder or the organisation,
# including its children, instead of one per project.
resource "google_logging_folder_sink" "cluster_events" {
  for_each = { for kind, id in local.aggregated_parent : kind => id if kind == "folders" }

  folder           = "folders/${each.value}"
  name             = "${var.prefix}cluster-events"
  description      = "GKE cluster create/delete audit entries of every project below to ${var.prefix}cluster-events in ${var.project} (Lifeboat)."
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.topic["cluster-events"].id}"
  filter           = local.aggregated_filter
  include_children = true
}

resource "google_logging_organization_sink" "cluster_events" {
  for_each = { for kind, id in local.aggregated_parent : kind => id if kind == "organizations" }

  org_id           = each.value
  name             = "${var.prefix}cluster-events"
  description      = "GKE cluster create/delete audit entries of every project below to ${var.prefix}cluster-events in ${var.project} (Lifeboat)."
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.topic["cluster-events"].id}"
  filter           = local.aggregated_filter
  include_children = true
}

resource "google_pubsub_topic_iam_member" "cluster_events_folder_sink" {
  for_each = { for kind, id in local.aggregated_parent : kind => id if kind == "folders" }

  topic  = google_pubsub_topic.topic["cluster-events"].id
  role   = "roles/pubsub.publisher"
  member = google_logging_folder_sink.cluster_events[each.key].writer_identity
}

resource "google_pubsub_topic_iam_member" "cluster_events_organization_sink" {
  for_each = { for kind, id in local.aggregated_parent : kind => id if kind == "organizations" }

  topic  = google_pubsub_topic.topic["cluster-events"].id
  role   = "roles/pubsub.publisher"
  member = google_logging_organization_sink.cluster_events[each.key].writer_identity
}
