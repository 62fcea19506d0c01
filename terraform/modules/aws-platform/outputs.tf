output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (nodes, database, internal load balancers)."
  value       = [for subnet in aws_subnet.private : subnet.id]
}

output "private_subnet_cidrs" {
  description = "CIDRs of the private subnets: where the database lives, for the app's NetworkPolicy egress."
  value       = [for subnet in aws_subnet.private : subnet.cidr_block]
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (NAT gateways, internet-facing load balancers)."
  value       = [for subnet in aws_subnet.public : subnet.id]
}

output "kms_key_arn" {
  description = "ARN of the customer-managed KMS key encrypting the platform's data at rest."
  value       = aws_kms_key.this.arn
}

output "cluster_name" {
  description = "Name of the EKS cluster (for `aws eks update-kubeconfig --name`)."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "HTTPS endpoint of the Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64-encoded CA certificate of the Kubernetes API."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group EKS attaches to the control plane and the managed nodes; the database admits it."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "database_endpoint" {
  description = "host:port of the PostgreSQL instance."
  value       = aws_db_instance.this.endpoint
}

output "database_name" {
  description = "Name of the application database."
  value       = aws_db_instance.this.db_name
}

output "database_master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret where RDS keeps the generated master password."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "github_deploy_role_arn" {
  description = "Role GitHub Actions assumes by OIDC to deploy (the AWS_DEPLOY_ROLE_ARN variable of deploy.yml's environments); null without github_deploy."
  value       = try(aws_iam_role.github_deploy[0].arn, null)
}

output "ecr_repository_url" {
  description = "URL of the ECR repository (registry/name): push the image here; the nodes pull it without a pull secret."
  value       = aws_ecr_repository.app.repository_url
}

output "app_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the app's DATABASE_URL and JWT_SECRET (JSON), filled by the operator (terraform/README.md)."
  value       = aws_secretsmanager_secret.app.arn
}

output "cluster_region" {
  description = "Region of the cluster, for `aws eks update-kubeconfig --region` and `aws eks get-token`."
  value       = data.aws_region.current.name
}
