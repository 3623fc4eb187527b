# One Cloud Function (2nd gen, nodejs22) per function of the registry, all
# deployed from one source archive: the compiled code of the repository
# (run `npm run build` first; cloudbuild.yaml does), zipped and uploaded by
# Terraform. The entry point is the name the function registers with the
# Functions Framework; the archive's index.js loads the module that
# registers them all.

locals {
  repo_root = "${path.module}/.."

  # Only the compiled code the functions run: no tests, no TypeScript, no
  # demo, no source maps.
  source_files = fileset(local.repo_root, "dist/{functions,shared}/**/*.js")

  # The repository's package.json with its scripts removed (the code is
  # already built, so the buildpack has nothing to compile) and main pointing
  # at index.js. Dependencies are kept exactly, so npm ci still matches
  # package-lock.json.
  source_package_json = jsonencode(merge(
    jsondecode(file("${local.repo_root}/package.json")),
    { main = "index.js", scripts = {} },
  ))
}

data "archive_file" "source" {
  type        = "zip"
  output_path = "${path.module}/.terraform/lifeboat-functions-source.zip"

  dynamic "source" {
    for_each = local.source_files
    content {
      content  = file("${local.repo_root}/${source.value}")
      filename = source.value
    }
  }

  source {
    content  = local.source_package_json
    filename = "package.json"
  }

  source {
    content  = file("${local.repo_root}/package-lock.json")
    filename = "package-lock.json"
  }

  source {
    content  = "export * from './${var.function_entry_module}';\n"
    filename = "index.js"
  }

  lifecycle {
    precondition {
      condition     = contains(local.source_files, var.function_entry_module)
      error_message = "${var.function_entry_module} is missing: run `npm ci && npm run build` at the repository root before terraform plan/apply."
    }
  }
}

# Named by content, so a code change uploads a new object and redeploys.
resource "google_storage_bucket_object" "source" {
  name   = "functions/${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.sources.name
  source = data.archive_file.source.output_path
}

resource "google_artifact_registry_repository" "functions" {
  location      = var.region
  repository_id = "${var.prefix}functions"
  format        = "DOCKER"
  description   = "Images of the Lifeboat functions, built by Cloud Functions."

  depends_on = [google_project_service.enabled]
}

resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  name        = local.function_ids[each.key]
  location    = var.region
  description = "Lifeboat ${each.key}: ${each.value.trigger} -> [${join(", ", each.value.publishes)}]"

  build_config {
    runtime           = "nodejs22"
    entry_point       = each.key
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    environment_variables = {
      # Install dependencies only, not devDependencies (TypeScript, linters,
      # the Node binary package): the code is already compiled.
      NPM_CONFIG_OMIT = "dev"
    }

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = each.value.memory
    timeout_seconds                  = each.value.timeout
    max_instance_count               = each.value.max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    # Reached only by Pub/Sub push from this project (internal traffic) with
    # an OIDC token of the push service account.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function[each.key].email

    environment_variables = merge(
      {
        LIFEBOAT_STORE        = local.store_url
        LIFEBOAT_PROJECT      = var.project
        LIFEBOAT_TOPIC_PREFIX = var.prefix
        LIFEBOAT_LOG_LEVEL    = var.log_level
        # The backup policies and restore plans (deployment.tf): what a
        # message may ask this function to do.
        LIFEBOAT_DEPLOYMENT = local.deployment_json
      },
      contains(keys(local.kms_functions), each.key) ? { LIFEBOAT_KMS_KEY = google_kms_crypto_key.catalog[0].id } : {},
    )
  }

  lifecycle {
    # Cloud Run functions allow 32 KiB of environment variables in all.
    precondition {
      condition     = length(local.deployment_json) <= 28 * 1024
      error_message = "The rendered backup_policies and restore_plans (LIFEBOAT_DEPLOYMENT) take ${length(local.deployment_json)} characters; functions allow 32 KiB of environment variables in all, so keep them under 28 KiB."
    }
  }

  depends_on = [
    google_project_iam_member.build_log_writer,
    google_storage_bucket_iam_member.build_source_reader,
    google_artifact_registry_repository_iam_member.build_image_writer,
  ]
}

# Only the push identity may invoke a function (on its Cloud Run service).
resource "google_cloud_run_v2_service_iam_member" "push_invoker" {
  for_each = local.functions

  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.push.email}"
}
