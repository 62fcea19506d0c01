terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 3.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` (copy
  # backend.hcl.example). The S3 backend and its lock file work in Terraform and OpenTofu.
  backend "s3" {}
}

provider "aws" {
  region = var.platform_state.region
}

# Both Kubernetes providers reach the platform's cluster with short-lived EKS tokens from
# the AWS CLI: no kubeconfig, no stored cluster credential. The API endpoint must admit
# this machine (the platform's cluster_endpoint_public_access_cidrs).
provider "kubernetes" {
  host                   = local.platform.cluster_endpoint
  cluster_ca_certificate = base64decode(local.platform.cluster_certificate_authority_data)
  exec {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", local.platform.cluster_name, "--region", local.platform.cluster_region]
  }
}

provider "helm" {
  kubernetes = {
    host                   = local.platform.cluster_endpoint
    cluster_ca_certificate = base64decode(local.platform.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", local.platform.cluster_name, "--region", local.platform.cluster_region]
    }
  }
}
