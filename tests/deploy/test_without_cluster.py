"""Error paths against reality, as an operator meets them: the real CLI in a subprocess, with
no kubeconfig, a kubeconfig naming a closed loopback port, and a server that hangs up."""

import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from deployctl.errors import ExitCode

from .conftest import run_deployctl, write_kubeconfig


def assert_one_line_error(result, code: ExitCode, *phrases: str) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("deployctl: ")
    assert "\n" not in message, message
    for phrase in phrases:
        assert phrase in message
    return message


@pytest.mark.parametrize("command", ["deploy", "diff", "status", "rollback", "uninstall"])
def test_no_cluster_configured_says_how_to_point_at_one(tmp_path, command):
    result = run_deployctl("--env", "dev", command, home=tmp_path)
    assert_one_line_error(
        result,
        ExitCode.NO_CLUSTER,
        "no Kubernetes cluster configured",
        "KUBECONFIG",
        "make cluster-up",
    )


def test_kubeconfig_naming_a_missing_file(tmp_path):
    result = run_deployctl(
        "-e", "dev", "status", home=tmp_path, env={"KUBECONFIG": str(tmp_path / "gone")}
    )
    assert_one_line_error(result, ExitCode.NO_CLUSTER, f"KUBECONFIG={tmp_path}/gone")


@pytest.mark.slow
def test_closed_port_is_unreachable_and_names_the_server_and_context(tmp_path, closed_port):
    server = f"https://127.0.0.1:{closed_port}"
    config = write_kubeconfig(tmp_path / "config", server, contexts=("project",), current="project")
    result = run_deployctl("-e", "dev", "status", home=tmp_path, env={"KUBECONFIG": str(config)})
    assert_one_line_error(
        result,
        ExitCode.UNREACHABLE,
        f"cannot reach the API server {server} (context project)",
        "Connection refused",
        "make cluster-up",
    )


@contextmanager
def loopback_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback port whose every connection goes to handle, in a background thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            handle(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        listener.close()


@pytest.fixture
def hang_up_server() -> Iterator[int]:
    """Accepts connections and closes them at once: a port that is not an API server."""
    with loopback_server(lambda conn: conn.close()) as port:
        yield port


@pytest.mark.slow
def test_a_port_that_hangs_up_is_unreachable_too(tmp_path, hang_up_server):
    server = f"https://127.0.0.1:{hang_up_server}"
    config = write_kubeconfig(tmp_path / "config", server)
    result = run_deployctl("-e", "e2e", "deploy", home=tmp_path, env={"KUBECONFIG": str(config)})
    assert_one_line_error(result, ExitCode.UNREACHABLE, f"cannot reach the API server {server}")


def test_wrong_context_lists_the_available_ones(tmp_path, closed_port):
    config = write_kubeconfig(
        tmp_path / "config",
        f"https://127.0.0.1:{closed_port}",
        contexts=("kind-a", "project"),
        current="project",
    )
    result = run_deployctl(
        "-e", "dev", "--context", "prod", "status", home=tmp_path, env={"KUBECONFIG": str(config)}
    )
    assert_one_line_error(
        result, ExitCode.PREFLIGHT, "'prod' is not in the kubeconfig (available: kind-a, project)"
    )


def test_production_refuses_the_implicit_current_context(tmp_path, closed_port):
    config = write_kubeconfig(tmp_path / "config", f"https://127.0.0.1:{closed_port}")
    # `status`: a production deploy stops earlier, at its unsigned image (tests/release).
    args = ("-e", "production", "status")
    result = run_deployctl(*args, home=tmp_path, env={"KUBECONFIG": str(config)})
    assert_one_line_error(result, ExitCode.PREFLIGHT, "explicit context", "KUBE_CONTEXT=")


def test_production_refuses_a_tag_before_any_cluster_access(tmp_path):
    args = ("-e", "production", "deploy", "--image-tag", "0.1.0-abc")
    result = run_deployctl(*args, home=tmp_path)
    assert_one_line_error(result, ExitCode.UNTRUSTED_IMAGE, "production deploys by digest only")


def test_latest_in_production_is_refused_before_any_cluster_access(tmp_path):
    result = run_deployctl("-e", "production", "deploy", "--image-tag", "latest", home=tmp_path)
    assert_one_line_error(result, ExitCode.PREFLIGHT, "'latest' is refused in production")


def test_missing_helm_is_named_before_the_cluster_is_contacted(tmp_path, closed_port):
    config = write_kubeconfig(tmp_path / "config", f"https://127.0.0.1:{closed_port}")
    args = ("-e", "dev", "--helm", str(tmp_path / "helm"), "status")
    result = run_deployctl(*args, home=tmp_path, env={"KUBECONFIG": str(config)})
    assert_one_line_error(result, ExitCode.MISSING_TOOL, "make tools")


def test_uninstalling_production_needs_confirmation(tmp_path):
    result = run_deployctl("-e", "production", "uninstall", home=tmp_path)
    assert_one_line_error(result, ExitCode.PREFLIGHT, "YES=1")


@pytest.fixture
def tls_server_with_unknown_ca(tmp_path) -> Iterator[int]:
    """A TLS port whose certificate no kubeconfig CA vouches for (a cluster re-created with
    new certificates looks like this to an old kubeconfig)."""
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def handshake(conn: socket.socket) -> None:
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            conn.close()

    with loopback_server(handshake) as port:
        yield port


def test_a_server_certificate_the_kubeconfig_does_not_trust(tmp_path, tls_server_with_unknown_ca):
    server = f"https://127.0.0.1:{tls_server_with_unknown_ca}"
    config = write_kubeconfig(tmp_path / "config", server)
    result = run_deployctl("-e", "dev", "status", home=tmp_path, env={"KUBECONFIG": str(config)})
    assert_one_line_error(
        result, ExitCode.UNREACHABLE, "TLS verification failed", "certificate-authority",
    )  # fmt: skip
