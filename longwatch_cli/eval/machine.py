"""The line under every measured table: when, and on what machine."""

from __future__ import annotations

import datetime as dt
import os
import platform


def machine_line() -> str:
    today = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{today}; {os.cpu_count()} cores, {memory_gib:.0f} GiB RAM, {platform.machine()}, "
        f"Python {platform.python_version()}, no GPU used"
    )


def command_block(command: str) -> str:
    """The exact command as a shell block, then the date and machine."""
    return f"```sh\n{command}\n```\n\n{machine_line()}."
