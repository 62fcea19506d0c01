variable "kubeconfig_path" {
  description = "kubeconfig file with access to the production cluster."
  type        = string
  default     = "~/.kube/config"
}

variable "kube_context" {
  description = "kubeconfig context of the production cluster (null: the current context)."
  type        = string
  default     = null
}

variable "image_repository" {
  description = "Image repository under ghcr.io, e.g. my-org/items-api."
  type        = string
}

variable "image_digest" {
  description = "sha256 digest of the image to deploy: production runs exactly what staging tested."
  type        = string
}
