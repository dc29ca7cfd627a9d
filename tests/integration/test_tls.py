"""Optional TLS: a service with a certificate and key serves TLS only; clients trusting its CA reach it
(the SDK and the launcher's health probe), and a plain client does not."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from longwatch import errors
from longwatch.client import MemoryClient
from longwatch.security import TLS_CA_ENV, TLS_CERT_ENV, TLS_KEY_ENV, server_credentials
from orchestration.health import is_serving
from tests.integration.test_api_token import serve_raising_memory


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the system's openssl."""
    directory = tmp_path_factory.mktemp("tls")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _serve_with_tls(check, certificate, monkeypatch):
    cert, key = certificate
    monkeypatch.setenv(TLS_CERT_ENV, str(cert))
    monkeypatch.setenv(TLS_KEY_ENV, str(key))

    asyncio.run(serve_raising_memory(check, token=""))


async def _search(address: str) -> None:
    client = MemoryClient(address, token="")
    try:
        await client.search("NotFound", timeout_s=5)
    finally:
        await client.close()


def test_a_client_trusting_the_ca_reaches_a_tls_service(certificate, monkeypatch):
    monkeypatch.setenv(TLS_CA_ENV, str(certificate[0]))

    async def check(address):
        with pytest.raises(errors.NotFound, match="raised NotFound"):  # the servicer answered over TLS
            await _search(address)
        assert await asyncio.to_thread(is_serving, address)

    _serve_with_tls(check, certificate, monkeypatch)


def test_a_plain_client_cannot_reach_a_tls_service(certificate, monkeypatch):
    monkeypatch.delenv(TLS_CA_ENV, raising=False)

    async def check(address):
        with pytest.raises(errors.Unavailable):
            await _search(address)
        assert not await asyncio.to_thread(is_serving, address)

    _serve_with_tls(check, certificate, monkeypatch)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({TLS_CERT_ENV: "/x/cert.pem"}, f"set both {TLS_CERT_ENV} and {TLS_KEY_ENV}"),
        ({TLS_CERT_ENV: "/no/cert.pem", TLS_KEY_ENV: "/no/key.pem"}, "cannot be read"),
    ],
)
def test_bad_tls_settings_are_refused_saying_what_to_change(environ, message):
    with pytest.raises(errors.InvalidArgument, match=message):
        server_credentials(environ)
