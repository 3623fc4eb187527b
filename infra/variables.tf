variable "project" {
  description = "The Google Cloud project Lifeboat is deployed into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{4,28}[a-z0-9]$", var.project))
    error_message = "project must be a project id (6-30 lowercase letters, digits and hyphens)."
  }
}

variable "region" {
  description = "Region of the functions, the scheduler jobs, the KMS key and (by default) the bucket."
  type        = string
  default     = "us-central1"
}

variable "prefix" {
  description = <<-EOT
    Prefix of every deployed name: topics are "<prefix><role>" (LIFEBOAT_TOPIC_PREFIX
    of the functions), functions and service accounts "<prefix><kebab-name>". Change it
    to deploy a second, independent Lifeboat into the same project.
  EOT
  type        = string
  default     = "lifeboat-"

  validation {
    # Service account ids are at most 30 characters; the longest function
    # id (enumerate-clusters) takes 18.
    condition     = can(regex("^[a-z][a-z0-9-]{0,11}$", var.prefix))
    error_message = "prefix must be 1-12 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }
}

variable "bucket_name" {
  description = "Name of the backup bucket; default \"<project>-<prefix>backups\"."
  type        = string
  default     = null
}

variable "bucket_location" {
  description = "Location of the backup bucket (a region, dual-region or multi-region); default: var.region. A multi-region keeps backups through a regional outage."
  type        = string
  default     = null
}

variable "noncurrent_version_days" {
  description = <<-EOT
    Object versioning keeps what is replaced or deleted in the backup bucket (by a bug, a
    person, or an attacker holding a function's identity) as a noncurrent version for this
    many days, then lifecycle deletes it. It is the window in which tampering can be
    undone: make it longer than the time you need to notice it (alerting, audits, an
    incident that starts on a Friday), 30 days at least. The cost: what Lifeboat's own
    retention deletes (expired backups) is kept as noncurrent versions this long too.
  EOT
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_days >= 1 && floor(var.noncurrent_version_days) == var.noncurrent_version_days
    error_message = "noncurrent_version_days must be a whole number of days (30 or more is advised)."
  }
}

variable "noncurrent_versions_kept" {
  description = <<-EOT
    Optional: also delete noncurrent versions beyond this many newer versions of the same
    object. null (the default) sets no count limit, and it should stay so: with a count
    limit, whoever can write an object can erase its history by rewriting it that many
    times, long before noncurrent_version_days. Set one only to bound the cost of objects
    Lifeboat rewrites often, knowing it shortens the tampering window to that many writes.
  EOT
  type        = number
  default     = null

  validation {
    condition     = var.noncurrent_versions_kept == null || try(var.noncurrent_versions_kept >= 1 && floor(var.noncurrent_versions_kept) == var.noncurrent_versions_kept, false)
    error_message = "noncurrent_versions_kept must be null (no count limit) or a whole number, 1 or more."
  }
}

variable "soft_delete_days" {
  description = <<-EOT
    Optional soft-delete retention of the backup bucket, in days (7 to 90): a deleted
    object version, noncurrent ones included, can still be restored this long, even when
    whoever deleted it was allowed to (versioning alone does not stop an identity that may
    delete from deleting the noncurrent versions too). null (the default) leaves the
    bucket's own setting, 7 days for a new bucket unless an organisation policy says
    otherwise.
  EOT
  type        = number
  default     = null

  validation {
    condition     = var.soft_delete_days == null || try(var.soft_delete_days >= 7 && var.soft_delete_days <= 90 && floor(var.soft_delete_days) == var.soft_delete_days, false)
    error_message = "soft_delete_days must be null (the bucket's setting) or a whole number of days from 7 to 90."
  }
}

variable "object_retention_enabled" {
  description = <<-EOT
    Enable Object Retention Lock on the backup bucket (enable_object_retention): each object
    may then carry its own retain-until time, before which nobody can delete or replace it
    (in Locked mode not even to shorten it). Enabling it protects nothing by itself:
    Lifeboat sets no retention on what it writes, so retention is set per object by an
    operator (gcloud storage objects update --retain-until ... --retention-mode ...), for
    instance on the catalog, seal and packs of backups that must survive an incident; and
    Lifeboat's retention then fails to delete those until their time has passed. The
    provider can set it only when the bucket is created: changing it later plans to
    replace the bucket, which fails on a bucket with objects (force_destroy is false).
  EOT
  type        = bool
  default     = false
}

variable "bucket_retention_days" {
  description = <<-EOT
    Optional bucket retention policy, in days: no object can be deleted or replaced before
    it is this old, whoever asks (ransomware, a mistaken script). 0 (the default) sets no
    policy. Cloud Storage does not allow a retention policy together with object
    versioning, so setting this turns versioning off: the policy then protects every
    object instead. It binds Lifeboat as well: the restore function rewrites and removes
    its progress and its lease within minutes, so every restore from this bucket fails
    (the pipeline's and the CLI's alike), and the retention sweep cannot remove its
    expiring markers nor delete backups younger than this; see README.md (Bucket) before
    setting it.
  EOT
  type        = number
  default     = 0

  validation {
    condition     = var.bucket_retention_days >= 0 && floor(var.bucket_retention_days) == var.bucket_retention_days
    error_message = "bucket_retention_days must be a whole number of days, 0 for none."
  }
}

variable "bucket_retention_locked" {
  description = "Lock the retention policy (Bucket Lock). IRREVERSIBLE: a locked policy can never be shortened or removed, and the bucket cannot be deleted until every object has aged out."
  type        = bool
  default     = false

  validation {
    condition     = !var.bucket_retention_locked || var.bucket_retention_days > 0
    error_message = "bucket_retention_locked needs bucket_retention_days > 0."
  }
}

variable "kms_enabled" {
  description = "Create a Cloud KMS key for the envelope encryption of Secrets in backups (LIFEBOAT_KMS_KEY) and let the functions that load the data key use it. Off, the functions get no key: a backup policy that selects Secrets then fails at planning, saying so."
  type        = bool
  default     = true
}

variable "kms_rotation_days" {
  description = "Rotation period of the KMS key, in days. The store's data key stays wrapped by the version that first wrapped it, so never disable or destroy an old version while backups exist: every backup of the store needs it."
  type        = number
  default     = 90
}

variable "backup_policies" {
  description = <<-EOT
    Backup policies by name. Each gets a Cloud Scheduler job that publishes a ScheduleTick
    carrying the whole policy to the schedule topic on its cron `schedule`. The fields are
    those of BackupPolicy in shared/messages/common.ts, in snake_case; omitted fields take
    the same defaults as there.
  EOT
  type = map(object({
    schedule       = string
    time_zone      = optional(string, "Etc/UTC")
    projects       = list(string)
    locations      = optional(list(string), ["-"])
    cluster_names  = optional(list(string), ["*"])
    cluster_labels = optional(map(string), {})
    filters = optional(object({
      include_namespaces        = optional(list(string), ["*"])
      exclude_namespaces        = optional(list(string), [])
      include_resources         = optional(list(string), ["*"])
      exclude_resources         = optional(list(string), [])
      label_selector            = optional(string)
      include_cluster_resources = optional(string, "auto")
    }))
    snapshot_volumes           = optional(bool, true)
    csi_snapshot_classes       = optional(map(string))
    snapshot_storage_locations = optional(list(string))
    snapshot_type              = optional(string)
    snapshot_timeout_seconds   = optional(number, 480)
    ttl_days                   = optional(number, 30)
    keep_last                  = optional(number)
    delete_lock_days           = optional(number, 0)
    standby_cluster            = optional(object({ project = string, location = string, name = string }))
    restore_on_recreate        = optional(bool, false)
  }))
  default = {}

  validation {
    condition     = alltrue([for name in keys(var.backup_policies) : can(regex("^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", name))])
    error_message = "Backup policy names must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition = alltrue([for p in values(var.backup_policies) : (
      contains(["STANDARD", "ARCHIVE"], coalesce(p.snapshot_type, "STANDARD")) &&
      p.snapshot_timeout_seconds >= 10 && p.snapshot_timeout_seconds <= 3600 &&
      p.ttl_days >= 1 && p.delete_lock_days >= 0
    )])
    error_message = "In every backup policy: snapshot_type is STANDARD or ARCHIVE, snapshot_timeout_seconds 10-3600, ttl_days >= 1, delete_lock_days >= 0."
  }
}

