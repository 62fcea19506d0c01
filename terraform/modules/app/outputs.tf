output "release_name" {
  description = "Name of the Helm release (and of the Service and Deployment)."
  value       = helm_release.this.name
}

output "namespace" {
  description = "Namespace the release is installed in."
  value       = helm_release.this.namespace
}

output "revision" {
  description = "Revision of the Helm release; grows by one on each upgrade."
  value       = helm_release.this.metadata.revision
}

output "service_url" {
  description = "In-cluster URL of the API."
  value       = "http://${helm_release.this.name}.${helm_release.this.namespace}.svc.cluster.local:${local.service_port}"
}

output "secret_name" {
  description = "Name of the Secret the pods read DATABASE_URL and JWT_SECRET from."
  value       = local.secret_name
}
