# Optional Cloud KMS key for the envelope encryption of Secrets in backups:
# the store's data key is wrapped with it (LIFEBOAT_KMS_KEY). Only the
# functions that load the data key (registry.tf kms = true: to seal or open
# Secrets and catalogs) may use it, and only for encrypt/decrypt. Without it, Secrets are encrypted with a
# key file in local mode only; deployed, enable it.

resource "google_kms_key_ring" "lifeboat" {
  count = var.kms_enabled ? 1 : 0

  name     = "${var.prefix}keys"
  location = var.region

  depends_on = [google_project_service.enabled]
}

resource "google_kms_crypto_key" "catalog" {
  count = var.kms_enabled ? 1 : 0

  name            = "catalog"
  key_ring        = google_kms_key_ring.lifeboat[0].id
  purpose         = "ENCRYPT_DECRYPT"
  rotation_period = "${var.kms_rotation_days * 86400}s"

  # Destroying the key makes every backup's Secrets unreadable.
  lifecycle {
    prevent_destroy = true
  }
}

resource "google_kms_crypto_key_iam_member" "function" {
  for_each = local.kms_functions

  crypto_key_id = google_kms_crypto_key.catalog[0].id
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:${google_service_account.function[each.key].email}"
}
