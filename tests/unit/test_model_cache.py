"""The model cache builds a model once and never exposes a half-built one."""

import pytest

from longwatch.models.cache import prepared


def test_builds_once_and_reuses(tmp_path):
    calls = []

    def build(directory):
        calls.append(directory)
        (directory / "weights.bin").write_bytes(b"w")

    first = prepared(tmp_path, "model", build)
    second = prepared(tmp_path, "model", build)
    assert first == second == tmp_path / "model"
    assert (first / "weights.bin").read_bytes() == b"w"
    assert len(calls) == 1


def test_failed_build_leaves_nothing_and_is_retried(tmp_path):
    def broken(directory):
        (directory / "half.bin").write_bytes(b"h")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        prepared(tmp_path, "model", broken)
    assert not (tmp_path / "model").exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []

    result = prepared(tmp_path, "model", lambda d: (d / "ok.bin").write_bytes(b"o"))
    assert (result / "ok.bin").exists()


def test_a_build_killed_mid_way_is_cleaned_up_by_the_next(tmp_path):
    killed = tmp_path / ".gemma.abc123_x"  # what a SIGKILLed build leaves: a staging directory, no marker
    killed.mkdir()
    other = tmp_path / ".gemma.v2.abc123_x"  # another model's build, maybe in progress: not ours to remove
    other.mkdir()
    (killed / "weights.bin").write_bytes(b"half a model")
    prepared(tmp_path, "gemma", lambda directory: (directory / "weights.bin").write_bytes(b"model"))
    assert not killed.exists() and other.exists()
    assert (tmp_path / "gemma" / "weights.bin").read_bytes() == b"model"
    assert (tmp_path / ".gemma.lock").exists()  # the lock file is not a staging directory
