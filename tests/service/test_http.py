"""HTTP semantics and the Host header, against the real service under gunicorn."""

import http.client
import socket
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from harness.postgres import PostgresServer
from harness.service import ServiceProcess
from tests.conftest import service_on_own_database
from tests.reliability.conftest import token_for

PROBLEM = "application/problem+json"
COLLECTION = "/api/v1/items"


@pytest.fixture(scope="module")
def service(postgres: PostgresServer) -> Iterator[ServiceProcess]:
    with service_on_own_database(postgres, "http") as service:
        yield service


@pytest.fixture(scope="module")
def item_path(service: ServiceProcess) -> str:
    token = token_for(service.url)
    created = httpx.post(
        f"{service.url}{COLLECTION}",
        json={"name": "probe", "price": "1.00"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    return f"{COLLECTION}/{created.json()['id']}"


def raw(
    service: ServiceProcess,
    method: str,
    path: str,
    host: str | None = None,
    port: int | None = None,
):
    """One request as written (http.client sends no body for HEAD and reads none back), to the
    API listener unless another port is given."""
    connection = http.client.HTTPConnection("127.0.0.1", port or service.port, timeout=30)
    try:
        headers = {"Host": host} if host is not None else {}
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


GET_PATHS = [COLLECTION, "/api/v1/ping", "/livez", "/readyz", "/version", "/openapi.json"]


@pytest.mark.parametrize("path", [*GET_PATHS, "item"])
def test_head_answers_wherever_get_does(service, item_path, path):
    path = item_path if path == "item" else path
    get, get_body = raw(service, "GET", path)
    head, head_body = raw(service, "HEAD", path)
    assert (get.status, head.status) == (200, 200)
    assert head_body == b""
    assert head.getheader("content-type") == get.getheader("content-type")
    assert head.getheader("content-length") == str(len(get_body))


ALLOWED = {
    COLLECTION: "GET, HEAD, OPTIONS, POST",
    "item": "DELETE, GET, HEAD, OPTIONS, PATCH",
    "/api/v1/auth/token": "OPTIONS, POST",
    "/api/v1/ping": "GET, HEAD, OPTIONS",
}


@pytest.mark.parametrize(
    ("path", "method"),
    [
        (path, method)
        for path, allowed in ALLOWED.items()
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE")
        if method not in allowed.split(", ")
    ],
)
def test_405_lists_every_method_of_the_path(service, item_path, path, method):
    allowed = ALLOWED[path]
    response, body = raw(service, method, item_path if path == "item" else path)
    assert response.status == 405, body
    assert response.getheader("allow") == allowed
    assert response.getheader("content-type") == PROBLEM


@pytest.mark.parametrize("path", list(ALLOWED))
def test_options_answers_with_the_methods_of_the_path(service, item_path, path):
    allowed = ALLOWED[path]
    response, body = raw(service, "OPTIONS", item_path if path == "item" else path)
    assert (response.status, body) == (204, b"")
    assert response.getheader("allow") == allowed


def test_options_on_an_unknown_path_is_404(service):
    response, _ = raw(service, "OPTIONS", "/api/v1/nothing-here")
    assert response.status == 404
    assert response.getheader("content-type") == PROBLEM


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "localhost.evil.example", ""])
def test_an_untrusted_host_gets_400_and_never_a_redirect_to_it(service, host):
    response, body = raw(service, "GET", f"{COLLECTION}/", host=host)
    assert response.status == 400, body
    assert response.getheader("location") is None
    assert response.getheader("content-type") == PROBLEM
    assert b"evil" not in body


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_redirects_point_at_the_trusted_host_that_was_asked(service, host):
    authority = f"{host}:{service.port}"
    response, _ = raw(service, "GET", f"{COLLECTION}/", host=authority)
    assert response.status == 307
    assert response.getheader("location") == f"http://{authority}{COLLECTION}"


@pytest.mark.parametrize(
    ("path", "listener"),
    [("/livez", "api"), ("/readyz", "api"), ("/metrics", "metrics")],
)
def test_probes_and_scrapes_by_pod_ip_are_served(service, path, listener):
    # The kubelet (on the API port) and Prometheus (on the metrics port) send the pod's IP as
    # the Host.
    port = service.metrics_port if listener == "metrics" else service.port
    response, body = raw(service, "GET", path, host=f"10.244.1.17:{port}", port=port)
    assert response.status == 200, body


def test_a_websocket_from_an_untrusted_host_is_refused(service):
    path = "/api/v1/ws/echo"
    # The URL's host is what the client sends as Host; the socket goes to the service.
    with (
        socket.create_connection(("127.0.0.1", service.port)) as sock,
        pytest.raises(InvalidStatus) as refused,
    ):
        connect(f"ws://evil.example:{service.port}{path}", sock=sock, open_timeout=10)
    assert refused.value.response.status_code == 403
    with connect(f"ws://127.0.0.1:{service.port}{path}", open_timeout=10) as websocket:
        websocket.send("hello")
        assert websocket.recv(timeout=10) == "hello"
