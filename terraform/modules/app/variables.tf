# Each input maps onto one part of helm/items-api/values.yaml (see values.tf). The
# validation blocks mirror the chart's values.schema.json, so a value the chart would
# refuse fails at plan time with the variable's name instead of half-way through apply.
# tests/terraform/test_app_values.py holds the two to each other.

variable "deploy_environment" {
  description = "Environment of deploy/environments.yaml (dev, e2e, staging, production) this release is: its release name and namespace come from there and deploy/values/<environment>.yaml is applied over the module's values, exactly as `make deploy ENV=<environment>` does. Null: give namespace (and release_name) here."
  type        = string
  default     = null
}

variable "deploy_dir" {
  description = "Directory holding environments.yaml and values/ (the deploy tool's configuration). Null uses deploy/ of this repository."
  type        = string
  default     = null
}

variable "release_name" {
  description = "Helm release name; also the name of the Service, Deployment and every other object (fullnameOverride). Null: the release of deploy/environments.yaml."
  type        = string
  default     = null

  validation {
    condition     = var.release_name == null || can(regex("^[a-z]([-a-z0-9]{0,51}[a-z0-9])?$", var.release_name))
    error_message = "release_name must be a DNS label of at most 53 characters (Helm's release name limit): lowercase letters, digits and '-'."
  }
}

variable "namespace" {
  description = "Namespace to install into. Null: the deploy_environment's namespace in deploy/environments.yaml."
  type        = string
  default     = null

  validation {
    condition     = var.namespace == null || can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS label: at most 63 lowercase letters, digits and '-'."
  }
}

variable "create_namespace" {
  description = "Create the namespace (labelled for the restricted Pod Security Standard) and the Secret in it, in that order. False when the namespace already exists; existing_secret_name needs false, as a namespace this apply creates cannot already hold a Secret."
  type        = bool
  default     = true
}

variable "chart_path" {
  description = "Path of the items-api chart. Null uses helm/items-api of this repository."
  type        = string
  default     = null
}

variable "environment" {
  description = "ENVIRONMENT of the service (config.environment). production refuses default secrets and the bundled database."
  type        = string

  validation {
    condition     = contains(["development", "test", "staging", "production"], var.environment)
    error_message = "environment must be one of development, test, staging, production."
  }
}

variable "image" {
  description = "Container image. Pin it: a tag other than latest, or a sha256 digest (which wins over the tag)."
  type = object({
    registry    = optional(string, "ghcr.io")
    repository  = string
    tag         = optional(string, "")
    digest      = optional(string, "")
    pull_policy = optional(string, "IfNotPresent")
  })

  validation {
    condition     = length(var.image.repository) > 0
    error_message = "image.repository must not be empty."
  }

  validation {
    condition     = can(regex("^([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$", var.image.tag)) && var.image.tag != "latest"
    error_message = "image.tag must be a valid image tag (letters, digits, '_', '.', '-'; at most 128) and not \"latest\"."
  }

  validation {
    condition     = can(regex("^(sha256:[a-f0-9]{64})?$", var.image.digest))
    error_message = "image.digest must be empty or sha256: followed by 64 lowercase hex digits."
  }

  validation {
    condition     = var.image.tag != "" || var.image.digest != ""
    error_message = "image needs a tag or a digest: Terraform-managed releases are pinned."
  }

  validation {
    condition     = contains(["Always", "IfNotPresent", "Never"], var.image.pull_policy)
    error_message = "image.pull_policy must be Always, IfNotPresent or Never."
  }
}

variable "image_pull_secrets" {
  description = "Names of Secrets (kubernetes.io/dockerconfigjson) in the namespace that pull the image from a private registry (image.pullSecrets). Not needed for the platform's ECR: its nodes pull with their role."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.image_pull_secrets : can(regex("^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$", name))])
    error_message = "image_pull_secrets must be Kubernetes Secret names."
  }
}

