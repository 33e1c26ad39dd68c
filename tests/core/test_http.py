"""The guarded outgoing client: every address it refuses, DNS answers that change between the
check and the connection, no redirects, timeouts, a capped and text-only excerpt, TLS checked
against the host name while connecting to the checked address."""

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rallypoint.core.http import (
    EXCERPT_CHARS,
    MESSAGE_CONNECT,
    MESSAGE_INSIDE,
    MESSAGE_TIMEOUT,
    MESSAGE_TLS,
    MESSAGE_USERINFO,
    DestinationRefused,
    OutgoingError,
    address_is_public,
    request_send,
    url_check,
)


class Server:
    """A tiny HTTP(S) server on 127.0.0.1 that records requests and answers what it is told."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self.requests: list[dict] = []
        self.server_names: list[str | None] = []
        self.status = 200
        self.body = b"thanks"
        self.content_type = "text/plain"
        self.extra_headers: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                server.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(server.status)
                self.send_header("Content-Type", server.content_type)
                self.send_header("Content-Length", str(len(server.body)))
                for name, value in server.extra_headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(server.body)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        if ssl_context is not None:
            ssl_context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}/hook?x=1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server():
    instance = Server()
    yield instance
    instance.close()


@pytest.fixture
def fake_dns(monkeypatch):
    """Answers for made-up host names (each value: a list of addresses, or a function returning
    one per call); every other name goes to the system resolver. Records the names asked."""
    answers: dict = {}
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in answers:
            return real(host, port, family, type, proto, flags)
        asked.append(host)
        found = answers[host]
        addresses = found() if callable(found) else found
        result = []
        for address in addresses:
            ip = ipaddress.ip_address(address)
            if ip.version == 6:
                result.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                result.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return result

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    answers["_asked"] = asked
    return answers


def post(url: str, **kwargs):
    return request_send(
        method="POST", url=url, body=b"{}", schemes=("https", "http"), timeout=5, **kwargs
    )


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "192.0.0.8",
        "192.88.99.1",
        "198.51.100.7",
        "203.0.113.9",
        "192.0.2.1",
        "198.18.0.1",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "ff0e::1",
        "fec0::1",
        "100::1",
        "64:ff9b:1::a00:1",
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    ],
)
def test_address_is_public_refuses_inside_and_reserved(address):
    assert address_is_public(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_address_is_public_accepts_public_addresses(address):
    assert address_is_public(ipaddress.ip_address(address)) is True


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8443/hook",
        "https://localhost/hook",
        "https://LOCALHOST./hook",
        "https://api.localhost/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://100.64.1.1/hook",
        "https://0.0.0.0/hook",
        "http://2130706433/",
        "http://0177.0.0.1/",
        "http://0x7f.0.0.1/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://10.1/",
        "http://0/",
    ],
)
def test_url_check_refuses_addresses_inside(url):
    with pytest.raises(DestinationRefused) as info:
        url_check(url=url, schemes=("https", "http"))
    assert info.value.message == MESSAGE_INSIDE


def test_url_check_refuses_a_name_that_resolves_inside(fake_dns):
    fake_dns["inside.test"] = ["93.184.216.34", "10.0.0.7"]  # one inside address is enough
    with pytest.raises(DestinationRefused):
        url_check(url="https://inside.test/hook")


def test_url_check_refuses_user_info_and_other_schemes():
    with pytest.raises(OutgoingError) as info:
        url_check(url="https://user:pw@example.org/hook")
    assert info.value.message == MESSAGE_USERINFO
    for url in ["http://example.org/", "ftp://example.org/", "javascript:alert(1)", "https://"]:
        with pytest.raises(OutgoingError) as info:
            url_check(url=url)
        assert info.value.message == "Enter a full address starting with https://."


def test_url_check_passes_public_and_unresolved_names(fake_dns):
    fake_dns["public.test"] = ["93.184.216.34"]
    assert url_check(url="https://public.test/x") == "https://public.test/x"
    assert url_check(url="https://93.184.216.34/x") == "https://93.184.216.34/x"
    # Not resolvable yet: sending checks again.
    assert url_check(url="https://nowhere.invalid/x") == "https://nowhere.invalid/x"


def test_request_send_refuses_loopback_without_the_setting(server, settings):
    settings.OUTGOING_ALLOWED_HOSTS = []
    for host in ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433"]:
        with pytest.raises(DestinationRefused) as info:
            post(server.url(host))
        assert info.value.message == MESSAGE_INSIDE
    assert server.requests == []


def test_request_send_reaches_a_host_named_in_the_setting(server, settings):
    settings.OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    reply = post(server.url(), headers={"X-Test": "1"})
    assert (reply.status, reply.excerpt) == (200, "thanks")
    assert len(server.requests) == 1
    assert server.requests[0]["headers"]["Host"] == f"127.0.0.1:{server.port}"
    assert server.requests[0]["headers"]["X-Test"] == "1"
    assert server.requests[0]["body"] == b"{}"


def test_request_send_setting_as_cidr_and_as_text(server, settings):
    settings.OUTGOING_ALLOWED_HOSTS = "10.0.0.0/8, 127.0.0.0/8"
    assert post(server.url()).status == 200
    settings.OUTGOING_ALLOWED_HOSTS = "10.0.0.0/8"
    with pytest.raises(DestinationRefused):
        post(server.url())
    assert len(server.requests) == 1


def test_request_send_name_resolving_inside_is_refused_before_connecting(
    server, settings, fake_dns
):
    settings.OUTGOING_ALLOWED_HOSTS = []
    fake_dns["hooks.example"] = ["127.0.0.1"]
    with pytest.raises(DestinationRefused):
        post(server.url("hooks.example"))
    assert server.requests == []


def test_request_send_every_address_of_a_name_is_checked(server, settings, fake_dns):
    settings.OUTGOING_ALLOWED_HOSTS = ["203.0.113.0/24"]
    fake_dns["mixed.example"] = ["203.0.113.9", "127.0.0.1"]
    with pytest.raises(DestinationRefused):
        post(server.url("mixed.example"))
    assert server.requests == []


def test_request_send_connects_to_the_checked_address_not_a_second_answer(
    server, settings, fake_dns
):
    """DNS rebinding: the first answer passes the check, later answers point inside. The
    connection goes to the checked address (nothing listens on 127.0.0.2's port), so the server
    on 127.0.0.1 hears nothing."""
    settings.OUTGOING_ALLOWED_HOSTS = ["127.0.0.2/32"]
    answers = iter([["127.0.0.2"]])
    fake_dns["rebind.example"] = lambda: next(answers, ["127.0.0.1"])
    with pytest.raises(OutgoingError) as info:
        post(server.url("rebind.example"))
    assert info.value.message == MESSAGE_CONNECT
    assert fake_dns["_asked"] == ["rebind.example"]
    assert server.requests == []


def test_request_send_keeps_the_host_name_in_the_host_header(server, settings, fake_dns):
    settings.OUTGOING_ALLOWED_HOSTS = ["hooks.example"]
    fake_dns["hooks.example"] = ["127.0.0.1"]
    assert post(server.url("hooks.example")).status == 200
    assert server.requests[0]["headers"]["Host"] == f"hooks.example:{server.port}"


def test_request_send_does_not_follow_redirects(server, settings):
    settings.OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    server.status = 302
    server.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    reply = post(server.url())
    assert reply.status == 302
    assert len(server.requests) == 1


def test_request_send_keeps_a_short_text_excerpt_only(server, settings):
    settings.OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    server.body = b"secret\x00\x1b[31m" + b"x" * 1_000_000
    reply = post(server.url())
    assert len(reply.excerpt) == EXCERPT_CHARS
    assert reply.excerpt == ("secret " + "[31m" + "x" * 1000)[:EXCERPT_CHARS]
    server.body, server.content_type = b"\x89PNG\r\n" + b"a" * 50, "image/png"
    assert post(server.url()).excerpt == ""
    server.body, server.content_type = b'{"ok": true}', "application/json; charset=utf-8"
    assert post(server.url()).excerpt == '{"ok": true}'


def test_request_send_times_out_on_a_silent_receiver(settings):
    settings.OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # the connection is accepted by the kernel and never answered
    try:
        started = time.monotonic()
        with pytest.raises(OutgoingError) as info:
            request_send(
                method="POST",
                url=f"http://127.0.0.1:{silent.getsockname()[1]}/",
                body=b"{}",
                schemes=("http",),
                timeout=0.5,
            )
        assert info.value.message == MESSAGE_TIMEOUT
        assert time.monotonic() - started < 3
    finally:
        silent.close()


# --- TLS: connected to the checked address, the certificate is checked for the host name -------


@pytest.fixture
def tls_server(tmp_path, monkeypatch):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=hooks.example",
            "-addext",
            "subjectAltName=DNS:hooks.example",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted by the client for these tests
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    instance = Server(ssl_context=context)
    yield instance
    instance.close()


def test_request_send_tls_uses_the_host_name_for_sni_and_certificate(
    tls_server, settings, fake_dns
):
    settings.OUTGOING_ALLOWED_HOSTS = ["hooks.example"]
    fake_dns["hooks.example"] = ["127.0.0.1"]
    reply = post(tls_server.url("hooks.example", scheme="https"))
    assert reply.status == 200
    assert tls_server.server_names == ["hooks.example"]
    assert tls_server.requests[0]["headers"]["Host"] == f"hooks.example:{tls_server.port}"


def test_request_send_tls_refuses_a_certificate_for_another_name(tls_server, settings, fake_dns):
    settings.OUTGOING_ALLOWED_HOSTS = ["other.example"]
    fake_dns["other.example"] = ["127.0.0.1"]
    with pytest.raises(OutgoingError) as info:
        post(tls_server.url("other.example", scheme="https"))
    assert info.value.message == MESSAGE_TLS
    assert tls_server.requests == []
