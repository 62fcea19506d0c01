"""The subcommands' work, importable without click: each takes the shared Options."""

import json
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import click

from . import report
from .errors import DeployError, ExitCode
from .helm import Helm, HelmFailed
from .kube import Kube
from .preflight import check_image, connect, prepare
from .release import DEFAULT_COSIGN, DEFAULT_HELM, HELM_PLUGINS, Release
from .signature import GITHUB_ISSUER, Trust, parse_image_ref, require_trust, verify
from .values import Image, Rendered, parse_image, read_render
from .verify import FailureWatch, check_health, failing_pods, recent_warnings, unfinished_jobs


@dataclass(frozen=True)
class Options:
    """What every subcommand shares: where the release goes and how to reach the cluster."""

    env: str
    kubeconfig: str | None = None
    context: str | None = None
    timeout_s: int = 300
    helm: Path = DEFAULT_HELM
    values: tuple[Path, ...] = ()
    # Where the chart comes from: the folder in this checkout, or oci://... at chart_version.
    chart: str | None = None
    chart_version: str | None = None
    # The image by digest, REGISTRY/NAME@sha256:..., and whose signature it must carry.
    image: str | None = None
    verify_key: Path | None = None
    verify_identity: str | None = None
    verify_issuer: str | None = None
    cosign: Path = DEFAULT_COSIGN

    @property
    def trust(self) -> Trust | None:
        if not (self.verify_key or self.verify_identity):
            return None
        issuer = self.verify_issuer or GITHUB_ISSUER
        return Trust(self.cosign, self.verify_key, self.verify_identity, issuer)


def say(line: str) -> None:
    click.echo(line, err=True)


def _helm_for(options: Options, release: Release) -> Helm:
    """helm, before any cluster is contacted (it renders the chart without one)."""
    if not os.access(options.helm, os.X_OK):
        raise DeployError(
            ExitCode.MISSING_TOOL,
            f"helm not found at {options.helm}",
            "build the pinned helm with `make tools`, or pass another binary with --helm",
        )
    image = parse_image_ref(options.image) if options.image else None
    return Helm(options.helm, release, None, options.kubeconfig, options.timeout_s, image)


def _release(options: Options) -> Release:
    if options.chart and options.chart.startswith("oci://") and not options.chart_version:
        raise DeployError(
            ExitCode.PREFLIGHT,
            f"the chart {options.chart} needs a version",
            "pass the version `make chart-publish` pushed (CHART_VERSION=, --chart-version)",
        )
    return Release.for_env(options.env, options.chart, options.chart_version)


def check_signature(options: Options, release: Release, image: Image) -> None:
    """An image given by digest, and every production image, must be a digest signed by the
    trusted key or identity; cosign checks it before the cluster is touched."""
    if not (options.image or release.policy.require_signed_digest):
        return
    if not image.digest:
        raise DeployError(
            ExitCode.UNTRUSTED_IMAGE,
            f"{image.reference} is a tag without a digest: {release.env} deploys by digest only",
            "pass the signed digest `make image-push` printed (IMAGE_REF=REGISTRY/NAME@sha256:...)",
        )
    trust = require_trust(options.trust, release.env)
    say(f"signature  {image.reference} against {trust.describe()}")
    verify(parse_image_ref(image.reference), trust)
    say("signature  verified")


def render(options: Options, image_tag: str | None) -> tuple[Helm, Rendered]:
    """What the chart will run, refused early when the values or the tag break policy."""
    helm = _helm_for(options, _release(options))
    if image_tag:
        # Before rendering: the chart's schema refuses some tags too, in less direct words.
        check_image(helm.release, parse_image(f"{helm.release.name}:{image_tag}"))
    try:
        manifests = helm.run(helm.template_args(options.values, image_tag))
    except HelmFailed as exc:
        # The chart's own checks (values.schema.json, its `fail` messages) say what is wrong;
        # helm's warnings before them do not.
        error = exc.stderr[exc.stderr.find("Error: ") :].removeprefix("Error: ")
        error = error.split("Use --debug flag")[0]
        raise DeployError(
            ExitCode.PREFLIGHT,
            f"the chart refuses the {options.env} values: " + " ".join(error.split()),
            "fix the values it names (deploy/values/ENV.yaml, or VALUES=path/to/secrets.yaml "
            "for secrets kept outside git)",
        ) from None
    rendered = read_render(manifests, helm.release.name)
    check_image(helm.release, rendered.image)
    return helm, rendered


