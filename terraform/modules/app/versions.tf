terraform {
  # 1.6 is the oldest release where Terraform and OpenTofu read this module alike
  # (optional() object attributes with defaults, preconditions).
  required_version = ">= 1.6"

  required_providers {
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 3.0"
    }
  }
}
