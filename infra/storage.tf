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
# public access, ever. Object versioning keeps what a bug, a person or an
# attacker overwrites or deletes for noncurrent_version_days, by age only
# (no count limit unless noncurrent_versions_kept is set: rewriting an
# object would otherwise erase its history), unless the optional retention
# policy is set instead (Cloud Storage allows one or the other). README.md
# (Bucket) weighs these and Object Retention Lock.
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

  # Set at creation only: the provider replaces the bucket to change it.
  enable_object_retention = var.object_retention_enabled

  dynamic "soft_delete_policy" {
    for_each = var.soft_delete_days == null ? [] : [var.soft_delete_days]
    content {
      retention_duration_seconds = soft_delete_policy.value * 86400
    }
  }

  dynamic "retention_policy" {
    for_each = local.retention_enabled ? [var.bucket_retention_days] : []
    content {
      retention_period = tostring(retention_policy.value * 86400)
      is_locked        = var.bucket_retention_locked
    }
  }

  # Noncurrent versions: deleted noncurrent_version_days after they stopped
  # being current.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.noncurrent_version_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  # And, only if noncurrent_versions_kept is set, beyond that many newer
  # versions of the same object.
  dynamic "lifecycle_rule" {
    for_each = var.noncurrent_versions_kept == null ? [] : [var.noncurrent_versions_kept]
    content {
      condition {
        num_newer_versions = lifecycle_rule.value
        with_state         = "ARCHIVED"
      }
      action {
        type = "Delete"
      }
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
