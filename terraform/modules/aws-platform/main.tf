data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  azs         = { for index, zone in var.availability_zones : zone => index }
  tags        = merge({ "app.kubernetes.io/part-of" = "items-api", "managed-by" = "terraform" }, var.tags)
}

################################################################################
# One customer-managed key encrypts everything at rest: Kubernetes Secrets in etcd,
# node volumes, the database and its snapshots, Performance Insights, the master
# password secret and the log groups.
################################################################################

data "aws_iam_policy_document" "kms" {
  # In a key policy "*" means "this key", and kms:* for the account root is AWS's default
  # key policy that lets IAM policies grant access; nothing else can be named here.
  #checkov:skip=CKV_AWS_109:key policy; the resource "*" is the key itself
  #checkov:skip=CKV_AWS_111:key policy; the resource "*" is the key itself
  #checkov:skip=CKV_AWS_356:key policy; the resource "*" is the key itself
  # The account keeps administrative control; IAM policies then grant use per role.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_arn]
    }
  }

  # CloudWatch Logs encrypts log groups with the key only when the key policy says so.
  statement {
    sid = "CloudWatchLogsUse"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }
  }

  # EC2 Auto Scaling launches the nodes, so it needs the key for their encrypted volumes.
  statement {
    sid = "AutoScalingUsesKeyForNodeVolumes"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:DescribeKey",
      "kms:CreateGrant",
    ]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: EKS secrets, node volumes, RDS, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

################################################################################
# IAM: one role per AWS service acting for the platform, with AWS-managed policies.
################################################################################

locals {
  service_roles = {
    cluster        = { service = "eks.amazonaws.com", policies = ["AmazonEKSClusterPolicy"] }
    node           = { service = "ec2.amazonaws.com", policies = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryPullOnly"] }
    flow-logs      = { service = "vpc-flow-logs.amazonaws.com", policies = [] }
    rds-monitoring = { service = "monitoring.rds.amazonaws.com", policies = ["service-role/AmazonRDSEnhancedMonitoringRole"] }
  }
  service_role_policies = merge([
    for role, spec in local.service_roles : { for policy in spec.policies : "${role}/${basename(policy)}" => { role = role, policy = policy } }
  ]...)
}

data "aws_iam_policy_document" "assume" {
  for_each = local.service_roles

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = [each.value.service]
    }
  }
}

resource "aws_iam_role" "service" {
  for_each = local.service_roles

  # IAM allows 38 characters of prefix; the longest role key takes 16 of them.
  name_prefix        = "${substr(var.name, 0, 20)}-${each.key}-"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "service" {
  for_each = local.service_role_policies

  role       = aws_iam_role.service[each.value.role].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/${each.value.policy}"
}

################################################################################
# Network: private subnets for nodes and the database; public subnets hold only the
# NAT gateways and internet-facing load balancers.
################################################################################

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = var.name })
}

# The default security group allows all traffic between its members; nothing may use it.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${var.name}-default-deny" })
}

resource "aws_subnet" "private" {
  for_each = local.azs

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = cidrsubnet(var.vpc_cidr, 4, each.value)
  tags = merge(local.tags, {
    Name                              = "${var.name}-private-${each.key}"
    "kubernetes.io/role/internal-elb" = "1"
  })
}

resource "aws_subnet" "public" {
  for_each = local.azs

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 8 + each.value)
  map_public_ip_on_launch = false
  tags = merge(local.tags, {
    Name                     = "${var.name}-public-${each.key}"
    "kubernetes.io/role/elb" = "1"
  })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = var.name })
}

