# Staging on any cluster the kubeconfig reaches (CI plans it against kind). Release
# name, namespace and every chart value come from deploy/environments.yaml and
# deploy/values/staging.yaml, the files `make deploy ENV=staging` reads.
module "app" {
  source = "../../modules/app"

  deploy_environment = "staging"
  environment        = "staging"

  image = {
    repository = var.image_repository
    tag        = var.image_tag
  }

  # The module creates the namespace, then the Secret from these, then the release.
  database_url = var.database_url
  jwt_secret   = var.jwt_secret

  database_cidrs = var.database_cidrs
}
