"""The write-ahead log: an acknowledged clip survives any crash.

A record is `magic | payload length | crc32(payload) | payload`, appended and fdatasync'ed
before the write is acknowledged. Records that arrive together, from any streams, share one
fdatasync (group commit: `append_many`). A record is a clip (`WalEntry`) or the deletion of a
stream (`WalDelete`), so a crash in the middle of a deletion finishes it on replay. The log is
a series of segments (`wal-<seq>.log`); a checkpoint file names the position up to which
every record is applied to the store. On open, the records after the checkpoint are returned
for replay; re-applying a record is harmless because stores upsert by the stable clip id. A record cut short by a crash
(or failing its checksum) ends its segment's replay: it was never acknowledged.
Segments roll at a size limit and are deleted once the checkpoint passes them, so the
log stays about one segment long.

Not thread-safe: one thread (the memory service's write thread) drives it.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import os
import re
import struct
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from longwatch.errors import InvalidArgument, ResourceExhausted, Unavailable
from longwatch.types import ClipRecord, Keyframe
from memory_service.core.types import WalDelete, WalEntry, WalRecord

logger = logging.getLogger(__name__)

_MAGIC = b"LWR1"
_HEADER = struct.Struct("<4sII")  # magic, payload length in bytes, crc32 of the payload
_JSON_LENGTH = struct.Struct("<I")
# 64 MiB, the gRPC message limit: a longer "record" can only be a corrupt length field.
MAX_RECORD_BYTES = 64 * 1024 * 1024
_SEGMENT_NAME = re.compile(r"^wal-(\d{16})\.log$")
_CHECKPOINT = "checkpoint.json"


@dataclass(frozen=True, order=True)
class LogPosition:
    segment: int
    offset: int  # bytes from the start of the segment


def encode_entry(record: WalRecord) -> bytes:
    """JSON for the clip's scalar fields, then the text embedding (float32), the visual embedding (float64)
    and the keyframes' JPEG bytes; or JSON naming the stream a deletion removes."""
    if isinstance(record, WalDelete):
        header = json.dumps({"delete_stream": record.stream_id}).encode()
        return _JSON_LENGTH.pack(len(header)) + header
    fields = dataclasses.asdict(record.clip)
    visual = np.asarray(fields.pop("visual_embedding"), dtype="<f8")
    fields.pop("keyframes")
    frames = record.clip.keyframes
    embedding = np.asarray(record.embedding, dtype="<f4").reshape(-1)
    header = json.dumps(
        {
            "clip": fields,
            "embedding_dim": embedding.size,
            "visual_dim": visual.size,
            "keyframes": [[frame.t_s, len(frame.jpeg)] for frame in frames],
        }
    ).encode()
    jpegs = b"".join(frame.jpeg for frame in frames)
    return _JSON_LENGTH.pack(len(header)) + header + embedding.tobytes() + visual.tobytes() + jpegs


def decode_entry(payload: bytes) -> WalRecord:
    """Inverse of `encode_entry`; raises ValueError on a payload it cannot read."""
    try:
        (json_length,) = _JSON_LENGTH.unpack_from(payload, 0)
        start = _JSON_LENGTH.size
        header = json.loads(payload[start : start + json_length])
        if "delete_stream" in header:
            return WalDelete(stream_id=str(header["delete_stream"]))
        offset = start + json_length
        embedding = np.frombuffer(payload, dtype="<f4", count=header["embedding_dim"], offset=offset)
        offset += embedding.nbytes
        visual = np.frombuffer(payload, dtype="<f8", count=header["visual_dim"], offset=offset)
        offset += visual.nbytes
        frames = []
        for t_s, size in header.get("keyframes", []):  # records of older versions have none
            if offset + size > len(payload):
                raise ValueError("a keyframe runs past the end of the record")
            frames.append(Keyframe(t_s=float(t_s), jpeg=payload[offset : offset + size]))
            offset += size
        fields = header["clip"]
        clip = ClipRecord(
            **{
                **fields,
                "ocr_lines": tuple(fields["ocr_lines"]),
                "visual_embedding": tuple(visual.tolist()),
                "keyframes": tuple(frames),
            }
        )
    except (struct.error, KeyError, TypeError, json.JSONDecodeError, ValueError) as exc:
        raise ValueError(f"unreadable log record: {exc}") from exc
    return WalEntry(clip=clip, embedding=embedding.astype(np.float32))


def _stream_of(record: WalRecord) -> str:
    return record.stream_id if isinstance(record, WalDelete) else record.clip.stream_id


