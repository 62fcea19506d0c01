terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` (copy
  # backend.hcl.example). terraform/environments/production reads this state.
  backend "s3" {}
}

provider "aws" {
  region = var.region
}
