"""Credentials in source URLs never reach statuses, errors or logs."""

from __future__ import annotations

import pytest

from perception.core.redaction import redact, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:hunter2@10.0.0.5:554/h264", "rtsp://***@10.0.0.5:554/h264"),
        ("rtsp://admin@cam.local/live", "rtsp://***@cam.local/live"),
        ("https://cdn.example/live.m3u8?token=abc123&q=hd", "https://cdn.example/live.m3u8?token=***&q=hd"),
        ("rtsp://cam.local/live", "rtsp://cam.local/live"),
        ("/videos/gate.mp4", "/videos/gate.mp4"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_errors_quoting_the_url_are_redacted():
    url = "rtsp://admin:p%40ss@cam.local/live"
    message = f"[Errno 111] Connection refused: '{url}'"
    assert redact(message, url) == "[Errno 111] Connection refused: 'rtsp://***@cam.local/live'"
    assert redact("failed: http://u:p@host/x and more") == "failed: http://***@host/x and more"