def _frame(payload: bytes) -> bytes:
    return _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload


def _fsync_directory(directory: Path) -> None:
    """Makes a created, renamed or deleted name durable, not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_segment(path: Path, start: int) -> tuple[list[bytes], int, int]:
    """Payloads of the well-formed records from `start`, the offset after the last one, and bytes left unread."""
    data = path.read_bytes()
    payloads: list[bytes] = []
    position = start
    while position < len(data):
        if len(data) - position < _HEADER.size:
            break
        magic, length, checksum = _HEADER.unpack_from(data, position)
        end = position + _HEADER.size + length
        if magic != _MAGIC or length > MAX_RECORD_BYTES or end > len(data):
            break
        payload = data[position + _HEADER.size : end]
        if zlib.crc32(payload) != checksum:
            break
        payloads.append(payload)
        position = end
    return payloads, position, len(data) - position


class WriteAheadLog:
    """Segmented, checksummed, fsync'ed log of `WalRecord`s. Call `open()` first and `close()` last."""

    def __init__(self, directory: Path, segment_max_bytes: int) -> None:
        self.directory = directory
        self._segment_max_bytes = segment_max_bytes
        self._fd: int | None = None
        self._end = LogPosition(1, 0)  # where the next record goes
        self._applied = LogPosition(1, 0)  # every record before this is in the store
        self._checkpointed = LogPosition(1, 0)
        self._stream_bytes: dict[int, Counter[str]] = {}  # segment -> stream -> bytes of its records there

    @property
    def segment_paths(self) -> list[Path]:
        """Existing segments, oldest first."""
        names = (_SEGMENT_NAME.match(path.name) for path in self.directory.glob("wal-*.log"))
        return sorted((self.directory / match.group(0) for match in names if match), key=self._seq)

    def open(self) -> list[WalRecord]:
        """Recovers the log and returns the records after the checkpoint, to re-apply in order."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._checkpointed = self._applied = self._read_checkpoint()
        entries: list[WalRecord] = []
        segments = self._live_segments()
        for index, path in enumerate(segments):
            seq = self._seq(path)
            start = self._checkpointed.offset if seq == self._checkpointed.segment else 0
            recovered = self._recover_segment(path, start, is_last=index == len(segments) - 1)
            counts = self._stream_bytes.setdefault(seq, Counter())
            for record, size in recovered:
                counts[_stream_of(record)] += size
            entries.extend(record for record, _ in recovered)
        last = self._seq(segments[-1]) if segments else max(self._checkpointed.segment, 1)
        self._open_segment(last)
        if entries:
            logger.info("write-ahead log: %d records to replay from %s", len(entries), self.directory)
        return entries

    def append(self, entry: WalRecord) -> int:
        """Writes one record and waits until it is on disk; returns its size in bytes."""
        return self.append_many([entry])[0]

    def append_many(self, entries: list[WalRecord]) -> list[int]:
        """Writes the records and waits until they are on disk, with one fdatasync per segment written
        (group commit); returns their sizes. Raises InvalidArgument, before writing any, when one is too
        large, and ResourceExhausted when the disk is full (none of them is then acknowledged)."""
        if self._fd is None:
            raise Unavailable("the write-ahead log is closed; the memory service is stopping")
        records = [_frame(encode_entry(entry)) for entry in entries]
        for record in records:
            if len(record) - _HEADER.size > MAX_RECORD_BYTES:
                # Replay would take it for a corrupt length and stop there, losing the records after it.
                size = len(record)
                raise InvalidArgument(f"the clip's log record would be {size} bytes; the limit is {MAX_RECORD_BYTES}")
        batch = bytearray()
        for entry, record in zip(entries, records, strict=True):
            if (
                self._end.offset + len(batch) > 0
                and self._end.offset + len(batch) + len(record) > self._segment_max_bytes
            ):
                self._write_durably(bytes(batch))
                batch.clear()
                self._roll()
            batch += record
            self._stream_bytes.setdefault(self._end.segment, Counter())[_stream_of(entry)] += len(record)
        self._write_durably(bytes(batch))
        return [len(record) for record in records]

    def roll(self) -> None:
        """Starts a new segment now, so that the next checkpoint deletes every record before it (a
        deleted stream's records included)."""
        if self._fd is None:
            raise Unavailable("the write-ahead log is closed; the memory service is stopping")
        if self._end.offset > 0:
            self._roll()

    @property
    def disk_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.segment_paths)

    def bytes_by_stream(self) -> Counter[str]:
        """Bytes of each stream's records in the segments on disk (those before the checkpoint in its own
        segment, left from before a restart, are not counted)."""
        total: Counter[str] = Counter()
        for counts in list(self._stream_bytes.values()):  # read from other threads than the writer's:
            total.update(dict(counts))  # copies (one step each under the GIL) before iterating
        return total

    def _write_durably(self, data: bytes) -> None:
        if not data:
            return
        try:
            self._write_all(data)
            os.fdatasync(self._fd)
        except OSError as exc:
            self._undo_partial_write(exc)
        self._end = LogPosition(self._end.segment, self._end.offset + len(data))

    def mark_applied(self) -> None:
        """Every record appended so far is in the store."""
        self._applied = self._end

    def checkpoint(self) -> None:
        """Persists the applied position and deletes the segments entirely before it."""
        if self._applied <= self._checkpointed:
            return
        tmp = self.directory / f"{_CHECKPOINT}.tmp"
        tmp.write_text(json.dumps(dataclasses.asdict(self._applied)))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.directory / _CHECKPOINT)
        _fsync_directory(self.directory)
        self._checkpointed = self._applied
        for path in self.segment_paths:
            if self._seq(path) < self._checkpointed.segment:
                path.unlink()
                self._stream_bytes.pop(self._seq(path), None)
                logger.debug("deleted applied log segment %s", path.name)

    def close(self) -> None:
        if self._fd is None:
            return
        self.checkpoint()
        os.close(self._fd)
        self._fd = None

    def _read_checkpoint(self) -> LogPosition:
        path = self.directory / _CHECKPOINT
        if not path.exists():
            return LogPosition(1, 0)
        try:
            fields = json.loads(path.read_text())
            return LogPosition(int(fields["segment"]), int(fields["offset"]))
        except (ValueError, KeyError, TypeError) as exc:
            # The file is replaced atomically, so this is damage from outside: replaying everything is safe.
            logger.error("unreadable log checkpoint %s (%s); replaying every segment", path, exc)
            return LogPosition(1, 0)

    def _live_segments(self) -> list[Path]:
        """Segments at or after the checkpoint; older ones (left by a crash during cleanup) are deleted."""
        live = []
        for path in self.segment_paths:
            if self._seq(path) < self._checkpointed.segment:
                path.unlink()
            else:
                live.append(path)
        return live

    def _recover_segment(self, path: Path, start: int, is_last: bool) -> list[tuple[WalRecord, int]]:
        payloads, good_end, unread = _read_segment(path, start)
        if unread > 0:
            logger.warning(
                "log segment %s: ignored %d bytes after offset %d that do not form a whole record "
                "(a write cut short by a crash; it was never acknowledged)",
                path.name,
                unread,
                good_end,
            )
            if is_last:  # new records must follow the last good one, or a later replay would stop before them
                os.truncate(path, good_end)
        entries = []
        for payload in payloads:
            try:
                entries.append((decode_entry(payload), _HEADER.size + len(payload)))
            except ValueError as exc:
                logger.error("log segment %s: skipped a record: %s", path.name, exc)
        return entries

    def _open_segment(self, seq: int) -> None:
        path = self.directory / f"wal-{seq:016d}.log"
        is_new = not path.exists()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if is_new:
            _fsync_directory(self.directory)
        self._end = LogPosition(seq, os.fstat(self._fd).st_size)

    def _roll(self) -> None:
        assert self._fd is not None
        finished = self._end
        os.close(self._fd)
        self._open_segment(finished.segment + 1)
        if self._applied == finished:  # the whole finished segment is applied
            self._applied = self._end
        self.checkpoint()

    def _write_all(self, record: bytes) -> None:
        assert self._fd is not None
        view = memoryview(record)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]

    def _undo_partial_write(self, exc: OSError) -> None:
        """Cuts a half-written record off so later records stay readable, then reports the failure."""
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, self._end.offset)
        except OSError:
            os.close(self._fd)
            self._fd = None  # a log with garbage in the middle must take no more writes
        if exc.errno == errno.ENOSPC:
            raise ResourceExhausted(f"the disk holding {self.directory} is full; free space and retry") from exc
        raise Unavailable(f"cannot write the log in {self.directory}: {exc}") from exc

    @staticmethod
    def _seq(path: Path) -> int:
        match = _SEGMENT_NAME.match(path.name)
        assert match is not None
        return int(match.group(1))
