"""Group commit: concurrent write jobs share one transaction, each in its own savepoint.

A durable commit costs an fsync; a webhook burst from a shop would pay one per order. Jobs
queued while a batch is being written form the next batch, so under load many orders share
one commit and an idle server still commits each job at once (no timer, no added latency).
A job that fails is rolled back to its savepoint alone; every caller gets its answer only
after the commit that made its write durable (or the error that prevented it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from tracker.store.engine import Conn, Engine

Job = Callable[[Conn], Awaitable[Any]]


class GroupCommit:
    def __init__(self, db: Engine, max_batch: int = 32) -> None:
        self.db = db
        self.max_batch = max_batch
        self._pending: list[tuple[Job, asyncio.Future[Any]]] = []
        self._draining: asyncio.Task[None] | None = None
        self.batches = 0
        self.jobs = 0

    async def run(self, job: Job) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((job, fut))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
            try:
                async with self.db.batch_transaction() as tx:
                    for i, (job, fut) in enumerate(batch):
                        if i:  # SQLite runs jobs inline on the loop: let requests in between
                            await asyncio.sleep(0)
                        await tx.execute(f"SAVEPOINT job{i}")
                        try:
                            result = await job(tx)
                        except Exception as exc:
                            await tx.execute(f"ROLLBACK TO SAVEPOINT job{i}")
                            await tx.execute(f"RELEASE SAVEPOINT job{i}")
                            outcomes.append((fut, None, exc))
                        else:
                            await tx.execute(f"RELEASE SAVEPOINT job{i}")
                            outcomes.append((fut, result, None))
            except BaseException as exc:  # the commit itself failed: nobody's write is durable
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(
                            exc if isinstance(exc, Exception) else RuntimeError("write interrupted")
                        )
                if not isinstance(exc, Exception):
                    raise
                continue
            self.batches += 1
            self.jobs += len(batch)
            for fut, result, error in outcomes:
                if fut.done():
                    continue
                if error is None:
                    fut.set_result(result)
                else:
                    fut.set_exception(error)
