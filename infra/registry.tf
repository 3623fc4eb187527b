# The flow, as the code defines it: this file mirrors functions/registry.ts
# (every Cloud Function by the exact name it registers, the topic role that
# triggers it and the roles it publishes to) and shared/bus/topics.ts (every
# topic role). Every function and topic resource in infra/ is a for_each over
# these tables, keyed by those names. test/unit/infra/infra.test.ts proves
# the tables, and what is built from them, match the code in both directions.
#
# Each function also carries its size and exactly the permissions its code
# uses. Publishing is not among them: it is granted per topic, on the topics
# in `publishes` only (iam.tf). Project-level permissions (Compute Engine,
# GKE) go in `project_permissions`; object permissions in
# `bucket_permissions`, granted on the backup bucket only; object writes
# allowed on some keys only in `confined_object_writes`. Kubernetes access
# needs only container.clusters.get (endpoint and CA); what the function may
# do inside a cluster is granted by that cluster's RBAC (see README.md).
#
# Sizes: Cloud Functions (2nd gen) give CPU in proportion to memory (1 vCPU
# at 2Gi), and a Pub/Sub push waits at most 600 s for the response, so no
# timeout exceeds 540 s, the event-function limit the design is built around:
# work that may take longer is split into messages by the code.
locals {
  api_version = "lifeboat.dev/v1"

  topic_roles = [
    "schedule",
    "backup-jobs",
    "export-shards",
    "disk-snapshots",
    "backup-parts",
    "backup-completed",
    "restore",
    "restore-completed",
    "cluster-events",
    "cluster-responses",
    "retention",
    "drill",
    "drill-completed",
  ]

  functions = {
    # Lists the clusters a policy matches (a few paginated Container API
    # calls per project and location; listing is all it asks of the API)
    # and publishes one small ClusterBackupJob per cluster. Holds nothing
    # large: the smallest size. 120 s covers dozens of projects with client
    # retries.
    enumerateClusters = {
      trigger             = "schedule"
      publishes           = ["backup-jobs"]
      memory              = "256Mi"
      timeout             = 120
      max_instances       = 5
      kms                 = false
      project_permissions = ["container.clusters.list"]
      bucket_permissions  = []
    }

    # Discovers the cluster's API resources and its persistent volumes,
    # writes the plan (parts/plan.json) and publishes one ExportShard per
    # slice and one VolumeSnapshotJob per volume. Holds the discovery
    # document and the plan, a few MB even for large clusters; 512Mi leaves
    # headroom for the Kubernetes client. Discovery on a slow API server
    # with many CRDs can take minutes: 300 s.
    exportManifests = {
      trigger             = "backup-jobs"
      publishes           = ["export-shards", "disk-snapshots", "backup-parts", "backup-completed"]
      memory              = "512Mi"
      timeout             = 300
      max_instances       = 10
      kms                 = true
      project_permissions = ["container.clusters.get"]
      bucket_permissions  = ["storage.objects.create", "storage.objects.get", "storage.objects.list"]
    }

    # The heaviest backup step: streams one slice of a LIST, sanitises,
    # hashes (sha256), gzips, encrypts Secrets and uploads every object
    # not yet stored. CPU-bound, so 1Gi (about 0.6 vCPU) and the full 540 s;
    # memory is bounded by the page size, not the cluster size, and a slice
    # that runs out of time publishes its continuation. A pack it finds in
    # the store but not in its base catalog is touched (a metadata update,
    # storage.objects.update) so retention's grace keeps it.
    exportShard = {
      trigger             = "export-shards"
      publishes           = ["export-shards", "backup-parts"]
      memory              = "1Gi"
      timeout             = 540
      max_instances       = 20
      kms                 = true
      project_permissions = ["container.clusters.get"]
      bucket_permissions = [
        "storage.objects.create",
        "storage.objects.get",
        "storage.objects.list",
        "storage.objects.update",
      ]
    }

    # Snapshots one volume per message (a GCE persistent disk, or a CSI
    # VolumeSnapshot through the cluster) and waits until it is READY, then
    # writes its part. Mostly waiting on Compute Engine operations: little
    # memory, the full 540 s. A snapshot still uploading when the
    # invocation's budget runs out is handed over: the job is published
    # again to disk-snapshots and the next invocation adopts the snapshot
    # by its name, until READY or the policy's snapshotTimeoutSeconds since
    # the first attempt. Snapshots are created with snapshots.insert, a
    # global operation; the quota is read first.
    snapshotDisks = {
      trigger       = "disk-snapshots"
      publishes     = ["disk-snapshots", "backup-parts"]
      memory        = "256Mi"
      timeout       = 540
      max_instances = 10
      kms           = false
      project_permissions = [
        "compute.disks.createSnapshot",
        "compute.disks.get",
        "compute.globalOperations.get",
        "compute.projects.get",
        "compute.snapshots.create",
        "compute.snapshots.get",
        "compute.snapshots.setLabels",
        "container.clusters.get",
      ]
      bucket_permissions = ["storage.objects.create", "storage.objects.get"]
    }

    # Reads the plan and every part of one backup (each part once per
    # instance) and, when all are in, writes catalog.json (with
    # ifGenerationMatch=0) and its seal (an HMAC under the data key, hence
    # kms), then announces it once: a numbered write-once claim, the
    # BackupCompleted message, announced.json. It deletes nothing. Holds
    # the whole object index in memory: about 1 KB per object, so 512Mi
    # covers clusters of 100k+ objects. 300 s.
    emitCatalog = {
      trigger             = "backup-parts"
      publishes           = ["backup-completed"]
      memory              = "512Mi"
      timeout             = 300
      max_instances       = 10
      kms                 = true
      project_permissions = []
      bucket_permissions  = ["storage.objects.create", "storage.objects.get", "storage.objects.list"]
    }

    # The heaviest function: verifies the catalog (hashing every object it
    # restores), creates disks from snapshots and waits for them, applies
    # manifests in dependency order, decrypts Secrets, and rewrites its
    # progress as it goes. It reads the whole store but writes only its own
    # objects (confined_object_writes below), so it cannot delete or replace
    # a backup. 2Gi buys a full vCPU for hashing and decompression; the full
    # 540 s, continuing through its own topic when a step needs more. Disks
    # are created with labels (compute.disks.setLabels) in zones or regions,
    # so both operation kinds are awaited; the regional quota is read first.
    restore = {
      trigger       = "restore"
      publishes     = ["restore", "restore-completed"]
      memory        = "2Gi"
      timeout       = 540
      max_instances = 5
      kms           = true
      project_permissions = [
        "compute.disks.create",
        "compute.disks.get",
        "compute.disks.setLabels",
        "compute.regionOperations.get",
        "compute.regions.get",
        "compute.snapshots.useReadOnly",
        "compute.zoneOperations.get",
        "container.clusters.get",
      ]
      bucket_permissions = ["storage.objects.get", "storage.objects.list"]
    }

    # On a DeleteCluster audit entry: last-chance snapshots of the
    # cluster's disks (the same calls as snapshotDisks, same waiting, so
    # the full 540 s), locks its latest backups, and may request a restore
    # into the standby cluster. 512Mi: it reads the latest catalog to find
    # the disks, and seals the last-chance backup's catalog with the data
    # key (kms). container.clusters.get: the Container API confirms a
    # deletion (and a recreated cluster's creation time) before it acts.
    clusterEvents = {
      trigger       = "cluster-events"
      publishes     = ["cluster-responses", "restore"]
      memory        = "512Mi"
      timeout       = 540
      max_instances = 5
      kms           = true
      project_permissions = [
        "compute.disks.createSnapshot",
        "compute.disks.get",
        "compute.globalOperations.get",
        "compute.projects.get",
        "compute.snapshots.create",
        "compute.snapshots.get",
        "compute.snapshots.setLabels",
        "container.clusters.get",
      ]
      bucket_permissions = ["storage.objects.create", "storage.objects.get", "storage.objects.list"]
    }

    # Lists catalogs and snapshots and deletes what has expired: paginated
    # listings, nothing held, so the smallest size; the full 540 s for large
    # buckets (what is left is picked up by the next tick, every step is
    # idempotent). It marks a backup expiring.json before deleting it, and
    # finishes abandoned backups: it writes their catalog and seal (with
    # the data key, hence kms). A snapshot is deleted only if it carries
    # Lifeboat's label (compute.snapshots.get), and its deletion, a global
    # operation, is awaited.
    retention = {
      trigger       = "retention"
      publishes     = []
      memory        = "256Mi"
      timeout       = 540
      max_instances = 1
      kms           = true
      project_permissions = [
        "compute.globalOperations.get",
        "compute.snapshots.delete",
        "compute.snapshots.get",
      ]
      bucket_permissions = [
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.list",
      ]
    }

    # A restore drill: a job without a cluster (the scheduler's) lists the
    # clusters its policy selects (container.clusters.list) and publishes
    # one drill per cluster to its own topic; a drill restores the latest
    # Completed backup through the ordinary restore path into the policy's
    # drill cluster (so it needs what restore needs: the data key, disks
    # created from snapshots with labels), compares every object with the
    # catalog, then deletes every object and disk it made and waits until
    # they are gone (compute.disks.delete, awaited as zonal or regional
    # operations). Like restore, it reads the whole store and writes only
    # its own objects (confined_object_writes). 2Gi for hashing and
    # decompression, as restore; the full 540 s.
    drill = {
      trigger       = "drill"
      publishes     = ["drill", "drill-completed"]
      memory        = "2Gi"
      timeout       = 540
      max_instances = 2
      kms           = true
      project_permissions = [
        "compute.disks.create",
        "compute.disks.delete",
        "compute.disks.get",
        "compute.disks.setLabels",
        "compute.regionOperations.get",
        "compute.regions.get",
        "compute.snapshots.useReadOnly",
        "compute.zoneOperations.get",
        "container.clusters.get",
        "container.clusters.list",
      ]
      bucket_permissions = ["storage.objects.get", "storage.objects.list"]
    }
  }

  # Object writes a function may make only on some keys of the store,
  # granted on the backup bucket with an IAM condition on the object name
  # (iam.tf), when granting them everywhere would let it delete or replace
  # backups: `key_prefixes` are prefixes of store keys, `backup_files`
  # files of every backup's directory (backups/<cluster>/<backup>/<file>;
  # "leases/" is every .json file of its leases/ directory). Keys are those
  # of shared/catalog/layout.ts; test/unit/infra checks that each condition
  # admits them and refuses every other key of a backup.
  confined_object_writes = {
    # Creates and deletes (so replaces): restores/<id>/progress.json (its
    # claim and progress: created only if absent, rewritten each step,
    # deleted at the end) and report.json; the lease on the backup it reads
    # (leases/<id>.json: written, renewed each step, deleted at the end).
    restore = {
      permissions  = ["storage.objects.create", "storage.objects.delete"]
      key_prefixes = ["restores/"]
      backup_files = ["leases/"]
    }

    # The drill's restore writes what a restore writes (above); the drill
    # adds its report beside the backup it drilled
    # (backups/<cluster>/<backup>/drills/<id>.json) and its index entry
    # (drills/<id>.json), and deletes nothing of the backup.
    drill = {
      permissions  = ["storage.objects.create", "storage.objects.delete"]
      key_prefixes = ["restores/", "drills/"]
      backup_files = ["leases/", "drills/"]
    }
  }

  # Derived from the tables above; nothing new is declared below this line.

  # Deployed names. Cloud Functions (2nd gen) ids and service account ids
  # allow lowercase letters, digits and hyphens only, so the deployed name
  # is the registered name in kebab case (exportShard -> lifeboat-export-shard);
  # the entry point stays the registered name.
  function_slugs = { for name, f in local.functions : name => lower(replace(name, "/([A-Z])/", "-$1")) }
  function_ids   = { for name, slug in local.function_slugs : name => "${var.prefix}${slug}" }
  # Custom role ids allow letters, digits, _ and . only.
  role_prefix = replace(var.prefix, "-", "_")

  # One entry per (function, topic it publishes to): "exportShard/backup-parts".
  publish_bindings = merge([
    for name, f in local.functions : {
      for role in f.publishes : "${name}/${role}" => { function = name, topic = role }
    }
  ]...)

  project_role_functions = { for name, f in local.functions : name => f if length(f.project_permissions) > 0 }
  bucket_role_functions  = { for name, f in local.functions : name => f if length(f.bucket_permissions) > 0 }
  kms_functions          = { for name, f in local.functions : name => f if f.kms && var.kms_enabled }
}