# One NAT gateway per zone, so losing a zone does not cut the others off the internet.
resource "aws_eip" "nat" {
  for_each = local.azs

  domain     = "vpc"
  tags       = merge(local.tags, { Name = "${var.name}-nat-${each.key}" })
  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each = local.azs

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id
  tags          = merge(local.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = local.azs

  subnet_id      = aws_subnet.public[each.key].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  for_each = local.azs

  vpc_id = aws_vpc.this.id
  tags   = merge(local.tags, { Name = "${var.name}-private-${each.key}" })
}

resource "aws_route" "private_nat" {
  for_each = local.azs

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[each.key].id
}

resource "aws_route_table_association" "private" {
  for_each = local.azs

  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/aws/vpc/${var.name}/flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = local.tags
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.service["flow-logs"].id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id          = aws_vpc.this.id
  traffic_type    = "ALL"
  log_destination = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn    = aws_iam_role.service["flow-logs"].arn
  tags            = local.tags
}

################################################################################
# EKS: private API endpoint by default, envelope-encrypted Secrets, every control
# plane log type, nodes only in private subnets with IMDSv2 and encrypted disks.
################################################################################

resource "aws_cloudwatch_log_group" "eks" {
  # EKS writes to this exact name; creating it first sets retention and encryption.
  name              = "/aws/eks/${var.name}/cluster"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = local.tags
}

resource "aws_eks_cluster" "this" {
  name                      = var.name
  version                   = var.kubernetes_version
  role_arn                  = aws_iam_role.service["cluster"].arn
  enabled_cluster_log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = true
  }

  vpc_config {
    subnet_ids              = [for subnet in aws_subnet.private : subnet.id]
    endpoint_private_access = true
    endpoint_public_access  = length(var.cluster_endpoint_public_access_cidrs) > 0
    public_access_cidrs     = length(var.cluster_endpoint_public_access_cidrs) > 0 ? var.cluster_endpoint_public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = aws_kms_key.this.arn
    }
  }

  tags = local.tags

  depends_on = [
    aws_cloudwatch_log_group.eks,
    aws_iam_role_policy_attachment.service,
  ]
}

resource "aws_launch_template" "node" {
  name_prefix = "${var.name}-node-"
  description = "Encrypted root volume and IMDSv2 with a hop limit of 1, so pods cannot borrow the node's role."

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.node_group.disk_size_gib
      volume_type           = "gp3"
      encrypted             = true
      kms_key_id            = aws_kms_key.this.arn
      delete_on_termination = true
    }
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.tags, { Name = "${var.name}-node" })
  }

  tags = local.tags
}

resource "aws_eks_node_group" "this" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "${var.name}-default"
  node_role_arn   = aws_iam_role.service["node"].arn
  subnet_ids      = [for subnet in aws_subnet.private : subnet.id]
  ami_type        = "AL2023_x86_64_STANDARD"
  instance_types  = var.node_group.instance_types

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  scaling_config {
    min_size     = var.node_group.min_size
    desired_size = var.node_group.desired_size
    max_size     = var.node_group.max_size
  }

  update_config {
    max_unavailable = 1
  }

  tags = local.tags

  lifecycle {
    # The cluster autoscaler changes desired_size; Terraform must not fight it.
    ignore_changes = [scaling_config[0].desired_size]

    # A rollout with maxUnavailable 0 starts the new pod before it stops an old one;
    # if no node has room for it, `helm --wait` times out instead of failing here.
    precondition {
      condition     = local.app_pods_per_node * var.node_group.min_size >= var.app_capacity.min_pods
      error_message = "node_group: ${var.node_group.min_size} x ${local.node_vcpus}-vCPU nodes hold ${local.app_pods_per_node * var.node_group.min_size} pods of ${var.app_capacity.pod_cpu_millicores}m CPU, fewer than app_capacity.min_pods = ${var.app_capacity.min_pods}. Raise min_size or pick a larger instance type."
    }
    precondition {
      condition     = local.app_pods_per_node * var.node_group.max_size >= var.app_capacity.max_pods
      error_message = "node_group: ${var.node_group.max_size} x ${local.node_vcpus}-vCPU nodes hold ${local.app_pods_per_node * var.node_group.max_size} pods of ${var.app_capacity.pod_cpu_millicores}m CPU, fewer than app_capacity.max_pods = ${var.app_capacity.max_pods}. Raise max_size or pick a larger instance type."
    }
  }

  depends_on = [aws_iam_role_policy_attachment.service]
}

data "aws_ec2_instance_type" "node" {
  for_each = toset(var.node_group.instance_types)

  instance_type = each.key
}

