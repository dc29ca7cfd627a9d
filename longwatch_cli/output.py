"""What every command shares: its exit statuses and how a finished stream is told."""

from __future__ import annotations

from longwatch.types import StreamStatus

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130


def describe_finished(status: StreamStatus) -> str:
    return (
        f"{status.stream_id}: {status.state.value}, {status.position_s:.1f} s of video; frames "
        f"{status.frames_seen} seen, {status.frames_encoded} encoded, {status.frames_reused} reused, "
        f"{status.frames_dropped} dropped; {status.clips_written} clips written"
    )
