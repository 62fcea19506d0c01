output "release_name" {
  description = "Name of the Helm release."
  value       = module.app.release_name
}

output "namespace" {
  description = "Namespace of the release."
  value       = module.app.namespace
}

output "revision" {
  description = "Helm revision after this apply."
  value       = module.app.revision
}

output "service_url" {
  description = "In-cluster URL of the API."
  value       = module.app.service_url
}
