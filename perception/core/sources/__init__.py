"""Frame source backends, chosen from the source string: an absolute path is a file, a URL goes by its scheme.

Frames a client pushes (PushFrames) have no source string: `open_push_source` makes their source.

Each backend module has `open_source(stream_id, location, options) -> FrameSource`, which runs the
checks that can be done at once (a missing file, a file that is not a video), so AddStream refuses
bad input before it returns. Modules are imported only when chosen (they pull in PyAV).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from longwatch.errors import InvalidArgument
from longwatch.redaction import redact_url
from longwatch.validation import PATH_QUOTE_LIMIT, quote_prefix
from perception.core.sources.base import FrameSource, SourceOptions

if TYPE_CHECKING:
    from perception.core.sources.push_source import PushOptions, PushSource

# backend name -> module with `open_source(stream_id, location, options) -> FrameSource`
SOURCES: dict[str, str] = {
    "file": "perception.core.sources.file_source",
    "live": "perception.core.sources.live_source",
}

# URL scheme -> backend name (an absolute path, with no scheme, is a "file")
SOURCE_BY_SCHEME: dict[str, str] = {
    "rtsp": "live",
    "rtsps": "live",
    "http": "live",
    "https": "live",
    "udp": "live",
}

# Shown as a pushed stream's source; an AddStream naming it is told to push instead.
PUSH_PREFIX = "push:"

__all__ = [
    "PUSH_PREFIX",
    "SOURCES",
    "SOURCE_BY_SCHEME",
    "FrameSource",
    "SourceOptions",
    "open_push_source",
    "open_source",
    "source_backend_for",
]


def source_backend_for(source: str) -> str:
    """The backend name for a source string, or InvalidArgument saying what is accepted."""
    if not source.strip():
        raise InvalidArgument("source is empty; pass an absolute path to a video file or a stream URL")
    if source.startswith("/"):
        return "file"
    if source.startswith(PUSH_PREFIX) and "://" not in source:
        raise InvalidArgument(
            f"{quote_prefix(source, PATH_QUOTE_LIMIT)} is a pushed stream; a client sends its frames with "
            "PushFrames (`longwatch push`), AddStream takes a file path or a stream URL"
        )
    if "://" in source:
        scheme = source.split("://", 1)[0].lower()
        try:
            return SOURCE_BY_SCHEME[scheme]
        except KeyError:
            valid = ", ".join(f"{name}://" for name in SOURCE_BY_SCHEME)
            shown = quote_prefix(redact_url(source), PATH_QUOTE_LIMIT)
            raise InvalidArgument(
                f"unsupported URL scheme {quote_prefix(scheme, 20)} in {shown}; "
                f"supported: {valid}, or an absolute file path"
            ) from None
    raise InvalidArgument(
        f"{quote_prefix(source, PATH_QUOTE_LIMIT)} is a relative path; pass an absolute path to a video file "
        "(perception may run in another directory) or a stream URL"
    )


def open_source(stream_id: str, source: str, options: SourceOptions) -> FrameSource:
    """Opens `source` with its backend (blocking: file checks touch the disk)."""
    backend = source_backend_for(source)
    return importlib.import_module(SOURCES[backend]).open_source(stream_id, source, options)


def open_push_source(stream_id: str, options: PushOptions, is_live: bool = False, peer: str = "") -> PushSource:
    """The source of one PushFrames call (its module is imported here, when the first push comes)."""
    module = importlib.import_module("perception.core.sources.push_source")
    return module.open_push_source(stream_id, options, is_live=is_live, peer=peer)