variable "restore_plans" {
  description = <<-EOT
    Restore plans by name: whose backups may be restored, into which clusters and how. A
    RestoreRequest names a plan and may only narrow it (fewer namespaces or resources, or a
    dry run); what no plan allows cannot be restored, whoever publishes the request. The
    fields are those of RestorePlan and RestoreOptions in shared/messages/restore.ts, in
    snake_case; omitted fields take the same defaults as there. source_clusters are
    patterns (location "-" is every location, name a glob); target_clusters exact clusters;
    restore_into_source also allows restoring a backup into the cluster it was taken from.
    In a transformation's patch, `value` is a string value and `value_json` any JSON value
    (jsonencode(3), jsonencode({ ... })): set at most one. The plans a backup policy
    implies (standby:<policy> for its standby_cluster, recreate:<policy> for
    restore_on_recreate) are derived from the policy: do not declare them here.
  EOT
  type = map(object({
    description = optional(string)
    source_clusters = list(object({
      project  = string
      location = optional(string, "-")
      name     = optional(string, "*")
    }))
    target_clusters     = optional(list(object({ project = string, location = string, name = string })), [])
    restore_into_source = optional(bool, false)
    options = optional(object({
      include_namespaces = optional(list(string), ["*"])
      exclude_namespaces = optional(list(string), [])
      include_resources  = optional(list(string), ["*"])
      exclude_resources  = optional(list(string), [])
      namespace_mapping  = optional(map(string), {})
      conflict_policy    = optional(string, "fail")
      volume_data_policy = optional(string, "restore-from-snapshot")
      zone_mapping       = optional(map(string), {})
      target_project     = optional(string)
      transformations = optional(list(object({
        description = optional(string)
        resources   = optional(list(string), ["*"])
        namespaces  = optional(list(string), ["*"])
        names       = optional(list(string), ["*"])
        patch = list(object({
          op         = string
          path       = string
          value      = optional(string)
          value_json = optional(string)
          from       = optional(string)
        }))
      })), [])
      restore_owned_objects = optional(bool, false)
      dry_run               = optional(bool, false)
      parallelism           = optional(number, 16)
    }), {})
  }))
  default = {}

  validation {
    condition     = alltrue([for name in keys(var.restore_plans) : can(regex("^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", name))])
    error_message = "Restore plan names must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit (standby:<policy> and recreate:<policy> are implied by the backup policies, not declared)."
  }

  validation {
    condition = alltrue([for p in values(var.restore_plans) : (
      try(length(p.description) <= 1000, true) &&
      length(p.source_clusters) > 0 &&
      alltrue([for c in p.source_clusters : (
        length(c.project) >= 1 && length(c.project) <= 30 &&
        length(c.location) >= 1 && length(c.location) <= 63 &&
        length(c.name) >= 1 && length(c.name) <= 63
      )]) &&
      alltrue([for c in p.target_clusters : (
        can(regex("^([a-z][-a-z0-9]{4,28}[a-z0-9]|local)$", c.project)) &&
        length(c.location) >= 1 && length(c.location) <= 63 &&
        can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", c.name))
      )]) &&
      (length(p.target_clusters) > 0 || p.restore_into_source)
    )])
    error_message = "In every restore plan: a description of at most 1000 characters; at least one source cluster (project 1-30 characters, location and name 1-63); target clusters with a project id, a location and a cluster name; and at least one target cluster unless restore_into_source is true."
  }

  validation {
    condition = alltrue([for p in values(var.restore_plans) : (
      contains(["fail", "skip", "replace"], p.options.conflict_policy) &&
      contains(["restore-from-snapshot", "reuse-volume-handle", "no-volume-data"], p.options.volume_data_policy) &&
      p.options.parallelism >= 1 && p.options.parallelism <= 64 && floor(p.options.parallelism) == p.options.parallelism &&
      alltrue([for s in concat(
        p.options.include_namespaces, p.options.exclude_namespaces,
        p.options.include_resources, p.options.exclude_resources,
      ) : s != ""])
    )])
    error_message = "In every restore plan's options: conflict_policy is fail, skip or replace; volume_data_policy is restore-from-snapshot, reuse-volume-handle or no-volume-data; parallelism a whole number 1-64; no empty namespace or resource name."
  }

  validation {
    condition = alltrue(flatten([for p in values(var.restore_plans) : [for t in p.options.transformations : (
      length(t.patch) > 0 &&
      alltrue([for s in concat(t.resources, t.namespaces, t.names) : s != ""]) &&
      alltrue([for op in t.patch : (
        contains(["add", "remove", "replace", "copy", "move", "test"], op.op) &&
        startswith(op.path, "/") &&
        try(startswith(op.from, "/"), true) &&
        (op.value == null || op.value_json == null) &&
        (op.value_json == null || can(jsondecode(op.value_json)))
      )])
    )]]))
    error_message = "In every transformation: at least one patch operation; op is add, remove, replace, copy, move or test; path and from are JSON pointers (starting with /); at most one of value and value_json, and value_json valid JSON; no empty resource, namespace or name."
  }
}