def _open(options: Options, helm: Helm) -> tuple[Kube, Helm]:
    kube = connect(helm.release, options.kubeconfig, options.context, say)
    return kube, replace(helm, context=kube.context)


def _helm(helm: Helm, args: list[str], missing_ok: bool = False) -> str | None:
    """Runs a helm command whose failure needs no diagnosis beyond helm's own message;
    None when the release does not exist and `missing_ok`."""
    release = helm.release
    try:
        return helm.run(args)
    except HelmFailed as exc:
        if exc.release_missing and missing_ok:
            return None
        if exc.release_missing:
            raise DeployError(
                ExitCode.PREFLIGHT,
                f"no release {release.name} in namespace {release.namespace} "
                f"(context {helm.context})",
                f"deploy it first (make deploy ENV={release.env}), or check ENV and the context",
            ) from None
        say(f"helm {args[0]} failed:\n{exc}")
        raise DeployError(
            ExitCode.RELEASE_FAILED,
            f"helm {args[0]} of {release.name} in {release.namespace} failed (helm's error above)",
            "fix what helm names; `make status ENV=...` shows the release's state",
        ) from None


def _explain_unhealthy(kube: Kube, release: Release, problems: list[str]) -> None:
    say("the release is not healthy:\n" + report.format_problems(problems))
    say(report.format_pod_reports(failing_pods(kube, release)))


def failure_outcome(helm_error: str) -> str:
    """What --atomic did, from helm's message (pkg/action/{upgrade,install}.go): the operator
    must know what is running now."""
    if "an error occurred while" in helm_error:
        return "--atomic's clean-up failed too: check `make status` before anything else"
    if "has been rolled back" in helm_error:
        return "the release was rolled back to its previous revision (--atomic)"
    if "has been uninstalled" in helm_error:
        return "the first install was removed again (--atomic)"
    return "helm changed nothing in the cluster"


def deploy(options: Options, image_tag: str | None, dry_run: bool) -> None:
    started, since = time.monotonic(), datetime.now(UTC)
    helm, rendered = render(options, image_tag)
    release = helm.release
    check_signature(options, release, rendered.image)
    kube, helm = _open(options, helm)
    say(f"chart      {release.chart} {release.chart_version or '(this checkout)'}")
    prepare(kube, release, rendered, dry_run, say)
    if dry_run:
        show_changes(helm, image_tag, options.values)
        say("dry run: nothing was changed")
        return
    say(f"helm       upgrade --install {release.name} --atomic --wait (timeout {helm.timeout_s}s)")
    with FailureWatch(kube, release, say) as watch:
        try:
            result = helm.run_json(helm.upgrade_args(options.values, image_tag))
        except HelmFailed as exc:
            failure = exc
        else:
            failure = None
    if failure:
        say(f"helm failed:\n{failure}")
        say(report.format_pod_reports(watch.reports.values()))
        warnings = recent_warnings(kube.warning_events(release.namespace), since)
        if warnings:
            say("warnings since the deploy started:\n" + report.format_problems(warnings))
        for job in unfinished_jobs(kube.jobs(release.namespace, release.selector)):
            say(f"left behind: Job {job} (a failed hook; the next deploy replaces it)")
        raise DeployError(
            ExitCode.RELEASE_FAILED,
            f"the deploy of {release.name} to {release.namespace} failed; "
            f"{failure_outcome(failure.stderr)}",
            "fix what helm's error, the pod events and the logs above show, then deploy again",
        )
    revision = result["version"]
    health = check_health(kube, release)
    if health.problems:
        _explain_unhealthy(kube, release, health.problems)
        if revision > 1:
            say(f"rolling back revision {revision} to the previous one")
            _helm(helm, helm.rollback_args(None))
        raise DeployError(
            ExitCode.VERIFY_FAILED,
            f"revision {revision} of {release.name} installed but failed verification"
            + (" and was rolled back" if revision > 1 else " (first install: left in place)"),
            "fix what the problems above show, then deploy again"
            + ("" if revision > 1 else f"; `make uninstall ENV={release.env}` removes it"),
        )
    click.echo(
        report.format_summary(
            "deployed", release, kube.context, revision, health, time.monotonic() - started
        )
    )


