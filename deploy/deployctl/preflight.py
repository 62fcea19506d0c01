"""Checks made before helm touches anything; each failure names what to change."""

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import DeployError, ExitCode
from .kube import Kube, choose_context, kubeconfig_source, read_contexts
from .release import Release
from .values import SECRET_KEYS, Image, existing_secret, missing_secret_values

MOVING_TAG = "latest"


def check_image(release: Release, image: Image) -> None:
    if image.tag == MOVING_TAG and not image.digest and not release.policy.allow_latest_tag:
        raise DeployError(
            ExitCode.PREFLIGHT,
            f"image tag {MOVING_TAG!r} is refused in {release.env}: a rollback would run the same "
            "moving tag",
            "pass a pinned tag, e.g. IMAGE_TAG=0.1.0-<gitsha> (make) or --image-tag",
        )


def namespace_action(release: Release, exists: bool) -> str:
    """What to do about the namespace: "exists" or "create", or a DeployError."""
    if exists:
        return "exists"
    if release.policy.create_namespace:
        return "create"
    raise DeployError(
        ExitCode.PREFLIGHT,
        f"namespace {release.namespace} does not exist, and {release.env} namespaces are not "
        "created by deploys (they carry quotas and access rules)",
        f"have it created (kubectl create namespace {release.namespace}), or check that the "
        "context points at the right cluster",
    )


def secret_status(
    release: Release, values: Mapping[str, Any], keys: set[str] | None, namespace_exists: bool
) -> str:
    """Where DATABASE_URL and JWT_SECRET come from; `keys` are those of secrets.existingSecret
    (None when that Secret does not exist)."""
    name = existing_secret(values)
    if not name:
        missing = missing_secret_values(values)
        if missing:
            raise DeployError(
                ExitCode.PREFLIGHT,
                f"no database or JWT secret for {release.env}: {', '.join(missing)} unset and no "
                "secrets.existingSecret",
                "name an existing Secret holding DATABASE_URL and JWT_SECRET in "
                "secrets.existingSecret, or give the values in a file outside git "
                "(VALUES=path/to/secrets.yaml)",
            )
        return "the chart creates the Secret from the values"
    create = f"kubectl -n {release.namespace} create secret generic {name} " + " ".join(
        f"--from-literal={key}=..." for key in SECRET_KEYS
    )
    if keys is None:
        where = "" if namespace_exists else " (the namespace is new)"
        raise DeployError(
            ExitCode.PREFLIGHT,
            f"Secret {name} (secrets.existingSecret) does not exist in namespace "
            f"{release.namespace}{where}",
            f"create it: {create}",
        )
    missing = [key for key in SECRET_KEYS if key not in keys]
    if missing:
        raise DeployError(
            ExitCode.PREFLIGHT,
            f"Secret {name} in namespace {release.namespace} lacks {', '.join(missing)}",
            f"add the missing keys: {create}",
        )
    return f"Secret {name} has {', '.join(SECRET_KEYS)}"


def connect(
    release: Release,
    kubeconfig: str | None,
    context: str | None,
    say: Callable[[str], None],
    environ: Mapping[str, str] = os.environ,
) -> Kube:
    source = kubeconfig_source(kubeconfig, environ, Path.home())
    names, current = read_contexts(source)
    chosen = choose_context(names, current, context, release.policy, release.env)
    kube = Kube.connect(source, chosen)
    version = kube.server_version()
    say(f"context    {chosen} ({kube.server}, Kubernetes {version}, from {source.origin})")
    return kube


def prepare(
    kube: Kube,
    release: Release,
    values: Mapping[str, Any],
    image: Image,
    dry_run: bool,
    say: Callable[[str], None],
) -> None:
    """The namespace and Secret checks; the namespace is created (where the policy allows)
    only once every check has passed."""
    exists = kube.namespace_exists(release.namespace)
    action = namespace_action(release, exists)
    name = existing_secret(values)
    keys = kube.secret_keys(release.namespace, name) if name and exists else None
    secrets = secret_status(release, values, keys, exists)
    if action == "create" and not dry_run:
        kube.create_namespace(release.namespace)
    state = {"exists": "exists", "create": "would be created" if dry_run else "created"}[action]
    say(f"namespace  {release.namespace} {state}")
    say(f"secrets    {secrets}")
    say(f"image      {image.reference}")
