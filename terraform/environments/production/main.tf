# Production: at least 3 pods across nodes and zones, autoscaled, NetworkPolicy on, the
# image pinned by digest, and credentials from a Secret managed outside Terraform
# (External Secrets or `kubectl create secret`), so they never enter the state.
module "app" {
  source = "../../modules/app"

  namespace   = "items-api"
  environment = "production"

  image = {
    repository = var.image_repository
    digest     = var.image_digest
  }

  existing_secret_name = "items-api-secrets"

  replicas = 3
  autoscaling = {
    enabled      = true
    min_replicas = 3
    max_replicas = 8
  }
  resources = {
    requests = { cpu = "1", memory = "512Mi" }
    limits   = { cpu = "2", memory = "1Gi" }
  }
  # (8 pods + 1 surge) x 2 workers (CPU limit 2) x (5 + 0) = 90 of the 200 granted.
  database_pool = {
    max_connections = 200
  }

  config = {
    log_level     = "INFO"
    trusted_hosts = ["items-api.example.com"]
  }

  ingress = {
    enabled         = true
    host            = "items-api.example.com"
    tls_secret_name = "items-api-tls"
  }
  network_policy_enabled = true
  helm_timeout_seconds   = 900
}
