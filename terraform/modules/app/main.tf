resource "kubernetes_namespace_v1" "this" {
  count = var.create_namespace ? 1 : 0

  metadata {
    name = var.namespace
    labels = {
      "app.kubernetes.io/part-of"          = "items-api"
      "pod-security.kubernetes.io/enforce" = "restricted"
      "pod-security.kubernetes.io/warn"    = "restricted"
    }
  }
}

locals {
  namespace = var.create_namespace ? kubernetes_namespace_v1.this[0].metadata[0].name : var.namespace
}

# The Secret lives outside the Helm release so the chart never sees the values and a
# rollback of the release cannot roll the credentials back with it.
resource "kubernetes_secret_v1" "app" {
  count = var.existing_secret_name == null ? 1 : 0

  metadata {
    name      = local.secret_name
    namespace = local.namespace
    labels = {
      "app.kubernetes.io/instance" = var.release_name
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
  name      = var.release_name
  namespace = local.namespace
  chart     = coalesce(var.chart_path, "${path.module}/../../../helm/items-api")

  values = [yamlencode(local.chart_values)]

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
  }

  depends_on = [kubernetes_secret_v1.app]
}
