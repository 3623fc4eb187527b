output "bucket" {
  description = "The backup bucket: LIFEBOAT_STORE is gs://<bucket>."
  value       = google_storage_bucket.backups.name
}

output "topics" {
  description = "Topic names by role; the CLI publishes RestoreRequests to topics[\"restore\"] and follows backup-completed and restore-completed."
  value       = { for role, t in google_pubsub_topic.topic : role => t.name }
}

output "dead_letter_subscriptions" {
  description = "Pull subscriptions holding what could not be delivered, by topic role."
  value       = { for role, s in google_pubsub_subscription.dead_letter : role => s.name }
}

output "functions" {
  description = "Deployed function names by registered name."
  value       = { for name, f in google_cloudfunctions2_function.function : name => f.name }
}

output "function_service_accounts" {
  description = "Each function's service account: bind these in every protected cluster's RBAC (see README.md)."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "kms_key" {
  description = "LIFEBOAT_KMS_KEY, when kms_enabled."
  value       = var.kms_enabled ? google_kms_crypto_key.catalog[0].id : null
}

output "cluster_events_sink_writer" {
  description = "The log sink's writer identity (granted publish on the cluster-events topic)."
  value       = google_logging_project_sink.cluster_events.writer_identity
}

output "ui_url" {
  description = "The catalog browser's URL (the ui function); open it as an invoker (see README.md)."
  value       = google_cloudfunctions2_function.ui.service_config[0].uri
}

output "ui_service" {
  description = "The ui function's Cloud Run service, for `gcloud run services proxy`."
  value       = google_cloudfunctions2_function.ui.service_config[0].service
}
