variable "region" {
  description = "AWS region to build the platform in."
  type        = string
  default     = "eu-west-1"
}

variable "availability_zones" {
  description = "Zones of that region to spread over (at least two)."
  type        = list(string)
  default     = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose deploy.yml may deploy here by OIDC."
  type        = string
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs that may reach the Kubernetes API: the machine that applies terraform/environments/* (e.g. your address/32) and the deploy job's runners. No default: an endpoint nobody can reach leaves the next step stuck. Empty keeps it private (apply from inside the VPC)."
  type        = list(string)
}