locals {
  # The smallest instance type decides: the node group may launch any of them.
  node_vcpus = min([for type in data.aws_ec2_instance_type.node : type.default_vcpus]...)
  # kube-reserved CPU on the EKS AMIs: 6% of the first core, 1% of the second, 0.5% of
  # the third and fourth, 0.25% of every further one.
  node_reserved_millicores = 60 + (local.node_vcpus > 1 ? 10 : 0) + 5 * min(max(local.node_vcpus - 2, 0), 2) + 2.5 * max(local.node_vcpus - 4, 0)
  app_pods_per_node        = floor((local.node_vcpus * 1000 - local.node_reserved_millicores - var.app_capacity.system_cpu_millicores) / var.app_capacity.pod_cpu_millicores)
}

################################################################################
# PostgreSQL: private subnets only, reachable from the cluster's nodes only, TLS
# enforced, encrypted, backed up, Multi-AZ, and protected from deletion.
################################################################################

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = [for subnet in aws_subnet.private : subnet.id]
  tags       = local.tags
}

resource "aws_security_group" "database" {
  name_prefix = "${var.name}-postgres-"
  description = "PostgreSQL ${var.name}: reachable from the EKS cluster only"
  vpc_id      = aws_vpc.this.id
  tags        = merge(local.tags, { Name = "${var.name}-postgres" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "database_from_cluster" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the EKS cluster security group (nodes and pods)"
  referenced_security_group_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${var.name}-postgres${split(".", var.database.engine_version)[0]}-"
  family      = "postgres${split(".", var.database.engine_version)[0]}"
  description = "items-api: TLS only, slow statement logging"
  tags        = local.tags

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "postgres" {
  for_each = toset(["postgresql", "upgrade"])

  # RDS exports to this exact name; creating it first sets retention and encryption.
  name              = "/aws/rds/instance/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = local.tags
}

resource "aws_db_instance" "this" {
  # Both come from var.database, whose validation keeps retention at 7-35 days and whose
  # multi_az defaults to true; checkov does not evaluate optional() object defaults.
  #checkov:skip=CKV_AWS_133:backup_retention_period is var.database.backup_retention_days, validated >= 7
  #checkov:skip=CKV_AWS_157:multi_az is var.database.multi_az, default true
  identifier     = var.name
  engine         = "postgres"
  engine_version = var.database.engine_version
  instance_class = var.database.instance_class
  db_name        = var.database.database_name
  username       = var.database.username

  # RDS generates and rotates the password in Secrets Manager: it never enters state.
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.this.key_id

  allocated_storage     = var.database.allocated_storage_gib
  max_allocated_storage = var.database.max_storage_gib
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  multi_az               = var.database.multi_az
  parameter_group_name   = aws_db_parameter_group.this.name

  backup_retention_period   = var.database.backup_retention_days
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.name}-final"

  auto_minor_version_upgrade          = true
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]

  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.service["rds-monitoring"].arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.this.arn
  performance_insights_retention_period = 7

  tags = local.tags

  depends_on = [aws_cloudwatch_log_group.postgres]
}

################################################################################
# GitHub Actions deploys by OIDC: short-lived credentials for jobs of one repository
# in the listed GitHub environments, and cluster rights limited to the app's namespaces.
################################################################################

resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_deploy == null ? 0 : 1

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  tags           = local.tags
}

data "aws_iam_policy_document" "github_assume" {
  count = var.github_deploy == null ? 0 : 1

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.github[0].arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = [for environment in var.github_deploy.environments : "repo:${var.github_deploy.repository}:environment:${environment}"]
    }
  }
}

resource "aws_iam_role" "github_deploy" {
  count = var.github_deploy == null ? 0 : 1

  name_prefix          = "${substr(var.name, 0, 20)}-gh-deploy-"
  assume_role_policy   = data.aws_iam_policy_document.github_assume[0].json
  max_session_duration = 3600
  tags                 = local.tags
}

# `aws eks update-kubeconfig` needs to read the cluster; everything else goes through
# the access entry below.
data "aws_iam_policy_document" "github_deploy" {
  statement {
    actions   = ["eks:DescribeCluster"]
    resources = [aws_eks_cluster.this.arn]
  }
}

