"""The write-ahead log gives back what was appended after the checkpoint, survives torn writes, stays bounded."""

from __future__ import annotations

import dataclasses
import json
import struct

import numpy as np
import pytest

from longwatch.types import ClipRecord
from memory_service.core.types import WalEntry
from memory_service.core.wal import WriteAheadLog, decode_entry, encode_entry


def entry(index: int, stream_id: str = "gate") -> WalEntry:
    clip = ClipRecord(
        stream_id=stream_id,
        start_s=index * 2.0,
        end_s=index * 2.0 + 1.5,
        caption=f"clip number {index}",
        ocr_lines=("EXIT 42", f"code {index}"),
        visual_embedding=(0.6, -0.8, 1e-3 * index),
        frame_count=3,
        start_wall_ms=1_700_000_000_000 + index,
    )
    embedding = (np.full(8, max(index, 1)) / np.sqrt(8 * max(index, 1) ** 2)).astype(np.float32)
    return WalEntry(clip=clip, embedding=embedding)


def clips(entries: list[WalEntry]) -> list[ClipRecord]:
    return [item.clip for item in entries]


def test_entry_encoding_round_trips():
    original = entry(7)
    decoded = decode_entry(encode_entry(original))
    assert decoded.clip == original.clip
    np.testing.assert_array_equal(decoded.embedding, original.embedding)
    assert decoded.embedding.dtype == np.float32


def test_a_record_logged_before_clips_had_a_source_key_still_decodes():
    original = ClipRecord("gate", 2.0, 3.5, "a car", ("EXIT 42",), frame_count=3, source_key="e3b0c442")
    payload = encode_entry(WalEntry(clip=original, embedding=np.ones(4, np.float32)))
    (length,) = struct.unpack_from("<I", payload)
    header = json.loads(payload[4 : 4 + length])
    del header["clip"]["source_key"]
    older = json.dumps(header).encode()
    decoded = decode_entry(struct.pack("<I", len(older)) + older + payload[4 + length :])
    assert decoded.clip == dataclasses.replace(original, source_key="")


def test_unapplied_records_are_replayed_after_a_crash(tmp_path):
    wal = WriteAheadLog(tmp_path, 1 << 20)
    assert wal.open() == []
    written = [entry(i) for i in range(3)]
    for item in written:
        wal.append(item)
    # No close(): the process died. A new process replays everything it finds after the checkpoint.
    replayed = WriteAheadLog(tmp_path, 1 << 20).open()
    assert clips(replayed) == clips(written)


def test_clean_close_checkpoints_so_nothing_is_replayed(tmp_path):
    wal = WriteAheadLog(tmp_path, 1 << 20)
    wal.open()
    wal.append(entry(0))
    wal.mark_applied()
    wal.close()
    reopened = WriteAheadLog(tmp_path, 1 << 20)
    assert reopened.open() == []
    reopened.append(entry(1))  # appends continue after the checkpoint
    assert clips(WriteAheadLog(tmp_path, 1 << 20).open()) == [entry(1).clip]


def test_a_torn_last_record_is_ignored_and_overwritten(tmp_path, caplog):
    wal = WriteAheadLog(tmp_path, 1 << 20)
    wal.open()
    wal.append(entry(0))
    wal.append(entry(1))
    segment = wal.segment_paths[-1]
    size_before = segment.stat().st_size
    wal.append(entry(2))
    # A crash in the middle of the third write: only part of its bytes reached the disk.
    with open(segment, "r+b") as handle:
        handle.truncate(size_before + 20)

    recovered = WriteAheadLog(tmp_path, 1 << 20)
    assert clips(recovered.open()) == clips([entry(0), entry(1)])
    assert "do not form a whole record" in caplog.text
    recovered.append(entry(3))
    assert clips(WriteAheadLog(tmp_path, 1 << 20).open()) == clips([entry(0), entry(1), entry(3)])


