# Cluster creations and deletions reach the clusterEvents function through a
# log sink that forwards their Admin Activity audit entries (always on, free)
# to the cluster-events topic. The methods are WatchedMethods of
# shared/messages/cluster-event.ts; a test checks they are the same.

locals {
  # Through either API version (gcloud beta and some tools call v1beta1).
  watched_methods = [
    "google.container.v1.ClusterManager.DeleteCluster",
    "google.container.v1.ClusterManager.CreateCluster",
    "google.container.v1beta1.ClusterManager.DeleteCluster",
    "google.container.v1beta1.ClusterManager.CreateCluster",
  ]

  # Logging query language: a parenthesised OR on the right of = matches any
  # of the values; the log name is matched exactly (URL-encoded "/").
  cluster_events_filter = join(" AND ", [
    "logName=\"projects/${var.project}/logs/cloudaudit.googleapis.com%2Factivity\"",
    "resource.type=\"gke_cluster\"",
    "protoPayload.methodName=(${join(" OR ", [for m in local.watched_methods : "\"${m}\""])})",
  ])
}

resource "google_logging_project_sink" "cluster_events" {
  name        = "${var.prefix}cluster-events"
  description = "GKE cluster create/delete audit entries to ${var.prefix}cluster-events (Lifeboat)."
  destination = "pubsub.googleapis.com/${google_pubsub_topic.topic["cluster-events"].id}"
  filter      = local.cluster_events_filter

  # The sink writes as its own service account, granted publish on this
  # one topic below.
  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "cluster_events_sink" {
  topic  = google_pubsub_topic.topic["cluster-events"].id
  role   = "roles/pubsub.publisher"
  member = google_logging_project_sink.cluster_events.writer_identity
}
