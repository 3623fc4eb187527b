# Least privilege: one service account per function, holding only
#  - its custom project role (registry.tf project_permissions), if any;
#  - its custom role on the backup bucket (bucket_permissions), if any;
#  - roles/pubsub.publisher on each topic it publishes to, and no other;
#  - the KMS key, for the functions that encrypt or decrypt Secrets.
# No predefined broad role (editor, *.admin, storage.objectAdmin ...) is
# granted to any function.

locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_service_account" "function" {
  for_each = local.functions

  account_id   = local.function_ids[each.key]
  display_name = "Lifeboat ${each.key}"
  description  = "Runs the ${each.key} Cloud Function (triggered by ${var.prefix}${each.value.trigger})."

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_custom_role" "function" {
  for_each = local.project_role_functions

  role_id     = "${local.role_prefix}${each.key}"
  title       = "Lifeboat ${each.key}"
  description = "Exactly the project-level permissions the ${each.key} function uses."
  permissions = each.value.project_permissions
}

resource "google_project_iam_member" "function" {
  for_each = local.project_role_functions

  project = var.project
  role    = google_project_iam_custom_role.function[each.key].id
  member  = "serviceAccount:${google_service_account.function[each.key].email}"
}

# Object permissions are a custom role too, but granted on the backup
# bucket only: a function can read or write no other bucket.
resource "google_project_iam_custom_role" "function_bucket" {
  for_each = local.bucket_role_functions

  role_id     = "${local.role_prefix}${each.key}Bucket"
  title       = "Lifeboat ${each.key} (backup bucket)"
  description = "Exactly the object permissions the ${each.key} function uses, granted on the backup bucket."
  permissions = each.value.bucket_permissions
}

resource "google_storage_bucket_iam_member" "function" {
  for_each = local.bucket_role_functions

  bucket = google_storage_bucket.backups.name
  role   = google_project_iam_custom_role.function_bucket[each.key].id
  member = "serviceAccount:${google_service_account.function[each.key].email}"
}

# Publishing is granted per topic, on exactly the topics a function
# publishes to (registry.tf publishes), never project-wide.
resource "google_pubsub_topic_iam_member" "publish" {
  for_each = local.publish_bindings

  topic  = google_pubsub_topic.topic[each.value.topic].id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# The identity of the push subscriptions' OIDC tokens: it may invoke the
# functions and nothing else.
resource "google_service_account" "push" {
  account_id   = "${var.prefix}push"
  display_name = "Lifeboat Pub/Sub push"
  description  = "Signs the OIDC tokens with which Pub/Sub pushes messages to the Lifeboat functions."

  depends_on = [google_project_service.enabled]
}

# Pub/Sub mints the push tokens as this account (projects created before
# April 2021 lack this grant on the service agent by default).
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# Builds the functions' container images from the uploaded source, instead
# of the default compute service account (which has no roles in new
# organisations, and too many in old ones).
resource "google_service_account" "build" {
  account_id   = "${var.prefix}build"
  display_name = "Lifeboat function builds"
  description  = "Cloud Build identity that builds the Lifeboat functions' images."

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "build_log_writer" {
  project = var.project
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

resource "google_artifact_registry_repository_iam_member" "build_image_writer" {
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.build.email}"
}
