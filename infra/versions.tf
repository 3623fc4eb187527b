terraform {
  # Checked with OpenTofu 1.12 (local/build-tofu.sh) and deployed with
  # Terraform 1.11 (cloudbuild.yaml): only features both share. 1.9 is the
  # first to allow a variable's validation to refer to another variable.
  required_version = ">= 1.9.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
  }

  # State in a Cloud Storage bucket named at init time:
  #   terraform init -backend-config=bucket=BUCKET -backend-config=prefix=lifeboat
  backend "gcs" {}
}

provider "google" {
  project = var.project
  region  = var.region

  default_labels = {
    app = "lifeboat"
  }
}

data "google_project" "this" {
  project_id = var.project
}
