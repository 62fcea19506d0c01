"""Render the nginx config in nginx/templates/ for one use (a profile plus overrides).

Only `${UPPER_CASE}` placeholders are replaced, exactly as the chart's
`items-api.nginx.render` helper does over the same files, so nginx's own `$variables`
pass through and both renderings of one set of values are byte-identical.

    python nginx/render.py --profile local --out .local/nginx/conf
    python nginx/render.py --profile vm --set SERVER_NAME=api.example.com --out /etc/nginx/items-api
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPO = TEMPLATES.parent.parent
LOCAL_RUN_DIR = REPO / ".local" / "nginx"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
# The tuning defaults (suited to a JSON API) are the chart's `nginx:` values, read from here.
CHART_VALUES = REPO / "helm" / "items-api" / "values.yaml"


def _on_off(flag: bool) -> str:
    return "on" if flag else "off"


def tuning(chart: dict) -> dict[str, str]:
    """Placeholders every profile shares, from the chart's values, spelt as nginx wants them
    (as the chart's items-api.nginx.placeholders helper does)."""
    n, proxy = chart["nginx"], chart["nginx"]["proxy"]
    return {
        "CLIENT_MAX_BODY_SIZE": n["clientMaxBodySize"],
        "CLIENT_BODY_BUFFER_SIZE": n["clientBodyBufferSize"],
        "PROXY_CONNECT_TIMEOUT": proxy["connectTimeout"],
        "PROXY_SEND_TIMEOUT": proxy["sendTimeout"],
        "PROXY_READ_TIMEOUT": proxy["readTimeout"],
        "WEBSOCKET_TIMEOUT": proxy["websocketTimeout"],
        "PROXY_BUFFERING": _on_off(proxy["buffering"]),
        "PROXY_REQUEST_BUFFERING": _on_off(proxy["requestBuffering"]),
        "PROXY_BUFFER_SIZE": proxy["bufferSize"],
        "PROXY_BUFFERS": proxy["buffers"],
        "UPSTREAM_KEEPALIVE": str(n["upstreamKeepalive"]["connections"]),
        "UPSTREAM_KEEPALIVE_TIMEOUT": f"{n['upstreamKeepalive']['timeoutSeconds']}s",
        "RATE_LIMIT": n["rateLimit"]["rate"],
        "RATE_LIMIT_BURST": str(n["rateLimit"]["burst"]),
        "SERVER_NAME": n["serverName"],
        # Outside a cluster only loopback peers are proxies; the sidecar trusts the chart's CIDR.
        "TRUSTED_PROXY_CIDR": "127.0.0.1/32",
        "UPSTREAM": f"127.0.0.1:{chart['containerPorts']['http']}",
    }


def sidecar(chart: dict) -> dict[str, str]:
    """The chart's own sidecar settings, for the profile that renders what the chart renders."""
    n = chart["nginx"]
    return {
        "WORKER_PROCESSES": str(n["workerProcesses"]),
        "HTTP_PORT": str(n["port"]),
        "STATUS_LISTEN": str(n["statusPort"]),
        # The ingress controller's pods; behind 127.0.0.1 every client would share the
        # ingress's rate-limit bucket.
        "TRUSTED_PROXY_CIDR": n["trustedProxyCidr"],
    }


CHART = yaml.safe_load(CHART_VALUES.read_text())
TUNING = tuning(CHART)

PROFILES: dict[str, dict[str, str]] = {
    # `make up`: a daemon in .local/nginx in front of gunicorn on 127.0.0.1:8000.
    "local": {
        "WORKER_PROCESSES": "auto",
        "LISTEN_ADDR": "127.0.0.1",
        "HTTP_PORT": "8080",
        "HTTPS_PORT": "8443",
        "STATUS_LISTEN": "127.0.0.1:8081",
        "PUBLIC_SCHEME": "http",
        "RUN_DIR": str(LOCAL_RUN_DIR),
        "ACCESS_LOG": str(LOCAL_RUN_DIR / "logs" / "access.log"),
        "ERROR_LOG": str(LOCAL_RUN_DIR / "logs" / "error.log"),
        "TLS_CERT": str(LOCAL_RUN_DIR / "tls" / "tls.crt"),
        "TLS_KEY": str(LOCAL_RUN_DIR / "tls" / "tls.key"),
    },
    # The chart's sidecar: non-root, read-only root, an emptyDir on /tmp/nginx, logs to
    # the container's streams, TLS left to the ingress.
    "sidecar": {
        **sidecar(CHART),
        # Reached on the pod IP; the ports are not exposed beyond the pod's Service.
        "LISTEN_ADDR": "0.0.0.0",  # noqa: S104
        "HTTPS_PORT": "8443",
        "PUBLIC_SCHEME": "http",
        "RUN_DIR": "/tmp/nginx",  # noqa: S108 - the sidecar's own emptyDir
        "ACCESS_LOG": "/dev/stdout",
        "ERROR_LOG": "stderr",
        "TLS_CERT": "/etc/nginx/tls/tls.crt",
        "TLS_KEY": "/etc/nginx/tls/tls.key",
    },
    # A VM or bare-metal host where nginx is the edge (nginx/README.md).
    "vm": {
        "WORKER_PROCESSES": "auto",
        "LISTEN_ADDR": "0.0.0.0",  # noqa: S104 - the public edge
        "HTTP_PORT": "80",
        "HTTPS_PORT": "443",
        "STATUS_LISTEN": "127.0.0.1:8081",
        "PUBLIC_SCHEME": "https",
        "RUN_DIR": "/var/lib/nginx/items-api",
        "ACCESS_LOG": "/var/log/nginx/items-api.access.log",
        "ERROR_LOG": "/var/log/nginx/items-api.error.log",
        "TLS_CERT": "/etc/ssl/items-api/tls.crt",
        "TLS_KEY": "/etc/ssl/items-api/tls.key",
    },
}
PROFILES["tls"] = {**PROFILES["local"], "PUBLIC_SCHEME": "https"}


class RenderError(ValueError):
    """A template needs a placeholder the values do not define."""


def values_for(profile: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    if profile not in PROFILES:
        raise RenderError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    values = {**TUNING, **PROFILES[profile], **(overrides or {})}
    unknown = set(values) - placeholders()
    if unknown:
        raise RenderError(f"no template uses {', '.join(sorted(unknown))}")
    if values["PUBLIC_SCHEME"] not in ("http", "https"):
        raise RenderError(f"PUBLIC_SCHEME must be http or https, not {values['PUBLIC_SCHEME']!r}")
    return values


def placeholders() -> set[str]:
    return {name for text in templates().values() for name in PLACEHOLDER.findall(text)}


def templates() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(TEMPLATES.glob("*.conf"))}


def render_text(text: str, values: dict[str, str]) -> str:
    missing = sorted(set(PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise RenderError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def render(values: dict[str, str]) -> dict[str, str]:
    """File name -> rendered text, for every template file."""
    return {name: render_text(text, values) for name, text in templates().items()}


def write(out: Path, values: dict[str, str]) -> Path:
    """Render into `out` and create the directories nginx needs before it starts."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in render(values).items():
        (out / name).write_text(text)
    Path(values["RUN_DIR"]).mkdir(parents=True, exist_ok=True)
    for log in (values["ACCESS_LOG"], values["ERROR_LOG"]):
        if log.startswith("/") and not log.startswith("/dev/"):
            Path(log).parent.mkdir(parents=True, exist_ok=True)
    return out / "nginx.conf"


def parse_set(item: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep or not PLACEHOLDER.fullmatch(f"${{{name}}}"):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {item!r}")
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="local", choices=sorted(PROFILES))
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        type=parse_set,
        default=[],
        metavar="NAME=VALUE",
        help="override one placeholder (repeatable)",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    args = parser.parse_args(argv)
    try:
        conf = write(args.out, values_for(args.profile, dict(args.overrides)))
    except RenderError as exc:
        parser.error(str(exc))
    print(conf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
