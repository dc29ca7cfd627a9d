"""Choosing memory's chromadb: URLs of a `chroma run` server are checked, and one that does not answer is named.

A real server is started in tests/integration/test_chroma_server.py; here nothing listens.
"""

from __future__ import annotations

import logging
import socket

import pydantic
import pytest

from longwatch.errors import InvalidArgument, Unavailable
from memory_service.core.chroma import ChromaConnection, ChromaLocation, ChromaServer, _http_client, parse_chroma_url
from memory_service.settings import MemorySettings


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("http://127.0.0.1:8000", ChromaServer("127.0.0.1", 8000, is_ssl=False)),
        ("http://chroma:8000/", ChromaServer("chroma", 8000, is_ssl=False)),
        (" https://vectors.example.com:443 ", ChromaServer("vectors.example.com", 443, is_ssl=True)),
        ("http://[::1]:9000", ChromaServer("::1", 9000, is_ssl=False)),
    ],
)
def test_a_server_url_gives_host_port_and_tls(url, server):
    assert parse_chroma_url(url) == server
    assert parse_chroma_url(server.url) == server  # the URL it is shown as means the same server


@pytest.mark.parametrize(
    ("url", "what_to_change"),
    [
        ("127.0.0.1:8000", "is not http(s)://HOST:PORT"),
        ("chroma", "is not http(s)://HOST:PORT"),
        ("ftp://chroma:8000", "is not http(s)://HOST:PORT"),
        ("http://:8000", "is not http(s)://HOST:PORT"),
        ("http://chroma", "has no port"),
        ("http://chroma:0", "has no port"),
        ("http://chroma:99999", "out of range"),
        ("http://chroma:port", "chroma URL"),
        ("http://chroma:8000/api/v2", "has a path"),
        ("http://chroma:8000?tenant=x", "query"),
    ],
)
def test_a_bad_url_says_how_to_write_one(url, what_to_change):
    with pytest.raises(InvalidArgument, match="http://HOST:PORT") as failure:
        parse_chroma_url(url)
    assert what_to_change in str(failure.value)
    assert "leave it empty for embedded chromadb" in str(failure.value)


def test_credentials_in_a_url_are_refused_without_being_repeated():
    with pytest.raises(InvalidArgument, match="credentials") as failure:
        parse_chroma_url("http://admin:hunter2@chroma:8000")
    assert "hunter2" not in str(failure.value) and "http://***@chroma:8000" in str(failure.value)


def test_the_setting_is_empty_by_default_and_read_from_its_variable(monkeypatch):
    monkeypatch.delenv("LONGWATCH_MEMORY_CHROMA_URL", raising=False)
    assert MemorySettings().chroma_url == ""
    monkeypatch.setenv("LONGWATCH_MEMORY_CHROMA_URL", "http://127.0.0.1:8000")
    assert MemorySettings().chroma_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize("url", ["localhost:8000", "http://chroma", " "])
def test_a_bad_setting_is_refused_naming_the_field_and_the_form(url):
    with pytest.raises(pydantic.ValidationError, match=r"(?s)chroma_url.*http://HOST:PORT"):
        MemorySettings(chroma_url=url)


def test_a_connection_with_a_bad_url_fails_before_touching_anything(tmp_path):
    connection = ChromaConnection(ChromaLocation(tmp_path / "chroma", url="chroma:8000"))
    with pytest.raises(InvalidArgument, match="http://HOST:PORT"):
        connection.open()
    assert not connection.is_embedded and not (tmp_path / "chroma").exists()


def closed_port() -> int:
    """A loopback port that nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_does_not_answer_is_unavailable_naming_it_and_what_to_do(caplog):
    caplog.set_level(logging.INFO, logger="memory_service.core.chroma")
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(Unavailable) as failure:
        _http_client(url, settings=None, connect_timeout_s=1.0)
    message = str(failure.value)
    assert url in message and "within 1 s" in message
    assert "chroma run --path" in message and "longwatch up --chroma-server" in message
    assert "LONGWATCH_MEMORY_CHROMA_URL" in message
    # Each probe that failed while waiting is a line in the log, naming the server.
    assert f"chroma server at {url} does not answer yet" in caplog.text
