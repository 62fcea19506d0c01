# Staging: production's shape at a smaller scale. The module creates the Secret from
# sensitive variables here; production references one managed outside Terraform.
module "app" {
  source = "../../modules/app"

  namespace   = "items-api-staging"
  environment = "staging"

  image = {
    repository = var.image_repository
    tag        = var.image_tag
  }

  database_url = var.database_url
  jwt_secret   = var.jwt_secret

  replicas = 2
  autoscaling = {
    enabled      = true
    min_replicas = 2
    max_replicas = 4
  }
  # (4 pods + 1 surge) x 2 workers x (5 + 5) = 100 connections at most.
  workers = {
    max = 2
  }
  database_pool = {
    max_connections = 100
  }

  ingress = {
    enabled         = true
    host            = "items-api.staging.example.com"
    tls_secret_name = "items-api-tls"
  }
  network_policy_enabled = true
}
