"""A health check for containers: `python -m orchestration.healthcheck HOST:PORT` exits 0 when the gRPC
server there says SERVING, 1 when it does not or cannot be reached (docker compose's `healthcheck`, a
Kubernetes exec probe), and 2 when misused."""

from __future__ import annotations

import sys

from orchestration.health import is_serving


def main(argv: list[str]) -> int:
    if len(argv) != 1 or ":" not in argv[0]:
        print("usage: python -m orchestration.healthcheck HOST:PORT", file=sys.stderr)
        return 2
    return 0 if is_serving(argv[0]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
