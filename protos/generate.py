"""Generates the Python gRPC code for every .proto under protos/ (`make protos`).

The generated modules land in `longwatch/<service>/v1/` and are committed;
tests/unit/test_protos_fresh.py fails when they differ from a fresh generation.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PROTO_ROOT.parent


def proto_files() -> list[Path]:
    return sorted(PROTO_ROOT.glob("longwatch/*/v1/*.proto"))


def generate(out_dir: Path) -> list[Path]:
    """Writes *_pb2.py, *_pb2.pyi, *_pb2_grpc.py and package __init__.py files; returns them."""
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    sources = [str(path.relative_to(PROTO_ROOT)) for path in proto_files()]
    exit_code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            *sources,
        ]
    )
    if exit_code != 0:
        raise SystemExit(f"protoc failed with exit code {exit_code}")
    written = []
    for source in sources:
        package_dir = out_dir / Path(source).parent
        init = package_dir / "__init__.py"
        init.write_text('"""Generated from protos/; regenerate with `make protos`."""\n')
        parent_init = package_dir.parent / "__init__.py"
        parent_init.write_text('"""Generated from protos/; regenerate with `make protos`."""\n')
        written += [init, parent_init, *package_dir.glob("*_pb2*.py*")]
    return sorted(set(written))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO_ROOT, help="output root (default: the repository)")
    args = parser.parse_args()
    for path in generate(args.out):
        print(path.relative_to(args.out))


if __name__ == "__main__":
    sys.exit(main())
