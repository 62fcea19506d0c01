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

variable "image_repository" {
  description = "Image repository under ghcr.io, e.g. my-org/items-api."
  type        = string
}

variable "image_digest" {
  description = "sha256 digest of the image to run."
  type        = string
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose deploy.yml may deploy here by OIDC."
  type        = string
}
