# The chart values the module installs with, derived from the inputs alone (no resource
# attributes), so tests/terraform can evaluate this file with variables.tf and check the
# result against helm/items-api/values.schema.json without a cluster or providers.
locals {
  deploy_dir   = coalesce(var.deploy_dir, "${path.module}/../../../deploy")
  deploy_facts = yamldecode(file("${local.deploy_dir}/environments.yaml"))
  # deploy/values/<environment>.yaml: the same file `make deploy` applies over the chart's
  # values, applied here over the module's, so both install the same values.
  environment_values = var.deploy_environment == null ? null : file("${local.deploy_dir}/values/${var.deploy_environment}.yaml")

  release_name = coalesce(var.release_name, local.deploy_facts.release)
  namespace    = var.namespace != null ? var.namespace : try(local.deploy_facts.environments[var.deploy_environment].namespace, null)
  # The values file names the Secret the chart reads; the module creates it under that name.
  secret_name = coalesce(
    var.existing_secret_name,
    try(yamldecode(local.environment_values).secrets.existingSecret, null),
    "${local.release_name}-app-secrets",
  )
  service_port = 80

  chart_values = {
    fullnameOverride = local.release_name

    image = {
      registry    = var.image.registry
      repository  = var.image.repository
      tag         = var.image.tag
      digest      = var.image.digest
      pullPolicy  = var.image.pull_policy
      pullSecrets = var.image_pull_secrets
    }

    config = {
      environment              = var.environment
      logLevel                 = var.config.log_level
      accessTokenExpireMinutes = var.config.access_token_expire_minutes
      corsOrigins              = var.config.cors_origins
      trustedHosts             = var.config.trusted_hosts
      forwardedAllowIps        = var.config.forwarded_allow_ips
    }

    workers = {
      perCpu         = var.workers.per_cpu
      max            = var.workers.max
      webConcurrency = var.workers.web_concurrency
    }

    database = {
      poolSize               = var.database_pool.pool_size
      maxOverflow            = var.database_pool.max_overflow
      maxConnections         = var.database_pool.max_connections
      preparedStatementCache = var.database_pool.prepared_statement_cache
    }

    # The module owns the Secret (or the operator does); the chart only references it.
    secrets = {
      existingSecret = local.secret_name
    }

    replicaCount = var.replicas
    resources = {
      requests = var.resources.requests
      limits   = var.resources.limits
    }

    autoscaling = {
      enabled                        = var.autoscaling.enabled
      minReplicas                    = var.autoscaling.min_replicas
      maxReplicas                    = var.autoscaling.max_replicas
      targetCPUUtilizationPercentage = var.autoscaling.target_cpu_utilization_percentage
    }

    service = {
      ports = { http = local.service_port }
    }

    ingress = {
      enabled     = var.ingress.enabled
      className   = var.ingress.class_name
      annotations = var.ingress.annotations
      hosts       = [{ host = var.ingress.host, paths = [{ path = "/", pathType = "Prefix" }] }]
      tls         = var.ingress.tls_secret_name == null ? [] : [{ secretName = var.ingress.tls_secret_name, hosts = [var.ingress.host] }]
    }

    networkPolicy = {
      enabled  = var.network_policy_enabled
      database = { cidrs = var.database_cidrs }
    }
  }
}

locals {
  # What helm_release installs, in helm's order: later documents win key by key.
  release_values = compact([yamlencode(local.chart_values), local.environment_values])
}
