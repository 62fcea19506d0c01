# The AWS platform as a root module of its own: VPC, EKS with its add-ons, RDS, ECR, the
# app's secret and the GitHub deploy role. The environments (terraform/environments/*)
# install the app on it and read this root's outputs from its state.
locals {
  repository = "${path.module}/../../.."
  # Release name, namespaces and GitHub environments: the deploy tool's own record.
  deploy          = yamldecode(file("${local.repository}/deploy/environments.yaml"))
  deployed_to_aws = { for name, env in local.deploy.environments : name => env if try(env.github_environment, null) != null }

  # The node group must hold production's pods during a rollout: the chart never takes a
  # pod down before its replacement is ready (maxUnavailable 0), so a rollout at the HPA
  # minimum runs minReplicas + maxSurge pods at once.
  chart_values      = yamldecode(file("${local.repository}/helm/items-api/values.yaml"))
  production_values = yamldecode(file("${local.repository}/deploy/values/production.yaml"))
  surge             = try(local.production_values.rollingUpdate.maxSurge, local.chart_values.rollingUpdate.maxSurge)
  pod_cpu           = local.production_values.resources.requests.cpu
}

module "platform" {
  source = "../../modules/aws-platform"

  name                                 = "items-api"
  availability_zones                   = var.availability_zones
  cluster_endpoint_public_access_cidrs = var.cluster_endpoint_public_access_cidrs

  app_capacity = {
    pod_cpu_millicores = endswith(local.pod_cpu, "m") ? tonumber(trimsuffix(local.pod_cpu, "m")) : tonumber(local.pod_cpu) * 1000
    min_pods           = local.production_values.autoscaling.minReplicas + local.surge
    max_pods           = local.production_values.autoscaling.maxReplicas + local.surge
  }

  # deploy.yml's staging and production jobs assume this role (output github_deploy_role_arn).
  github_deploy = {
    repository   = var.github_repository
    environments = [for env in local.deployed_to_aws : env.github_environment]
    namespaces   = [for env in local.deployed_to_aws : env.namespace]
  }
}
