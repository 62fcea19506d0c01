# The whole stack on AWS: the platform module builds the VPC, EKS and RDS; the app
# module installs the chart on it. Apply in two steps, because the Kubernetes providers
# need the cluster to exist:
#   terraform apply -target=module.platform && terraform apply
module "platform" {
  source = "../../modules/aws-platform"

  name               = "items-api"
  availability_zones = var.availability_zones

  # deploy.yml's production job assumes this role (output github_deploy_role_arn).
  github_deploy = {
    repository   = var.github_repository
    environments = ["production"]
    namespaces   = ["items-api"]
  }
}

module "app" {
  source = "../../modules/app"

  namespace   = "items-api"
  environment = "production"

  image = {
    repository = var.image_repository
    digest     = var.image_digest
  }

  # DATABASE_URL embeds the RDS master password that RDS keeps in Secrets Manager
  # (module.platform.database_master_user_secret_arn); sync it into this Secret with
  # External Secrets rather than reading it into Terraform state.
  existing_secret_name = "items-api-secrets"
  database_cidrs       = module.platform.private_subnet_cidrs
}