variable "drill_policies" {
  description = <<-EOT
    Restore drill policies by name. Each gets a Cloud Scheduler job that publishes a DrillJob
    carrying the whole policy to the drill topic on its cron `schedule`; the drill function
    restores the latest Completed backup of each cluster the policy selects into
    `drill_cluster` (namespaces renamed drill-<id>-<namespace>), compares what came back
    with the catalog, measures the recovery time, removes everything it made and publishes
    DrillCompleted. The fields are those of DrillPolicy in shared/messages/drill.ts, in
    snake_case; omitted fields take the same defaults as there. `drill_cluster` is the only
    cluster a drill of the policy ever writes to: give it a cluster of its own, never a
    production one.
  EOT
  type = map(object({
    schedule           = string
    time_zone          = optional(string, "Etc/UTC")
    projects           = list(string)
    locations          = optional(list(string), ["-"])
    cluster_names      = optional(list(string), ["*"])
    cluster_labels     = optional(map(string), {})
    backup_policies    = optional(list(string))
    drill_cluster      = object({ project = string, location = string, name = string })
    namespaces         = optional(list(string), ["*"])
    exclude_namespaces = optional(list(string), [])
    restore_volumes    = optional(bool, true)
    timeout_seconds    = optional(number, 3600)
    pass = optional(object({
      objects_equal_catalog           = optional(bool, true)
      volumes_bound_to_restored_disks = optional(bool, true)
    }))
  }))
  default = {}

  validation {
    condition     = alltrue([for name in keys(var.drill_policies) : can(regex("^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", name))])
    error_message = "Drill policy names must be 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition = alltrue([for p in values(var.drill_policies) : (
      length(p.schedule) >= 9 && length(p.schedule) <= 100 &&
      length(p.projects) > 0 &&
      can(regex("^([a-z][-a-z0-9]{4,28}[a-z0-9]|local)$", p.drill_cluster.project)) &&
      length(p.drill_cluster.location) >= 1 && length(p.drill_cluster.location) <= 63 &&
      can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", p.drill_cluster.name)) &&
      p.timeout_seconds >= 30 && p.timeout_seconds <= 86400 && floor(p.timeout_seconds) == p.timeout_seconds &&
      alltrue([for b in coalesce(p.backup_policies, ["x"]) : can(regex("^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$", b))]) &&
      try(length(p.backup_policies) > 0, true) &&
      alltrue([for s in concat(p.namespaces, p.exclude_namespaces) : s != ""])
    )])
    error_message = "In every drill policy: a cron schedule (9-100 characters); at least one project; drill_cluster with a project id, a location and a cluster name; timeout_seconds a whole number 30-86400; backup_policies, when set, one or more policy names; no empty namespace."
  }
}

