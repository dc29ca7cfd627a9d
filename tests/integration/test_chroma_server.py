"""Memory's chromadb in server mode, against a real `chroma run` on a free loopback port (tests/chroma_server.py)."""

from __future__ import annotations

import http.server
import subprocess
import sys
import textwrap
import threading

import pytest

from longwatch.errors import Unavailable
from memory_service.core.chroma import ChromaConnection, ChromaLocation, _http_client
from tests.chroma_server import chroma_server
from tests.integration.servers import REPO_ROOT

COLLECTION = "clips-test"
# Another process, as a second memory replica would be: writes one record and prints what it then sees.
OTHER_PROCESS = textwrap.dedent(
    f"""
    import sys
    from pathlib import Path
    from memory_service.core.chroma import ChromaConnection, ChromaLocation
    connection = ChromaConnection(ChromaLocation(Path("unused"), url=sys.argv[1]))
    collection = connection.open().get_collection({COLLECTION!r})
    collection.add(ids=["b"], embeddings=[[0.0, 1.0]], metadatas=[{{"start_s": 5.0}}])
    print(sorted(collection.get()["ids"]))
    connection.close()
    """
)


def test_two_processes_share_one_store_through_the_server(tmp_path):
    with chroma_server(tmp_path / "chroma") as url:
        connection = ChromaConnection(ChromaLocation(tmp_path / "embedded-unused", url=url))
        client = connection.open()
        try:
            assert not connection.is_embedded
            collection = client.create_collection(COLLECTION)
            collection.add(ids=["a"], embeddings=[[1.0, 0.0]], metadatas=[{"start_s": 0.0}])

            other = subprocess.run(
                [sys.executable, "-c", OTHER_PROCESS, url], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
            )
            assert other.returncode == 0, other.stderr
            assert other.stdout.strip().splitlines()[-1] == "['a', 'b']"  # it saw this process's record

            near_b = collection.query(query_embeddings=[[0.1, 0.9]], n_results=1, where={"start_s": {"$gte": 1.0}})
            assert near_b["ids"] == [["b"]]  # and this one sees its record, with a numeric range filter
        finally:
            connection.close()
        assert not (tmp_path / "embedded-unused").exists()  # nothing embedded was opened on the side


def test_what_the_server_stored_is_there_after_it_restarts(tmp_path):
    path = tmp_path / "chroma"
    with chroma_server(path) as url:
        connection = ChromaConnection(ChromaLocation(tmp_path / "unused", url=url))
        connection.open().create_collection(COLLECTION).add(ids=["a"], embeddings=[[1.0, 0.0]])
        connection.close()
    with chroma_server(path) as url:
        connection = ChromaConnection(ChromaLocation(tmp_path / "unused", url=url))
        try:
            assert connection.open().get_collection(COLLECTION).get()["ids"] == ["a"]
        finally:
            connection.close()


def test_a_stopped_server_is_unavailable(tmp_path):
    from chromadb.config import Settings

    with chroma_server(tmp_path / "chroma") as url:
        pass
    with pytest.raises(Unavailable, match=f"the chroma server at {url} did not answer its heartbeat within 1 s"):
        _http_client(url, Settings(anonymized_telemetry=False), connect_timeout_s=1.0)


class _NotChroma(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


def test_an_http_server_that_is_not_chroma_is_named_as_such():
    from chromadb.config import Settings

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotChroma)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(Unavailable, match=r"HTTP 404 from /api/v2/heartbeat: not a chromadb 1.x server"):
            _http_client(url, Settings(anonymized_telemetry=False), connect_timeout_s=0.5)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
