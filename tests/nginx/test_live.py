"""What a client sees through the real nginx in front of the real service."""

import json
import re
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from harness.net import free_port
from harness.wait import eventually
from tests.nginx.conftest import SERVICE_KEEPALIVE_S

PROBLEM = "application/problem+json"


def service_request(service, request_id: str) -> dict:
    """The service's own access-log entry for one request id."""

    def find() -> dict | None:
        for line in service.log().splitlines():
            if f'"{request_id}"' in line:
                entry = json.loads(line)
                if entry.get("request_id") == request_id and entry.get("msg") == "request":
                    return entry
        return None

    return eventually(find, f"the service logging request {request_id}")


def assert_problem(response: httpx.Response, status: int, title: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == title
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture(scope="module")
def tls_context(nginx_dir: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=nginx_dir / "tls.crt")


def test_request_id_round_trips_to_the_service_and_back(proxy, service):
    response = httpx.get(f"{proxy.url}/api/v1/ping", headers={"X-Request-ID": "nginx-rt-0001"})

    assert response.status_code == 200
    assert response.headers.get_list("x-request-id") == ["nginx-rt-0001"]
    assert service_request(service, "nginx-rt-0001")["status"] == 200


def test_request_without_or_with_a_malformed_id_gets_one_from_nginx(proxy, service):
    for headers in ({}, {"X-Request-ID": 'forged" line'}):
        response = httpx.get(f"{proxy.url}/api/v1/ping", headers=headers)

        request_id = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        assert service_request(service, request_id)["status"] == 200


@pytest.mark.parametrize(
    ("source", "client_ip", "scheme"),
    [
        # TRUSTED_PROXY_CIDR (127.0.0.1/32 locally): a proxy in front of nginx names the client.
        ("127.0.0.1", "198.18.0.5", "https"),
        # Anyone else is taken at their socket address, whatever they claim.
        ("127.0.0.2", "127.0.0.2", "http"),
    ],
)
def test_client_ip_and_scheme_survive_the_proxy_and_only_a_trusted_one_names_them(
    proxy, service, source, client_ip, scheme
):
    request_id = f"nginx-client-{source}"
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source)) as client:
        client.get(
            f"{proxy.url}/api/v1/ping",
            headers={
                "X-Request-ID": request_id,
                "X-Forwarded-For": "198.18.0.5",
                "X-Forwarded-Proto": "https",
            },
        )

    entry = service_request(service, request_id)
    assert (entry["client_ip"], entry["scheme"]) == (client_ip, scheme)
    logged = f'"request_id":"{request_id}","client":"{client_ip}"'
    eventually(lambda: logged in proxy.access_log.read_text(), f"nginx logging {logged}")


@pytest.mark.parametrize(
    ("trusted", "limited"),
    [
        # The sidecar's default (loopback only): a pod, or a client behind a permissive edge,
        # cannot pick a fresh bucket per request by varying X-Forwarded-For.
        (None, True),
        # The operator named the edge (here: 127.0.0.2): each client it names has a bucket.
        ("127.0.0.2/32", False),
    ],
    ids=["default", "edge-named"],
)
def test_the_login_limit_holds_whatever_x_forwarded_for_says(
    start_nginx, service, trusted, limited
):
    overrides = {"TRUSTED_PROXY_CIDR": trusted} if trusted else {}
    # Thirty password checks at once queue in the service; nginx waits for each.
    sidecar = start_nginx(
        "sidecar", LISTEN_ADDR="127.0.0.1", UPSTREAM=f"127.0.0.1:{service.port}",
        PROXY_READ_TIMEOUT="300s", **overrides,
    )  # fmt: skip
    # A wrong password on purpose: each login is a 401 unless the limit answers first.
    form = {"username": "nobody@example.com", "password": "wrong"}  # pragma: allowlist secret
    transport = httpx.HTTPTransport(local_address="127.0.0.2", limits=httpx.Limits())
    with httpx.Client(transport=transport, timeout=300) as client:

        def login(n: int) -> httpx.Response:
            headers = {"X-Forwarded-For": f"198.18.0.{n}"}
            return client.post(f"{sidecar.url}/api/v1/auth/token", data=form, headers=headers)

        # At once, as a guesser would: one after another, each waits out a password check
        # and the login zone (1 r/s, burst 10) refills between them.
        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = [response.status_code for response in pool.map(login, range(1, 31))]

    assert set(statuses) <= {401, 429}
    assert (429 in statuses) is limited, statuses


