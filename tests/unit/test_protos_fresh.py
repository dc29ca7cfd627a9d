"""The committed generated code is exactly what `make protos` produces from the .proto files."""

from pathlib import Path

from protos.generate import REPO_ROOT, generate


def test_committed_generated_code_matches_a_fresh_generation(tmp_path):
    fresh = generate(tmp_path)
    assert fresh, "no .proto files found under protos/"
    stale = []
    for path in fresh:
        relative = path.relative_to(tmp_path)
        committed = REPO_ROOT / relative
        if not committed.exists() or committed.read_bytes() != path.read_bytes():
            stale.append(str(relative))
    assert not stale, f"generated code is stale, run `make protos` and commit: {stale}"


def test_every_generated_module_belongs_to_a_proto(tmp_path):
    fresh = {path.relative_to(tmp_path) for path in generate(tmp_path)}
    committed = {path.relative_to(REPO_ROOT) for path in Path(REPO_ROOT, "longwatch").glob("*/v1/*_pb2*.py*")}
    assert committed <= fresh, f"generated files without a .proto: {sorted(committed - fresh)}"
