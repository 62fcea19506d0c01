variable "platform_state" {
  description = "S3 backend settings (bucket, key, region) of the state of the root that applied modules/aws-platform (terraform/examples/aws): the cluster, database subnets and app secret are read from its outputs."
  type = object({
    bucket = string
    key    = string
    region = string
  })
}

variable "image_registry" {
  description = "Registry of the image: ghcr.io (what ci.yml pushes), or the platform's ECR (the registry part of its ecr_repository_url output)."
  type        = string
  default     = "ghcr.io"
}

variable "image_repository" {
  description = "Image repository in image_registry, e.g. my-org/items-api."
  type        = string
}

variable "image_digest" {
  description = "sha256 digest of the image to deploy: production runs exactly what staging tested."
  type        = string
}