variable "database_url" {
  description = "DATABASE_URL (postgresql+asyncpg://user:password@host:5432/db). Stored in a Secret the module creates; leave null when existing_secret_name is set."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.database_url == null || can(regex("^postgresql(\\+asyncpg)?://.+", var.database_url))
    error_message = "database_url must start with postgresql+asyncpg:// (or postgresql://)."
  }
}

variable "jwt_secret" {
  description = "JWT_SECRET signing access tokens (e.g. openssl rand -hex 32). Stored in a Secret the module creates; leave null when existing_secret_name is set."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = try(length(var.jwt_secret) >= 32, var.jwt_secret == null)
    error_message = "jwt_secret must be at least 32 characters."
  }
}

variable "existing_secret_name" {
  description = "Name of an existing Secret in the namespace with keys DATABASE_URL and JWT_SECRET (e.g. synced by External Secrets). Keeps both values out of Terraform state; database_url and jwt_secret must then be null."
  type        = string
  default     = null

  validation {
    condition     = var.existing_secret_name == null || can(regex("^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$", var.existing_secret_name))
    error_message = "existing_secret_name must be a Kubernetes object name (DNS subdomain)."
  }
}

variable "config" {
  description = "Non-secret service settings (config.* in the chart): LOG_LEVEL, ACCESS_TOKEN_EXPIRE_MINUTES, CORS_ORIGINS, TRUSTED_HOSTS, FORWARDED_ALLOW_IPS."
  type = object({
    log_level                   = optional(string, "INFO")
    access_token_expire_minutes = optional(number, 15)
    cors_origins                = optional(list(string), [])
    trusted_hosts               = optional(list(string), [])
    forwarded_allow_ips         = optional(string, "127.0.0.1")
  })
  default = {}

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.config.log_level)
    error_message = "config.log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }

  validation {
    condition     = var.config.access_token_expire_minutes >= 1 && floor(var.config.access_token_expire_minutes) == var.config.access_token_expire_minutes
    error_message = "config.access_token_expire_minutes must be a whole number of at least 1."
  }
}

variable "workers" {
  description = "Gunicorn workers per pod: clamp(ceil(cpu_limit x per_cpu), 1, max); web_concurrency > 0 fixes the count. The chart's connection budget counts web_concurrency, else max (or what the memory limit fits)."
  type = object({
    per_cpu         = optional(number, 1)
    max             = optional(number, 8)
    web_concurrency = optional(number, 0)
  })
  default = {}

  validation {
    condition     = var.workers.per_cpu > 0 && var.workers.max >= 1 && var.workers.web_concurrency >= 0 && floor(var.workers.max) == var.workers.max && floor(var.workers.web_concurrency) == var.workers.web_concurrency
    error_message = "workers.per_cpu must be > 0, workers.max a whole number >= 1, workers.web_concurrency a whole number >= 0."
  }
}

variable "database_pool" {
  description = "Per-worker SQLAlchemy pool and the connection budget the chart checks: max_connections is what the database allows this release (0: not checked)."
  type = object({
    pool_size                = optional(number, 5)
    max_overflow             = optional(number, 0)
    max_connections          = optional(number, 0)
    prepared_statement_cache = optional(bool, true)
  })
  default = {}

  validation {
    condition = (
      var.database_pool.pool_size >= 1 && var.database_pool.max_overflow >= 0 && var.database_pool.max_connections >= 0 &&
      alltrue([for n in [var.database_pool.pool_size, var.database_pool.max_overflow, var.database_pool.max_connections] : floor(n) == n])
    )
    error_message = "database_pool.pool_size must be a whole number >= 1; max_overflow and max_connections whole numbers >= 0."
  }
}

variable "replicas" {
  description = "Pods when autoscaling is off."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas >= 1 && floor(var.replicas) == var.replicas
    error_message = "replicas must be a whole number of at least 1."
  }
}

