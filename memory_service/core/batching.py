"""Group commit: items submitted while a batch is being processed go together in the next one.

One drain task per `Batcher` runs `process(batch)` on the given executor; each submitter awaits
its own result. A caller that gives up does not cancel its item: a write once taken into a batch
is logged and stored whatever the caller does (it may already be durable).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """`await submit(item)` returns what `process` gave for the item, or raises the exception it gave."""

    def __init__(
        self,
        process: Callable[[list[T]], Sequence[R | BaseException]],
        executor: Executor,
        max_batch: int,
    ) -> None:
        self._process = process
        self._executor = executor
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._drain: asyncio.Task[None] | None = None
        self.batches = 0  # batches processed, for metrics and tests
        self.items = 0

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        future.add_done_callback(_retrieve)  # a caller that gave up leaves no 'never retrieved' warning
        self._pending.append((item, future))
        if self._drain is None or self._drain.done():
            self._drain = loop.create_task(self._run())
        return await asyncio.shield(future)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            try:
                results = await loop.run_in_executor(self._executor, self._process, [item for item, _ in batch])
            except BaseException as exc:  # noqa: BLE001 - every waiter gets the failure
                results = [exc] * len(batch)
            self.batches += 1
            self.items += len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
