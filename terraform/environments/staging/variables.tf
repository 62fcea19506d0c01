variable "kubeconfig_path" {
  description = "kubeconfig file with access to the staging cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "kubeconfig context of the staging cluster (null: the current context)."
  type        = string
  default     = null
}

variable "image_repository" {
  description = "Image repository under ghcr.io, e.g. my-org/items-api."
  type        = string
}

variable "image_tag" {
  description = "Image tag to deploy: the commit SHA that ci.yml pushed."
  type        = string
}

variable "database_url" {
  description = "DATABASE_URL of the staging database (postgresql+asyncpg://...). Pass as TF_VAR_database_url, never in a file."
  type        = string
  sensitive   = true
}

variable "jwt_secret" {
  description = "JWT_SECRET of staging. Pass as TF_VAR_jwt_secret, never in a file."
  type        = string
  sensitive   = true
}

variable "database_cidrs" {
  description = "CIDRs of the staging database for the NetworkPolicy's egress: on the AWS platform, its private_subnet_cidrs output. Empty lets the pods reach any address on 5432."
  type        = list(string)
  default     = []
}