variable "resources" {
  description = "CPU and memory requests and limits of the service container. The CPU limit sets the worker count."
  type = object({
    requests = object({ cpu = string, memory = string })
    limits   = object({ cpu = string, memory = string })
  })
  default = {
    requests = { cpu = "250m", memory = "256Mi" }
    limits   = { cpu = "1", memory = "512Mi" }
  }

  validation {
    condition = alltrue([
      for cpu in [var.resources.requests.cpu, var.resources.limits.cpu] :
      can(regex("^([0-9]*\\.)?[0-9]+m?$", cpu)) && !can(regex("^0*\\.?0*m?$", cpu))
    ])
    error_message = "resources CPU values must be quantities greater than zero such as \"250m\", \"0.5\" or \"2\"."
  }

  validation {
    condition = alltrue([
      for memory in [var.resources.requests.memory, var.resources.limits.memory] :
      can(regex("^([0-9]*\\.)?[0-9]+([EPTGM]i?|Ki|[mk])?$", memory))
    ])
    error_message = "resources memory values must be quantities such as \"256Mi\" or \"1Gi\"."
  }
}

variable "autoscaling" {
  description = "HorizontalPodAutoscaler on CPU utilisation; when enabled, replicas is ignored."
  type = object({
    enabled                           = optional(bool, false)
    min_replicas                      = optional(number, 2)
    max_replicas                      = optional(number, 6)
    target_cpu_utilization_percentage = optional(number, 70)
  })
  default = {}

  validation {
    condition = (
      var.autoscaling.min_replicas >= 1 && var.autoscaling.max_replicas >= var.autoscaling.min_replicas &&
      floor(var.autoscaling.min_replicas) == var.autoscaling.min_replicas && floor(var.autoscaling.max_replicas) == var.autoscaling.max_replicas
    )
    error_message = "autoscaling needs whole numbers with 1 <= min_replicas <= max_replicas."
  }

  validation {
    condition     = var.autoscaling.target_cpu_utilization_percentage >= 1 && var.autoscaling.target_cpu_utilization_percentage <= 100 && floor(var.autoscaling.target_cpu_utilization_percentage) == var.autoscaling.target_cpu_utilization_percentage
    error_message = "autoscaling.target_cpu_utilization_percentage must be a whole number from 1 to 100."
  }
}

variable "ingress" {
  description = "Ingress for one host. tls_secret_name names a certificate Secret (e.g. issued by cert-manager); null serves plain HTTP."
  type = object({
    enabled         = optional(bool, false)
    class_name      = optional(string, "traefik")
    host            = optional(string, "items-api.local")
    tls_secret_name = optional(string)
    annotations     = optional(map(string), {})
  })
  default = {}

  validation {
    condition     = can(regex("^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", var.ingress.host))
    error_message = "ingress.host must be a DNS name such as items.example.com."
  }

  validation {
    condition     = var.ingress.tls_secret_name == null || can(regex("^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$", var.ingress.tls_secret_name))
    error_message = "ingress.tls_secret_name must be null or a Kubernetes Secret name."
  }
}

variable "network_policy_enabled" {
  description = "Create the chart's NetworkPolicy (ingress only from the ingress controller and monitoring namespaces, egress to DNS and PostgreSQL)."
  type        = bool
  default     = true
}

variable "database_cidrs" {
  description = "CIDRs of the PostgreSQL server the NetworkPolicy lets the pods reach (empty: any address)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.database_cidrs : can(cidrhost(cidr, 0))])
    error_message = "database_cidrs must be CIDRs such as 10.40.0.0/20."
  }
}

variable "helm_timeout_seconds" {
  description = "Time Helm waits for the migration hook and the rollout before rolling the release back."
  type        = number
  default     = 600

  validation {
    condition     = var.helm_timeout_seconds >= 60 && var.helm_timeout_seconds <= 3600
    error_message = "helm_timeout_seconds must be between 60 and 3600."
  }
}
