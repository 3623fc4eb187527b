# Every topic of the flow (shared/bus/topics.ts), each with a dead-letter
# topic and a pull subscription on that dead-letter topic that keeps what
# lands there for a week, for inspection and replay.
#
# How functions are triggered: each function has a Pub/Sub PUSH subscription
# on its trigger topic, pushing to the function's URL, rather than an
# Eventarc trigger (event_trigger with RETRY_POLICY_RETRY). The reason is
# the dead-letter policy: Eventarc creates and owns the subscription of a
# Pub/Sub trigger, so Terraform cannot set a dead-letter topic or a retry
# backoff on it, and a poison message would be retried for as long as it is
# retained. A push subscription we own gives the same delivery (the
# Functions Framework turns the push body into the same
# google.cloud.pubsub.topic.v1.messagePublished CloudEvent, with
# data.message, for a function registered with cloudEvent()) and the same
# retry semantics as RETRY_POLICY_RETRY (any non-2xx response is retried),
# plus an exponential backoff and, after max_delivery_attempts, the
# dead-letter topic. The push is authenticated with an OIDC token of a
# dedicated service account that may invoke the functions and nothing else.

resource "google_pubsub_topic" "topic" {
  for_each = toset(local.topic_roles)

  name = "${var.prefix}${each.key}"

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = toset(local.topic_roles)

  name = "${var.prefix}${each.key}-dead-letter"

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "dead_letter" {
  for_each = toset(local.topic_roles)

  name                       = "${var.prefix}${each.key}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"

  expiration_policy {
    ttl = ""
  }
}

# One push subscription per function, on its trigger topic, named
# "<prefix><topic role>-<function id>".
resource "google_pubsub_subscription" "trigger" {
  for_each = local.functions

  name  = "${var.prefix}${each.value.trigger}-${local.function_slugs[each.key]}"
  topic = google_pubsub_topic.topic[each.value.trigger].id

  # For a push subscription this is how long Pub/Sub waits for the
  # function's response before it counts the delivery as failed: longer
  # than the function's timeout, so a slow success is not retried while it
  # is still running (600 s is the maximum, hence timeouts <= 540 s).
  ack_deadline_seconds       = min(600, each.value.timeout + 60)
  message_retention_duration = "604800s"

  push_config {
    # The path names the topic: the Functions Framework reads it from there
    # to fill in the CloudEvent's source.
    push_endpoint = "${google_cloudfunctions2_function.function[each.key].service_config[0].uri}/projects/${var.project}/topics/${google_pubsub_topic.topic[each.value.trigger].name}"

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = google_cloudfunctions2_function.function[each.key].service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.value.trigger].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_cloud_run_v2_service_iam_member.push_invoker]
}

# Dead-lettering is done by the Pub/Sub service agent: it must be able to
# publish to each dead-letter topic and to acknowledge on each subscription
# that forwards there.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = toset(local.topic_roles)

  topic  = google_pubsub_topic.dead_letter[each.key].id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.functions

  subscription = google_pubsub_subscription.trigger[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
