"""Keyframes as JPEG files in the data directory: `<dir>/<stream>/<clip id>#k<index>.jpg`.

The log holds each keyframe's bytes until its record is applied, so a file is written after the
log's fsync without one of its own: a crash before the write is repaired by the replay, which
writes the files that are missing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from longwatch.types import ClipRecord
from memory_service.core.hierarchy import keyframe_ids, parse_keyframe_id

JPEG_MAGIC = b"\xff\xd8\xff"


class KeyframeFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, clip: ClipRecord) -> int:
        """Writes the clip's keyframes (those missing or different); returns their bytes."""
        if not clip.keyframes:
            return 0
        folder = self.directory / clip.stream_id
        folder.mkdir(parents=True, exist_ok=True)
        for frame_id, frame in zip(keyframe_ids(clip.clip_id, len(clip.keyframes)), clip.keyframes, strict=True):
            path = folder / f"{frame_id}.jpg"
            if path.exists() and path.stat().st_size == len(frame.jpeg):
                continue
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(frame.jpeg)
            os.replace(tmp, path)
        return sum(len(frame.jpeg) for frame in clip.keyframes)

    def read(self, keyframe_id: str) -> bytes | None:
        """The keyframe's JPEG; None for an id that names no stored keyframe (or is no keyframe id at all)."""
        path = self._path(keyframe_id)
        try:
            return path.read_bytes() if path is not None else None
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def delete(self, stream_id: str, clip_id: str, count: int) -> None:
        for frame_id in keyframe_ids(clip_id, count):
            (self.directory / stream_id / f"{frame_id}.jpg").unlink(missing_ok=True)

    def delete_stream(self, stream_id: str) -> None:
        shutil.rmtree(self.directory / stream_id, ignore_errors=True)

    def disk_bytes(self, stream_ids: Sequence[str] = ()) -> int:
        folders = [self.directory / stream_id for stream_id in stream_ids] if stream_ids else [self.directory]
        return sum(path.stat().st_size for folder in folders if folder.exists() for path in folder.rglob("*.jpg"))

    def _path(self, keyframe_id: str) -> Path | None:
        parsed = parse_keyframe_id(keyframe_id)  # only stream-id characters, '@', digits: no '/', no '..'
        if parsed is None:
            return None
        stream_id = parsed[0].split("@", 1)[0]
        if not stream_id.strip("."):
            return None
        return self.directory / stream_id / f"{keyframe_id}.jpg"
