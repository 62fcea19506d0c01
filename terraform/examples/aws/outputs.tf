output "cluster_name" {
  description = "EKS cluster name, for `aws eks update-kubeconfig --name`."
  value       = module.platform.cluster_name
}

output "database_endpoint" {
  description = "host:port of the PostgreSQL instance."
  value       = module.platform.database_endpoint
}

output "service_url" {
  description = "In-cluster URL of the API."
  value       = module.app.service_url
}

output "github_deploy_role_arn" {
  description = "Set as AWS_DEPLOY_ROLE_ARN on the GitHub environment production."
  value       = module.platform.github_deploy_role_arn
}
