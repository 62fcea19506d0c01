# Production on the platform of modules/aws-platform (applied from examples/aws): the
# cluster, the database's subnets and the app's credentials all come from that
# platform's state, so nothing here is copied from it.
data "terraform_remote_state" "platform" {
  backend = "s3"
  config  = var.platform_state
}

locals {
  platform = data.terraform_remote_state.platform.outputs
  # DATABASE_URL (the app's own PostgreSQL role, not the master user) and JWT_SECRET,
  # put there by the operator (terraform/README.md, step 5).
  app_secret = jsondecode(data.aws_secretsmanager_secret_version.app.secret_string)
}

data "aws_secretsmanager_secret_version" "app" {
  secret_id = local.platform.app_secret_arn
}

# Release name, namespace and every chart value come from deploy/environments.yaml and
# deploy/values/production.yaml, the files `make deploy ENV=production` reads.
module "app" {
  source = "../../modules/app"

  deploy_environment = "production"
  environment        = "production"

  image = {
    registry   = var.image_registry
    repository = var.image_repository
    digest     = var.image_digest
  }

  # The module creates the namespace, then the Secret from these, then the release.
  database_url = local.app_secret.DATABASE_URL
  jwt_secret   = local.app_secret.JWT_SECRET

  database_cidrs       = local.platform.private_subnet_cidrs
  helm_timeout_seconds = 900
}