variable "drill_alert_notification_channels" {
  description = <<-EOT
    Cloud Monitoring notification channels (projects/PROJECT/notificationChannels/ID) the
    "restore drill failed" alert policy pages. Empty (the default): the alert policy still
    opens incidents, visible in Cloud Monitoring, but notifies nobody.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.drill_alert_notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "Each notification channel must be projects/PROJECT/notificationChannels/ID."
  }
}

variable "retention_schedule" {
  description = "Cron schedule of the retention tick (expire backups, snapshots and unreferenced objects)."
  type        = string
  default     = "30 3 * * *"
}

variable "retention_dry_run" {
  description = "Make the retention tick report what it would delete without deleting."
  type        = bool
  default     = false
}

variable "retention_time_zone" {
  description = "Time zone of the retention schedule."
  type        = string
  default     = "Etc/UTC"
}

variable "max_delivery_attempts" {
  description = "Deliveries of a message to a function before Pub/Sub moves it to the dead-letter topic of its topic."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub allows 5 to 100 delivery attempts."
  }
}

variable "log_level" {
  description = "LIFEBOAT_LOG_LEVEL of the functions."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be one of trace, debug, info, warn, error."
  }
}

variable "function_entry_module" {
  description = "The compiled module, relative to the repository root, that registers every function with the Functions Framework."
  type        = string
  default     = "dist/functions/index.js"
}

