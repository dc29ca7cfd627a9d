"""Credentials in source URLs never reach statuses, errors or logs."""

from __future__ import annotations

import pytest

from longwatch.redaction import redact, redact_url


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


LETTERS = "a" * (1 << 20)  # a pasted blob: the old regex backtracked quadratically on it


@pytest.mark.timeout(10)  # a hang guard, not a timing assert
@pytest.mark.parametrize("url", ["rtsp://user:secret@127.0.0.1:1/" + LETTERS, "rtsp://127.0.0.1:1/" + LETTERS])
def test_a_1_mb_url_in_an_error_is_redacted(url):
    shown = redact(f"Connection refused: '{url}' and " + LETTERS, url)
    assert "secret" not in shown
    assert shown.endswith(LETTERS)


@pytest.mark.timeout(10)
def test_many_scheme_marks_are_hidden_in_one_pass():
    text = "x://u:p@h/ " * 50_000 + LETTERS + "://" + LETTERS
    assert "u:p@" not in redact(text)
    assert redact(text).count("x://***@h/") == 50_000


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("rtsp://a://b@host/x", "rtsp://a://***@host/x"),
        ("no url here", "no url here"),
        ("odd ://@host", "odd ://@host"),
        ("two: rtsp://u@a/ and rtsp://v:w@b/", "two: rtsp://***@a/ and rtsp://***@b/"),
    ],
)
def test_userinfo_after_any_scheme_mark_is_hidden(text, shown):
    assert redact(text) == shown


def test_a_log_line_holding_a_source_password_is_redacted_arguments_and_exceptions_too():
    import io
    import logging

    from longwatch.security import RedactingFilter

    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("cannot open %s", "rtsp://admin:Pl4nted@10.0.0.5/live")
        try:
            raise OSError("connection refused: rtsp://admin:Pl4nted@10.0.0.5/live")
        except OSError:
            logger.exception("stream failed")
    finally:
        logger.removeHandler(handler)
    text = written.getvalue()
    assert "Pl4nted" not in text and text.count("rtsp://***@10.0.0.5/live") == 3  # message, source line, error