def test_a_record_failing_its_checksum_is_ignored(tmp_path):
    wal = WriteAheadLog(tmp_path, 1 << 20)
    wal.open()
    wal.append(entry(0))
    wal.append(entry(1))
    segment = wal.segment_paths[-1]
    data = bytearray(segment.read_bytes())
    data[-5] ^= 0xFF  # a flipped bit inside the last payload
    segment.write_bytes(bytes(data))
    assert clips(WriteAheadLog(tmp_path, 1 << 20).open()) == [entry(0).clip]


@pytest.mark.parametrize("garbage", [b"", b"\x00", b"LWR1", b"not a record at all, just noise" * 3])
def test_garbage_at_the_tail_never_crashes_the_replay(tmp_path, garbage):
    wal = WriteAheadLog(tmp_path, 1 << 20)
    wal.open()
    wal.append(entry(0))
    with open(wal.segment_paths[-1], "ab") as handle:
        handle.write(garbage)
    assert clips(WriteAheadLog(tmp_path, 1 << 20).open()) == [entry(0).clip]


def test_segments_roll_and_applied_ones_are_deleted(tmp_path):
    segment_bytes = 4096  # a record here is ~330 bytes: a dozen per segment
    wal = WriteAheadLog(tmp_path, segment_bytes)
    wal.open()
    for index in range(200):
        wal.append(entry(index))
        wal.mark_applied()
        assert len(wal.segment_paths) <= 2
    assert int(wal.segment_paths[-1].stem.split("-")[1]) > 10  # it did roll many times
    assert all(path.stat().st_size <= segment_bytes for path in wal.segment_paths)
    # Crash without close: only the records after the last roll's checkpoint come back.
    replayed = WriteAheadLog(tmp_path, segment_bytes).open()
    assert 0 < len(replayed) < 20
    assert clips(replayed) == clips([entry(i) for i in range(200 - len(replayed), 200)])


def test_unapplied_records_keep_their_segments_across_rolls(tmp_path):
    wal = WriteAheadLog(tmp_path, 4096)
    wal.open()
    wal.append(entry(0))
    wal.mark_applied()
    for index in range(1, 60):
        wal.append(entry(index))  # never applied: the store is failing
    assert len(wal.segment_paths) > 3
    assert clips(WriteAheadLog(tmp_path, 4096).open()) == clips([entry(i) for i in range(1, 60)])


def test_an_unreadable_checkpoint_replays_everything(tmp_path):
    wal = WriteAheadLog(tmp_path, 1 << 20)
    wal.open()
    wal.append(entry(0))
    wal.mark_applied()
    wal.close()
    (tmp_path / "checkpoint.json").write_text("{half")
    assert clips(WriteAheadLog(tmp_path, 1 << 20).open()) == [entry(0).clip]


def test_append_after_close_is_refused(tmp_path):
    from longwatch.errors import Unavailable

    wal = WriteAheadLog(tmp_path, 1 << 20)
    wal.open()
    wal.close()
    with pytest.raises(Unavailable):
        wal.append(entry(0))


def test_a_record_too_long_to_replay_is_refused_and_the_log_keeps_the_others(tmp_path, monkeypatch):
    """Replay stops at a record longer than the limit (it reads as a corrupt length), so none may be written."""
    import memory_service.core.wal as wal_module
    from longwatch.errors import InvalidArgument

    monkeypatch.setattr(wal_module, "MAX_RECORD_BYTES", 1024)
    wal = WriteAheadLog(tmp_path, 1 << 20)
    wal.open()
    wal.append(entry(1))
    huge = WalEntry(clip=ClipRecord("gate", 0.0, 1.0, "x" * 2000), embedding=entry(0).embedding)
    with pytest.raises(InvalidArgument, match="limit is 1024"):
        wal.append(huge)
    wal.append(entry(2))
    assert clips(WriteAheadLog(tmp_path, 1 << 20).open()) == clips([entry(1), entry(2)])