variable "cluster_events_log_parent" {
  description = <<-EOT
    Optional "folders/ID" or "organizations/ID": forward cluster deletions and creations
    with one aggregated log sink there (including every project below it) instead of one
    sink per project the backup policies list. Creating it needs the Logging Admin role
    on that folder or organisation.
  EOT
  type        = string
  default     = null

  validation {
    condition     = var.cluster_events_log_parent == null || can(regex("^(folders|organizations)/[0-9]+$", var.cluster_events_log_parent))
    error_message = "cluster_events_log_parent must be folders/NUMBER or organizations/NUMBER."
  }
}

variable "ui_invokers" {
  description = <<-EOT
    Who may open the catalog browser (the ui function): IAM principals granted
    roles/run.invoker on it, such as "user:alice@example.com",
    "group:sre@example.com" or "serviceAccount:...". Empty (the default): the function
    is deployed but nobody may call it. Public principals (allUsers,
    allAuthenticatedUsers) are refused: backups describe a whole cluster.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.ui_invokers : can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+$", m))])
    error_message = "Each ui_invokers entry must be an IAM principal such as user:EMAIL, group:EMAIL, serviceAccount:EMAIL or domain:DOMAIN; allUsers and allAuthenticatedUsers are not allowed."
  }
}

variable "ui_ingress_settings" {
  description = <<-EOT
    Network ingress of the ui function. ALLOW_ALL (the default) lets invokers reach it
    from their own machine (`gcloud run services proxy`, or an identity token); IAM still
    refuses every caller not in ui_invokers. ALLOW_INTERNAL_ONLY, as the other functions,
    admits only traffic from this project's VPC networks as well.
  EOT
  type        = string
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.ui_ingress_settings)
    error_message = "ui_ingress_settings must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "ui_max_instances" {
  description = "Most instances of the ui function at once."
  type        = number
  default     = 2

  validation {
    condition     = var.ui_max_instances >= 1 && var.ui_max_instances <= 100 && floor(var.ui_max_instances) == var.ui_max_instances
    error_message = "ui_max_instances must be a whole number 1-100."
  }
}
