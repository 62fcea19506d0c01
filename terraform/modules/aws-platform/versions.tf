terraform {
  # 1.6 is the oldest release where Terraform and OpenTofu read this module alike
  # (optional() object attributes with defaults, cidrsubnet, preconditions).
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }
}