resource "aws_iam_role_policy" "github_deploy" {
  count = var.github_deploy == null ? 0 : 1

  name   = "describe-cluster"
  role   = aws_iam_role.github_deploy[0].id
  policy = data.aws_iam_policy_document.github_deploy.json
}

resource "aws_eks_access_entry" "github_deploy" {
  count = var.github_deploy == null ? 0 : 1

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_iam_role.github_deploy[0].arn
  type          = "STANDARD"
  tags          = local.tags
}

resource "aws_eks_access_policy_association" "github_deploy" {
  count = var.github_deploy == null ? 0 : 1

  cluster_name  = aws_eks_cluster.this.name
  principal_arn = aws_eks_access_entry.github_deploy[0].principal_arn
  policy_arn    = "arn:${data.aws_partition.current.partition}:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy"

  access_scope {
    type       = "namespace"
    namespaces = var.github_deploy.namespaces
  }
}

################################################################################
# Add-ons the chart relies on: metrics-server feeds the HorizontalPodAutoscaler its CPU
# figures, the pod identity agent hands pods their own AWS credentials (the node's
# metadata hop limit of 1 keeps the node role from them), and the EBS CSI driver gives
# PersistentVolumeClaims a disk. The driver's controller acts with its own role, by pod
# identity.
################################################################################

data "aws_iam_policy_document" "pod_identity_assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["pods.eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ebs_csi" {
  name_prefix        = "${substr(var.name, 0, 20)}-ebs-csi-"
  assume_role_policy = data.aws_iam_policy_document.pod_identity_assume.json
  tags               = local.tags
}

resource "aws_iam_role_policy_attachment" "ebs_csi" {
  role       = aws_iam_role.ebs_csi.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
}

resource "aws_eks_addon" "pod_identity_agent" {
  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = "eks-pod-identity-agent"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = local.tags
}

resource "aws_eks_addon" "this" {
  # Both run as Deployments, so they need the nodes first.
  for_each = toset(["metrics-server", "aws-ebs-csi-driver"])

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  tags                        = local.tags

  dynamic "pod_identity_association" {
    for_each = each.key == "aws-ebs-csi-driver" ? [aws_iam_role.ebs_csi.arn] : []
    content {
      role_arn        = pod_identity_association.value
      service_account = "ebs-csi-controller-sa"
    }
  }

  depends_on = [aws_eks_node_group.this, aws_eks_addon.pod_identity_agent, aws_iam_role_policy_attachment.ebs_csi]
}

################################################################################
# Container registry: the image the nodes pull (their role has ECR read access, so no
# pull secret is needed from here). Tags are immutable: a tag names one build forever.
################################################################################

resource "aws_ecr_repository" "app" {
  name                 = var.ecr_repository_name
  image_tag_mutability = "IMMUTABLE"
  force_delete         = !var.deletion_protection

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.this.arn
  }

  tags = local.tags
}

resource "aws_ecr_lifecycle_policy" "app" {
  repository = aws_ecr_repository.app.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest ${var.ecr_keep_images} images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = var.ecr_keep_images }
      action       = { type = "expire" }
    }]
  })
}

################################################################################
# The application's credentials (DATABASE_URL of its own PostgreSQL role, JWT_SECRET):
# one Secrets Manager secret the operator fills (terraform/README.md), encrypted with the
# platform key. The environments read it and the app module turns it into the
# Kubernetes Secret the pods use.
################################################################################

resource "aws_secretsmanager_secret" "app" {
  # The password inside belongs to a PostgreSQL role the operator creates; rotating it
  # needs a rotation Lambda that knows that role, which this module does not ship.
  #checkov:skip=CKV2_AWS_57:rotation of an application role's password needs a role-aware Lambda; rotate by re-running the README's steps
  name_prefix             = "${var.name}/app-"
  description             = "${var.name}: DATABASE_URL (the application's own PostgreSQL role) and JWT_SECRET"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.deletion_protection ? 30 : 0
  tags                    = local.tags
}
