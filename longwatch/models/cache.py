"""A model cache shared by all data directories.

Preparing a model can be slow (the GGUF Gemma dequantizes for about 90 s), so each
prepared model is built once into `<model_cache>/<name>` and reused by every process.
Building happens in a temporary directory renamed into place under a file lock, so
two processes starting together build it once and never see half a model.
"""

from __future__ import annotations

import fcntl
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

_COMPLETE_MARKER = ".complete"


def prepared(cache_root: Path, name: str, build: Callable[[Path], None]) -> Path:
    """Returns `<cache_root>/<name>`, calling `build(directory)` first if it is not there yet."""
    target = cache_root / name
    if (target / _COMPLETE_MARKER).exists():
        return target
    cache_root.mkdir(parents=True, exist_ok=True)
    with open(cache_root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / _COMPLETE_MARKER).exists():
            return target
        # Holding the lock, no one else is building: staging left here was a build killed mid-way (SIGKILL).
        # (Only this name's: mkdtemp adds 8 characters, so ".gemma.v2.xxxxxxxx" is not ".gemma."'s.)
        staging_name = re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}")
        for stale in cache_root.iterdir():
            if stale.is_dir() and staging_name.fullmatch(stale.name):
                shutil.rmtree(stale, ignore_errors=True)
        logger.info("preparing model %s in %s (once per model cache)", name, cache_root)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=cache_root))
        try:
            build(staging)
            (staging / _COMPLETE_MARKER).touch()
            shutil.rmtree(target, ignore_errors=True)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target
