# Least privilege: one service account per function, holding only
#  - its custom project role (registry.tf project_permissions), if any;
#  - its custom role on the backup bucket (bucket_permissions), if any;
#  - its custom role on the backup bucket limited by an IAM condition to the
#    objects it writes (confined_object_writes), if any;
#  - roles/pubsub.publisher on each topic it publishes to, and no other;
#  - the KMS key, for the functions that encrypt or decrypt Secrets.
# No predefined broad role (editor, *.admin, storage.objectAdmin ...) is
# granted to any function.

locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # IAM conditions name an object projects/_/buckets/<bucket>/objects/<name>;
  # the store's keys are names under store_key_prefix (storage.tf). Only
  # startsWith, endsWith, extract, == and != exist on resource.name, and
  # extract("...{x}/...") gives the shortest text between the literal parts
  # ("" when they do not match).
  store_object_root = "projects/_/buckets/${local.bucket_name}/objects/${local.store_key_prefix}"
  backups_root      = "${local.store_object_root}backups/"

  # A file (or, ending in "/", a directory of .json files) in a backup's
  # directory, backups/<cluster>/<backup>/<file>: under backups/ with the
  # file at the end (startsWith, endsWith), somewhere below (the first
  # extract), and not right below <cluster> (the first extract differs from
  # the second), so what a backup named like the file or directory holds
  # (its catalog, seal, lock) stays out of reach. Cluster keys and backup
  # ids have no "/"; of the other keys Layout builds under backups/, only
  # the parts of a shard named plainly "leases" (a core resource Kubernetes
  # does not have) would match leases/ too.
  backup_file_conditions = {
    for file in distinct(flatten([for w in values(local.confined_object_writes) : w.backup_files])) : file => join(" && ", [
      "resource.name.startsWith(\"${local.backups_root}\")",
      "resource.name.endsWith(\"${endswith(file, "/") ? ".json" : "/${file}"}\")",
      "resource.name.extract(\"${local.backups_root}{dir}/${file}\") != \"\"",
      "resource.name.extract(\"${local.backups_root}{dir}/${file}\") != resource.name.extract(\"${local.backups_root}{cluster}/\")",
    ])
  }

  confined_write_conditions = {
    for name, w in local.confined_object_writes : name => join(" && ", [
      "resource.type == \"storage.googleapis.com/Object\"",
      "(${join(" || ", concat(
        [for prefix in w.key_prefixes : "resource.name.startsWith(\"${local.store_object_root}${prefix}\")"],
        [for file in w.backup_files : "(${local.backup_file_conditions[file]})"],
      ))})",
    ])
  }
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

# Writes confined to some objects: a custom role with the write
# permissions, granted on the backup bucket under an IAM condition on the
# object name (the restore function may create and delete its own progress,
# reports and leases, and nothing of a backup).
resource "google_project_iam_custom_role" "function_confined_writes" {
  for_each = local.confined_object_writes

  role_id     = "${local.role_prefix}${each.key}ConfinedWrites"
  title       = "Lifeboat ${each.key} (its own objects)"
  description = "The object writes of the ${each.key} function, granted on the backup bucket for its own objects only."
  permissions = each.value.permissions
}

resource "google_storage_bucket_iam_member" "function_confined_writes" {
  for_each = local.confined_object_writes

  bucket = google_storage_bucket.backups.name
  role   = google_project_iam_custom_role.function_confined_writes[each.key].id
  member = "serviceAccount:${google_service_account.function[each.key].email}"

  condition {
    title       = "${each.key}-own-objects"
    description = "Only the objects the ${each.key} function writes (registry.tf confined_object_writes)."
    expression  = local.confined_write_conditions[each.key]
  }
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
