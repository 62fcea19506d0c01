"""`deployctl`: a thin click layer over deployctl.actions (the Makefile's deploy targets call it).

Every option can also come from the environment: DEPLOYCTL_<OPTION> for the group's options,
DEPLOYCTL_<COMMAND>_<OPTION> for a subcommand's (click's auto_envvar_prefix)."""

from pathlib import Path

import click

from . import actions
from .errors import EXIT_CODE_HELP, DeployError
from .release import DEFAULT_COSIGN, DEFAULT_HELM, ENVIRONMENTS

# "\b" keeps click from re-wrapping the table.
EPILOG = "\b\nExit codes:\n" + "\n".join(
    f"  {int(code)}  {text}" for code, text in EXIT_CODE_HELP.items()
)


class _Group(click.Group):
    """Expected failures end as one message and their named exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DeployError as exc:
            click.echo(f"deployctl: {exc}", err=True)
            ctx.exit(exc.code)


def binary_option(name: str, default: Path, built_by: str):
    return click.option(
        f"--{name}",
        type=click.Path(path_type=Path, dir_okay=False),
        default=default,
        show_default=True,
        help=f"The {name} binary (`{built_by}` builds the pinned one).",
    )


@click.group(cls=_Group, epilog=EPILOG, context_settings={"auto_envvar_prefix": "DEPLOYCTL"})
@click.option(
    "--env",
    "-e",
    type=click.Choice(ENVIRONMENTS),
    required=True,
    help="Environment: picks the namespace (items-api-ENV), the values file "
    "(deploy/values/ENV.yaml) and the safety policy.",
)
@click.option(
    "--kubeconfig",
    metavar="PATH",
    help="Kubeconfig file. Default: $KUBECONFIG, else ~/.kube/config.",
)
@click.option(
    "--context",
    metavar="NAME",
    help="Kubeconfig context. Default: its current-context (production requires this option).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="Seconds helm waits for the rollout (and hooks) before it fails and rolls back.",
)
@binary_option("helm", DEFAULT_HELM, "make tools")
@click.option(
    "--values",
    "-f",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    multiple=True,
    help="Extra values file after the environment's own (repeatable); e.g. secrets kept "
    "outside git.",
)
@click.option(
    "--chart",
    metavar="PATH|oci://REGISTRY/charts/NAME",
    help="The chart: a folder, or the published artifact (needs --chart-version). "
    "Default: helm/items-api in this checkout.",
)
@click.option("--chart-version", metavar="VERSION", help="Version of an oci:// chart.")
@click.option(
    "--image",
    metavar="REGISTRY/NAME@sha256:...",
    help="Run this image by digest; its signature is verified before the cluster is touched.",
)
@click.option(
    "--verify-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="cosign public key the image's signature must verify against.",
)
@click.option(
    "--verify-identity",
    metavar="IDENTITY",
    help="Keyless: the certificate identity that must have signed (the signing workflow, "
    "https://github.com/OWNER/REPO/.github/workflows/ci.yml@refs/heads/main).",
)
@click.option(
    "--verify-issuer",
    metavar="URL",
    help="Keyless: the OIDC issuer of that identity (default: GitHub Actions').",
)
@binary_option("cosign", DEFAULT_COSIGN, "make release-tools")
@click.pass_context
def cli(ctx: click.Context, **options: object) -> None:
    """Deploy items-api with helm, then verify it is serving."""
    ctx.obj = actions.Options(**options)


image_tag_option = click.option(
    "--image-tag",
    metavar="TAG",
    help="Image tag to run (default: the values' image.tag, else the chart's appVersion).",
)


@cli.command()
@image_tag_option
@click.option("--dry-run", is_flag=True, help="Run the read-only checks and show the diff only.")
@click.pass_obj
def deploy(options: actions.Options, image_tag: str | None, dry_run: bool) -> None:
    """Preflight, helm upgrade --install --atomic --wait, then verify and summarise."""
    actions.deploy(options, image_tag, dry_run)


@cli.command()
@image_tag_option
@click.pass_obj
def diff(options: actions.Options, image_tag: str | None) -> None:
    """Show what a deploy would change, object by object (Secret values redacted)."""
    actions.diff(options, image_tag)


@cli.command()
@click.pass_obj
def status(options: actions.Options) -> None:
    """Show the release's revision, image, pods and /readyz; non-zero when unhealthy."""
    actions.status(options)


@cli.command()
@click.option(
    "--revision",
    type=click.IntRange(min=1),
    help="Revision to return to (default: the previous one).",
)
@click.pass_obj
def rollback(options: actions.Options, revision: int | None) -> None:
    """Roll the release back, wait for it, then verify and summarise."""
    actions.rollback(options, revision)


@cli.command()
@click.option("--yes", is_flag=True, help="Confirm uninstalling production.")
@click.pass_obj
def uninstall(options: actions.Options, yes: bool) -> None:
    """Remove the release and its leftover hook Jobs (PersistentVolumeClaims are kept)."""
    actions.uninstall(options, yes)


def main() -> None:
    cli(prog_name="deployctl")
