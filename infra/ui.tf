# The catalog browser (functions/ui.ts): the page of `lifeboat ui` as an
# HTTP function over the backup bucket. It only reads: its own service
# account may read the bucket's objects and, when the KMS key exists,
# decrypt with it (to unwrap the data key and show which keys a Secret has;
# never its values), and nothing else. Nobody may call it but the
# principals in var.ui_invokers: there is no public (allUsers,
# allAuthenticatedUsers) invoker, so the page is reached with an identity
# token (infra/README.md, "The catalog browser").

resource "google_service_account" "ui" {
  account_id   = "${var.prefix}ui"
  display_name = "Lifeboat ui"
  description  = "Runs the ui HTTP function (the catalog browser): reads the backup bucket, writes nothing."

  depends_on = [google_project_service.enabled]
}

# Read-only: storage.objects.get and list, on the backup bucket only.
resource "google_storage_bucket_iam_member" "ui_reader" {
  bucket = google_storage_bucket.backups.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.ui.email}"
}

# Decrypt only: the page unwraps the existing data key, it never wraps one.
resource "google_kms_crypto_key_iam_member" "ui_decrypter" {
  count = var.kms_enabled ? 1 : 0

  crypto_key_id = google_kms_crypto_key.catalog[0].id
  role          = "roles/cloudkms.cryptoKeyDecrypter"
  member        = "serviceAccount:${google_service_account.ui.email}"
}

resource "google_cloudfunctions2_function" "ui" {
  name        = "${var.prefix}ui"
  location    = var.region
  description = "Lifeboat ui: the catalog browser (HTTP, read-only, IAM invokers only)"

  build_config {
    runtime           = "nodejs22"
    entry_point       = "ui"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    environment_variables = {
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
    # A page load is a few requests at once (the page, its script and
    # styles): one instance serves them together, which Cloud Run allows
    # from one vCPU.
    available_memory                 = "1Gi"
    available_cpu                    = "1"
    timeout_seconds                  = 60
    max_instance_count               = var.ui_max_instances
    min_instance_count               = 0
    max_instance_request_concurrency = 16
    ingress_settings                 = var.ui_ingress_settings
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.ui.email

    environment_variables = merge(
      {
        LIFEBOAT_STORE     = local.store_url
        LIFEBOAT_PROJECT   = var.project
        LIFEBOAT_LOG_LEVEL = var.log_level
      },
      var.kms_enabled ? { LIFEBOAT_KMS_KEY = google_kms_crypto_key.catalog[0].id } : {},
    )
  }

  depends_on = [
    google_project_iam_member.build_log_writer,
    google_storage_bucket_iam_member.build_source_reader,
    google_artifact_registry_repository_iam_member.build_image_writer,
  ]
}

# The only way in: the invoker role on the function's Cloud Run service,
# for exactly the principals listed (none by default).
resource "google_cloud_run_v2_service_iam_member" "ui_invoker" {
  for_each = toset(var.ui_invokers)

  location = var.region
  name     = google_cloudfunctions2_function.ui.service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}
