"""Checks made before helm touches anything; each failure names what to change."""

import os
from collections.abc import Callable, Mapping

from .errors import DeployError, ExitCode
from .kube import Kube, choose_context, kubeconfig_source, read_contexts
from .release import Release
from .values import SECRET_KEYS, Image, Rendered

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
    release: Release, rendered: Rendered, keys: set[str] | None, namespace_exists: bool
) -> str:
    """Where DATABASE_URL and JWT_SECRET come from; `keys` are those of the Secret the pods
    read when the chart does not create it (None when that Secret does not exist). Values the
    chart needs to create its own are checked by the chart itself, at render time."""
    if rendered.secret_in_chart:
        return "the chart creates the Secret from the values"
    name = rendered.secret
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
    source = kubeconfig_source(kubeconfig, environ)
    names, current = read_contexts(source)
    chosen = choose_context(names, current, context, release.policy, release.env)
    kube = Kube.connect(source, chosen)
    version = kube.server_version()
    say(f"context    {chosen} ({kube.server}, Kubernetes {version}, from {source.origin})")
    return kube


def prepare(
    kube: Kube, release: Release, rendered: Rendered, dry_run: bool, say: Callable[[str], None]
) -> None:
    """The namespace and Secret checks; the namespace is created (where the policy allows)
    only once every check has passed."""
    exists = kube.namespace_exists(release.namespace)
    action = namespace_action(release, exists)
    name = None if rendered.secret_in_chart else rendered.secret
    keys = kube.secret_keys(release.namespace, name) if name and exists else None
    secrets = secret_status(release, rendered, keys, exists)
    if action == "create" and not dry_run:
        kube.create_namespace(release.namespace)
    state = {"exists": "exists", "create": "would be created" if dry_run else "created"}[action]
    say(f"namespace  {release.namespace} {state}")
    say(f"secrets    {secrets}")
    say(f"image      {rendered.image.reference}")
