"""Keeps credentials in source URLs out of statuses, errors and logs.

Cameras are often addressed as rtsp://user:password@host/stream, and FFmpeg's error messages
quote the URL they failed on, so every text that leaves a stream goes through `redact`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "***"
# Where a URL's user[:password]@ part can end. One character class, searched forward: it cannot
# backtrack, and since every "://" holds a "/", no stretch of the text is searched twice.
_USERINFO_END = re.compile(r"[/\s@]")
# Query parameters that carry secrets in camera and CDN URLs.
_SECRET_PARAMETERS = frozenset(
    {"password", "passwd", "pwd", "pass", "token", "access_token", "key", "secret", "auth", "signature", "sig"}
)


def redact_url(url: str) -> str:
    """The URL with its user:password@ and secret query values replaced by ***; a path is returned as is."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed IPv6 literal: hide any user:password@ the plain way
        return redact(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, REDACTED if k.lower() in _SECRET_PARAMETERS else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact(text: str, url: str = "") -> str:
    """`text` with `url` replaced by its redacted form and any other user:password@ in it hidden."""
    if url and url in text:
        text = text.replace(url, redact_url(url))
    return _hide_userinfo(text)


def _hide_userinfo(text: str) -> str:
    """`text` with the user[:password] after every "://" replaced by ***, in one pass (linear in its length).

    Any "://" counts, whatever comes before it: hiding a little too much is harmless."""
    pieces = []
    done = 0  # text[:done] is in pieces
    mark = text.find("://")
    while mark >= 0:
        start = mark + 3
        end = _USERINFO_END.search(text, start)
        if end is not None and end.group() == "@" and end.start() > start:
            pieces += [text[done:start], REDACTED]
            done = end.start()
        mark = text.find("://", start)
    pieces.append(text[done:])
    return "".join(pieces)
