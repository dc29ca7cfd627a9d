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
