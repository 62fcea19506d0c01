variable "name" {
  description = "Name shared by the VPC, the EKS cluster and the RDS instance; also the prefix of every IAM role and log group."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and '-', starting with a letter (it becomes an RDS identifier and IAM role prefix)."
  }
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC. Each availability zone gets one private and one public /20 carved from it, so it must be a /16 to /18."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 18, false)
    error_message = "vpc_cidr must be an IPv4 CIDR between /16 and /18."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread subnets, NAT gateways, nodes and the standby database over. EKS and RDS both need at least two."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must list 2 to 4 distinct zones."
  }
}

variable "kubernetes_version" {
  description = "EKS control plane version (major.minor)."
  type        = string
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like \"1.34\"."
  }
}

variable "cluster_endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the Kubernetes API from the internet: the machine that runs the app's `terraform apply` and the deploy job's runners (GitHub-hosted runners have no fixed addresses: use larger runners with static IPs or a self-hosted runner, see terraform/README.md). Empty keeps the endpoint private: reach it from inside the VPC only (VPN, bastion, runner in the VPC)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.cluster_endpoint_public_access_cidrs : can(cidrhost(cidr, 0)) && !endswith(cidr, "/0")])
    error_message = "cluster_endpoint_public_access_cidrs must be IPv4 CIDRs and must not include 0.0.0.0/0."
  }

  validation {
    condition     = length(var.cluster_endpoint_public_access_cidrs) <= 40
    error_message = "cluster_endpoint_public_access_cidrs takes at most 40 CIDRs (EKS's limit)."
  }
}

variable "node_group" {
  description = "Managed node group for the workloads: instance types and the autoscaling bounds."
  type = object({
    instance_types = optional(list(string), ["m7i.xlarge"])
    min_size       = optional(number, 2)
    desired_size   = optional(number, 2)
    max_size       = optional(number, 6)
    disk_size_gib  = optional(number, 50)
  })
  default = {}

  validation {
    condition     = var.node_group.min_size >= 1 && var.node_group.min_size <= var.node_group.desired_size && var.node_group.desired_size <= var.node_group.max_size
    error_message = "node_group sizes must satisfy 1 <= min_size <= desired_size <= max_size."
  }

  validation {
    condition     = length(var.node_group.instance_types) > 0 && var.node_group.disk_size_gib >= 20
    error_message = "node_group needs at least one instance type and a disk of at least 20 GiB."
  }
}

variable "database" {
  description = "Managed PostgreSQL (RDS) settings. The master password is generated and kept in Secrets Manager by RDS, never in Terraform state."
  type = object({
    engine_version        = optional(string, "17")
    instance_class        = optional(string, "db.t4g.medium")
    allocated_storage_gib = optional(number, 20)
    max_storage_gib       = optional(number, 200)
    multi_az              = optional(bool, true)
    backup_retention_days = optional(number, 14)
    database_name         = optional(string, "items")
    username              = optional(string, "items_api")
  })
  default = {}

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.database.engine_version))
    error_message = "database.engine_version must be PostgreSQL 14 or newer, e.g. \"17\" or \"17.6\"."
  }

  validation {
    condition     = var.database.backup_retention_days >= 7 && var.database.backup_retention_days <= 35
    error_message = "database.backup_retention_days must be between 7 and 35: point-in-time recovery needs at least a week."
  }

  validation {
    condition     = var.database.allocated_storage_gib >= 20 && var.database.max_storage_gib >= var.database.allocated_storage_gib
    error_message = "database.allocated_storage_gib must be at least 20 and no larger than max_storage_gib."
  }

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database.database_name)) && can(regex("^[a-z][a-z0-9_]{0,62}$", var.database.username))
    error_message = "database.database_name and database.username must be lowercase PostgreSQL identifiers."
  }
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups (EKS control plane, VPC flow logs, PostgreSQL logs)."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least one year (365, 400, 545, 731, ...)."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "github_deploy" {
  description = "Lets GitHub Actions deploy by OIDC: a role that jobs of `repository` (owner/name) running in one of `environments` can assume, with EKS admin rights inside `namespaces` only. Null creates nothing."
  type = object({
    repository   = string
    environments = optional(list(string), ["staging", "production"])
    namespaces   = optional(list(string), ["items-api", "items-api-staging"])
  })
  default = null

  validation {
    condition     = var.github_deploy == null || can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_deploy.repository))
    error_message = "github_deploy.repository must be owner/name."
  }

  validation {
    condition     = var.github_deploy == null || try(length(var.github_deploy.environments) > 0 && length(var.github_deploy.namespaces) > 0, false)
    error_message = "github_deploy needs at least one environment and one namespace."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the database (RDS deletion protection). Set false, apply, then destroy to tear the platform down."
  type        = bool
  default     = true
}

variable "app_capacity" {
  description = "What the node group must hold for the app, checked against the instance type's vCPUs at plan time: the CPU request of one pod, the pods at the HPA minimum during a rollout (minReplicas + maxSurge, as maxUnavailable is 0) at min_size nodes, the pods at the HPA maximum during a rollout at max_size nodes, and the CPU the per-node system pods take (kube-proxy, aws-node, CSI node, pod identity agent, with room for CoreDNS and metrics-server)."
  type = object({
    pod_cpu_millicores    = number
    min_pods              = number
    max_pods              = number
    system_cpu_millicores = optional(number, 400)
  })

  validation {
    condition     = var.app_capacity.pod_cpu_millicores > 0 && var.app_capacity.min_pods >= 1 && var.app_capacity.max_pods >= var.app_capacity.min_pods && var.app_capacity.system_cpu_millicores >= 0
    error_message = "app_capacity needs pod_cpu_millicores > 0, 1 <= min_pods <= max_pods and system_cpu_millicores >= 0."
  }
}

variable "ecr_repository_name" {
  description = "Name of the ECR repository the image is pushed to and the nodes pull from."
  type        = string
  default     = "items-api"

  validation {
    condition     = can(regex("^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$", var.ecr_repository_name)) && length(var.ecr_repository_name) <= 256
    error_message = "ecr_repository_name must be an ECR repository name: lowercase letters, digits and . _ - /."
  }
}

variable "ecr_keep_images" {
  description = "Images the ECR lifecycle policy keeps (the newest ones); older ones expire. Keep enough for every rollback target."
  type        = number
  default     = 100

  validation {
    condition     = var.ecr_keep_images >= 10 && floor(var.ecr_keep_images) == var.ecr_keep_images
    error_message = "ecr_keep_images must be a whole number of at least 10."
  }
}