def show_changes(helm: Helm, image_tag: str | None, extra_values: tuple[Path, ...]) -> None:
    if not (HELM_PLUGINS / "diff" / "plugin.yaml").is_file():
        raise DeployError(
            ExitCode.MISSING_TOOL,
            f"the helm-diff plugin is not installed in {HELM_PLUGINS}",
            "install the pinned one with `make tools`",
        )
    changes = _helm(helm, helm.diff_args(extra_values, image_tag)) or ""
    click.echo(changes.rstrip() or "no changes")


def diff(options: Options, image_tag: str | None) -> None:
    helm, _ = render(options, image_tag)
    _, helm = _open(options, helm)
    show_changes(helm, image_tag, options.values)


def status(options: Options) -> None:
    started = time.monotonic()
    release = Release.for_env(options.env)
    kube, helm = _open(options, _helm_for(options, release))
    info = json.loads(_helm(helm, helm.status_args()))
    _report_health(kube, release, f"release ({info['info']['status']})", info, started)


def _report_health(kube: Kube, release: Release, verb: str, info: dict, started: float) -> None:
    health = check_health(kube, release)
    click.echo(
        report.format_summary(
            verb, release, kube.context, info["version"], health, time.monotonic() - started
        )
    )
    problems = health.problems
    if info["info"]["status"] != "deployed":
        problems = [f"helm reports the release as {info['info']['status']}", *problems]
    if problems:
        _explain_unhealthy(kube, release, problems)
        raise DeployError(
            ExitCode.VERIFY_FAILED,
            f"release {release.name} in {release.namespace} is not healthy",
            f"fix what the problems above show, or roll back (make rollback ENV={release.env})",
        )


def rollback(options: Options, revision: int | None) -> None:
    started = time.monotonic()
    release = Release.for_env(options.env)
    kube, helm = _open(options, _helm_for(options, release))
    say(f"helm       rollback {release.name} to revision {revision or 'previous'}")
    _helm(helm, helm.rollback_args(revision))
    info = json.loads(_helm(helm, helm.status_args()))
    _report_health(kube, release, "rolled back", info, started)


def uninstall(options: Options, confirmed: bool) -> None:
    release = Release.for_env(options.env)
    if release.policy.confirm_uninstall and not confirmed:
        raise DeployError(
            ExitCode.PREFLIGHT,
            f"uninstalling {release.env} needs confirmation",
            "add YES=1 (make) or --yes",
        )
    kube, helm = _open(options, _helm_for(options, release))
    where = f"{release.namespace} (context {kube.context})"
    if _helm(helm, helm.uninstall_args(), missing_ok=True) is None:
        click.echo(f"release {release.name} is not installed in {where}")
    else:
        click.echo(f"uninstalled {release.name} from {where}")
    # helm uninstall leaves hook resources; a failed migration Job would otherwise stay.
    for job in kube.jobs(release.namespace, release.selector):
        kube.delete_job(release.namespace, job["metadata"]["name"])
        click.echo(f"  deleted hook Job {job['metadata']['name']}")
    claims = [
        claim["metadata"]["name"] for claim in kube.claims(release.namespace, release.selector)
    ]
    for name in claims:
        click.echo(
            f"  kept PersistentVolumeClaim {name} (its data); delete it with "
            f"kubectl -n {release.namespace} delete pvc {name}"
        )
    # Other things may live in the namespace; removing it is the operator's decision.
    click.echo(f"  kept namespace {release.namespace}")
