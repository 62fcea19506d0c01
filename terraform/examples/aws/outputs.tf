# terraform/environments/production reads these from this root's state.
output "cluster_name" {
  description = "EKS cluster name, for `aws eks update-kubeconfig --name`."
  value       = module.platform.cluster_name
}

output "cluster_region" {
  description = "Region of the cluster."
  value       = module.platform.cluster_region
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API."
  value       = module.platform.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded CA certificate of the Kubernetes API."
  value       = module.platform.cluster_certificate_authority_data
}

output "private_subnet_cidrs" {
  description = "Where the database lives: the app's NetworkPolicy egress (database_cidrs)."
  value       = module.platform.private_subnet_cidrs
}

output "database_endpoint" {
  description = "host:port of the PostgreSQL instance."
  value       = module.platform.database_endpoint
}

output "database_master_user_secret_arn" {
  description = "Secrets Manager secret with the master password (used once, to create the app's role)."
  value       = module.platform.database_master_user_secret_arn
}

output "app_secret_arn" {
  description = "Secrets Manager secret the operator fills with the app's DATABASE_URL and JWT_SECRET."
  value       = module.platform.app_secret_arn
}

output "ecr_repository_url" {
  description = "ECR repository to push the image to."
  value       = module.platform.ecr_repository_url
}

output "github_deploy_role_arn" {
  description = "Set as AWS_DEPLOY_ROLE_ARN on the GitHub environments staging and production."
  value       = module.platform.github_deploy_role_arn
}
