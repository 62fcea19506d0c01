resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name = local.namespace
    labels = {
      "app.kubernetes.io/part-of"          = "items-api"
      "pod-security.kubernetes.io/enforce" = "restricted"
      "pod-security.kubernetes.io/warn"    = "restricted"
    }
  }
}

locals {
  release_namespace = var.create_namespace ? kubernetes_namespace_v1.this[0].metadata[0].name : local.namespace
}

# The Secret lives outside the Helm release so the chart never sees the values and a
# rollback of the release cannot roll the credentials back with it.
resource "kubernetes_secret_v1" "app" {
  count = var.existing_secret_name == null ? 1 : 0

  metadata {
    name      = local.secret_name
    namespace = local.release_namespace
    labels = {
      "app.kubernetes.io/instance" = local.release_name
      "app.kubernetes.io/part-of"  = "items-api"
    }
  }

  type = "Opaque"
  data = {
    DATABASE_URL = var.database_url
    JWT_SECRET   = var.jwt_secret
  }
}

resource "helm_release" "this" {
  name      = local.release_name
  namespace = local.release_namespace
  chart     = coalesce(var.chart_path, "${path.module}/../../../helm/items-api")

  values = local.release_values

  # Wait for the migration hook and the rollout; roll back on failure.
  atomic          = true
  cleanup_on_fail = true
  timeout         = var.helm_timeout_seconds
  max_history     = 10

  lifecycle {
    precondition {
      condition     = (var.existing_secret_name == null) == (var.database_url != null && var.jwt_secret != null)
      error_message = "Give either existing_secret_name, or both database_url and jwt_secret (not both ways, not neither)."
    }
    # The chart's migration hook would wait for the missing Secret until Helm's timeout
    # and fail with "timed out waiting for the condition"; this says why at plan time.
    precondition {
      condition     = !(var.create_namespace && var.existing_secret_name != null)
      error_message = "existing_secret_name names a Secret that must already exist, but create_namespace = true makes the namespace in this apply, so it cannot hold one yet. Either pass database_url and jwt_secret (the module creates the Secret after the namespace), or create namespace and Secret first and set create_namespace = false."
    }
    precondition {
      condition     = local.namespace != null
      error_message = "Give deploy_environment (namespace from deploy/environments.yaml) or namespace."
    }
  }

  depends_on = [kubernetes_secret_v1.app]
}