def test_https_scheme_reaches_the_service_and_its_redirects(tls_proxy, service, tls_context):
    response = httpx.get(
        f"{tls_proxy.https_url}/api/v1/items/",
        headers={"X-Request-ID": "nginx-scheme-0001"},
        verify=tls_context,
    )

    assert response.status_code == 307
    assert response.headers["location"] == f"{tls_proxy.https_url}/api/v1/items"
    assert service_request(service, "nginx-scheme-0001")["scheme"] == "https"


def test_https_serves_the_api_and_plain_http_redirects(tls_proxy, tls_context):
    secure = httpx.get(f"{tls_proxy.https_url}/api/v1/ping", verify=tls_context)
    plain = httpx.post(f"{tls_proxy.url}/api/v1/items?limit=1", content=b"{}")

    assert secure.status_code == 200
    assert secure.headers["strict-transport-security"].startswith("max-age=")
    assert plain.status_code == 308
    assert plain.headers["location"] == f"{tls_proxy.https_url}/api/v1/items?limit=1"


def test_plain_listener_sends_security_headers_but_no_hsts_or_version(proxy):
    response = httpx.get(f"{proxy.url}/api/v1/ping")

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers
    assert response.headers["server"] == "nginx"


def test_json_is_gzipped(proxy):
    response = httpx.get(f"{proxy.url}/openapi.json", headers={"Accept-Encoding": "gzip"})

    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "paths" in response.json()


@pytest.mark.slow
def test_idle_keepalive_longer_than_the_apps_never_gives_502(proxy):
    # POSTs are never retried by nginx: a reused connection the app had closed would surface.
    def post(client: httpx.Client) -> int:
        return client.post(f"{proxy.url}/api/v1/items", json={"name": "x"}).status_code

    statuses = []
    with httpx.Client() as client, ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            statuses += pool.map(lambda _: post(client), range(4))
            time.sleep(SERVICE_KEEPALIVE_S + 1)

    assert statuses == [401] * len(statuses)


def test_body_over_the_limit_gets_413_problem(proxy):
    response = httpx.post(
        f"{proxy.url}/api/v1/items",
        content=b"x" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )

    body = assert_problem(response, 413, "Request Entity Too Large")
    assert body["instance"] == "/api/v1/items"


def test_burst_over_the_rate_gets_429_problem(start_nginx, service):
    limited = start_nginx(
        UPSTREAM=f"127.0.0.1:{service.port}", RATE_LIMIT="1r/s", RATE_LIMIT_BURST="2"
    )

    with httpx.Client() as client:
        responses = [client.get(f"{limited.url}/api/v1/ping") for _ in range(10)]

    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    rejected = [r for r in responses if r.status_code == 429]
    assert rejected
    assert_problem(rejected[0], 429, "Too Many Requests")
    assert rejected[0].headers["retry-after"] == "1"


@pytest.mark.parametrize("path", ["/metrics", "//metrics", "/metrics/", "/%6Detrics", "/readyz"])
def test_internal_paths_are_refused_publicly(proxy, path):
    assert_problem(httpx.get(f"{proxy.url}{path}"), 404, "Not Found")


def test_metrics_are_served_by_the_services_metrics_listener(service):
    httpx.get(f"{service.url}/api/v1/ping")
    response = httpx.get(service.metrics_url)

    assert response.status_code == 200
    assert "http_requests_total" in response.text


def test_stub_status_only_on_the_internal_listener(proxy):
    internal = httpx.get(f"{proxy.status_url}/stub_status")
    public = httpx.get(f"{proxy.url}/stub_status")

    assert internal.status_code == 200
    assert internal.text.startswith("Active connections:")
    assert public.status_code == 404


def test_upstream_down_gives_502_problem(start_nginx):
    down = start_nginx(UPSTREAM=f"127.0.0.1:{free_port()}")

    response = httpx.get(f"{down.url}/api/v1/ping")

    assert_problem(response, 502, "Bad Gateway")
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_websocket_upgrade_passes_through(proxy, tls_proxy, tls_context, scheme):
    if scheme == "ws":
        url, options = f"ws://127.0.0.1:{proxy.http_port}", {}
    else:
        url, options = f"wss://127.0.0.1:{tls_proxy.https_port}", {"ssl": tls_context}

    with connect(f"{url}/api/v1/ws/echo", **options) as websocket:
        websocket.send("through nginx")
        assert websocket.recv(timeout=5) == "through nginx"
