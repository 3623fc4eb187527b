locals {
  bucket_name       = coalesce(var.bucket_name, "${var.project}-${var.prefix}backups")
  retention_enabled = var.bucket_retention_days > 0

  # The store's keys are object names under this prefix of the bucket ("":
  # its root). LIFEBOAT_STORE (functions.tf) and the IAM conditions on
  # object names (iam.tf) are both built from it.
  store_key_prefix = ""
  store_url        = "gs://${google_storage_bucket.backups.name}${local.store_key_prefix == "" ? "" : "/${trimsuffix(local.store_key_prefix, "/")}"}"
}

# The catalog store (LIFEBOAT_STORE). Uniform access: IAM only, no ACLs; no
# public access, ever. Object versioning keeps what a bug or a person
# overwrites or deletes for noncurrent_version_days, unless the optional
# retention policy is set instead (Cloud Storage allows one or the other).
resource "google_storage_bucket" "backups" {
  name                        = local.bucket_name
  location                    = coalesce(var.bucket_location, var.region)
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Backups are what is left after a disaster: never deleted with the stack.
  force_destroy = false

  versioning {
    enabled = !local.retention_enabled
  }

  dynamic "retention_policy" {
    for_each = local.retention_enabled ? [var.bucket_retention_days] : []
    content {
      retention_period = tostring(retention_policy.value * 86400)
      is_locked        = var.bucket_retention_locked
    }
  }

  # Noncurrent versions: deleted after noncurrent_version_days, and beyond
  # the noncurrent_versions_kept newest of each object.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      num_newer_versions = var.noncurrent_versions_kept
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  depends_on = [google_project_service.enabled]
}

# Function source archives (functions.tf). Old archives are not needed once
# their build is done; keep a few months for rollbacks.
resource "google_storage_bucket" "sources" {
  name                        = "${var.project}-${var.prefix}sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.enabled]
}
