"""The click writer: clicks queued by the redirect, committed in batches by one task.

It commits at least every ``TRACKER_FLUSH_INTERVAL_MS`` and drains completely on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from array import array
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from tracker.core import clock
from tracker.store.engine import CLICK_COLUMNS

log = logging.getLogger("tracker.clicks")

_RECENT_STATS_ROWS = 100_000
_KEPT_LAG_ROWS = 1_000_000
#: Rows the enricher completes in one go (their unseen agents described together).
ENRICH_MAX_ROWS = 2_000


class _IsoTime:
    """``clock.iso`` with the date and time of day formatted once per second, not per click."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, ts: float) -> str:
        second = int(ts)
        micros = round((ts - second) * 1e6)
        if micros >= 1_000_000 or ts < 0:
            return clock.iso(ts)
        if second != self._second:
            self._second, self._prefix = second, clock.iso(second)[:20]
        return f"{self._prefix}{micros:06d}Z"


class ClickWriter:
    """Bounded in-memory queue of clicks, committed in batches by one background task.

    Batches: at least every ``interval_ms``, at once when ``max_rows`` wait, and straight
    again after a flush that left a backlog. Overflow policy (explicit): a redirect blocks
    (``add`` returns False, the caller awaits ``add_waiting``) while ``max_queue`` clicks
    wait, and also while a flush is running and a backlog of about half an interval of the
    writer's measured speed already waits: so when the store is slower than the traffic,
    redirects slow down to the speed clicks become durable instead of the lag growing to
    ``max_queue`` clicks. After ``block_timeout`` seconds of waiting (the store is down) a
    click is counted in ``dropped`` and logged, and the shopper is still redirected.
    """

    #: Bounds of the backlog allowed during a flush, whatever the measured speed says.
    MIN_BACKLOG = 100

    def __init__(
        self,
        store: Any,
        *,
        interval_ms: int,
        max_rows: int,
        max_queue: int,
        block_timeout: float = 5.0,
        complete: Callable[[list[tuple[Any, ...]]], Awaitable[list[tuple[Any, ...]]]] | None = None,
        complete_stats: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self._store = store
        #: Turns queued rows into the stored columns (``ClickCapture.complete_rows``:
        #: describes user agents the redirect had not seen); every row goes through it once
        #: before it is stored, by the enricher task or, for what it has not reached, the flush.
        self._complete = complete
        self._complete_stats = complete_stats
        self.completed = 0
        #: Rows at the front of the queue already completed by the enricher task, which
        #: works through new rows while the previous batch is being stored in its thread.
        self._done = 0
        self._enrich_wake = asyncio.Event()
        self._enricher: asyncio.Task[None] | None = None
        #: The enricher's rows in flight: (the queue list they are in, end index, task).
        self._inflight: tuple[list[tuple[Any, ...]], int, asyncio.Future[None]] | None = None
        self._interval = interval_ms / 1000
        self._max_rows = max_rows
        self._max_queue = max_queue
        self._block_timeout = block_timeout
        self._buf: list[tuple[Any, ...]] = []
        self._wake = asyncio.Event()
        self._room_waiter: asyncio.Future[None] | None = None
        self._room_timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._flushing = 0
        self._flush_lock = asyncio.Lock()
        self._rate = 0.0  # rows per second the store commits (moving average), 0 = unknown
        self._backlog = max_rows  # pending clicks allowed while a flush runs
        self.written = 0
        self.batches = 0
        self.dropped = 0
        self.failures = 0
        self.rejected = 0
        self.waits = 0
        self.max_lag = 0.0
        # Recent batches as (commit time, request times): enough to give lag percentiles over
        # the last ``_RECENT_STATS_ROWS`` clicks, or over a window (``stats(since=...)``).
        self._recent: deque[tuple[float, array[float]]] = deque()
        self._recent_rows = 0
        self._iso = _IsoTime()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="click-writer")
        if self._complete is not None:
            self._enricher = asyncio.create_task(self._enrich(), name="click-enricher")

    @property
    def pending(self) -> int:
        return len(self._buf)

    def add(self, row: tuple[Any, ...]) -> bool:
        """Queue a click; False when the caller must wait for room (``add_waiting``)."""
        n = len(self._buf)
        if n >= self._max_queue or (self._flushing and n >= self._backlog):
            return False
        self._buf.append(row)
        if n + 1 >= self._max_rows:
            self._wake.set()
        if self._enricher is not None and not self._enrich_wake.is_set():
            self._enrich_wake.set()
        return True

    async def add_waiting(self, row: tuple[Any, ...]) -> None:
        """Wait for room (each flush makes some), at most ``block_timeout`` seconds.

        Waiters share one future resolved after every flush attempt: under backpressure
        hundreds of redirects wait at once, and a task plus a timer each (``wait_for``)
        would cost more CPU than the clicks themselves.
        """
        self.waits += 1
        deadline = time.monotonic() + self._block_timeout
        while not self.add(row):
            if time.monotonic() >= deadline:
                self.dropped += 1
                log.error(
                    "click queue full for %.1fs; click %s not recorded", self._block_timeout, row[0]
                )
                return
            self._wake.set()
            if self._room_waiter is None:
                self._room_waiter = asyncio.get_running_loop().create_future()
                # Wake waiters at least every interval even if no flush finishes (store down).
                self._room_timer = asyncio.get_running_loop().call_later(
                    max(self._interval, 0.05), self._make_room
                )
            await asyncio.shield(self._room_waiter)

    def _make_room(self) -> None:
        waiter, self._room_waiter = self._room_waiter, None
        if self._room_timer is not None:
            self._room_timer.cancel()
            self._room_timer = None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _run(self) -> None:
        while not self._closing:
            # Flush when the oldest queued click is one interval old (not a fresh interval
            # after the last flush: a slow commit then delays clicks by that commit only),
            # or at once when a backlog built up during the last flush.
            buf = self._buf
            timeout = self._interval
            if buf:
                timeout = (
                    0.0
                    if len(buf) >= self._backlog
                    else max(0.0, buf[0][1] + self._interval - time.time())
                )
            if timeout > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            if self._buf:
                await self.flush()

    async def _enrich(self) -> None:
        """Complete queued rows as they arrive, so a batch is mostly ready when its flush
        comes and the work overlaps the previous batch's write (in the store's thread)."""
        while True:
            buf, start = self._buf, self._done
            if start >= len(buf):
                self._enrich_wake.clear()
                await self._enrich_wake.wait()
                continue
            end = min(len(buf), start + ENRICH_MAX_ROWS)
            job = asyncio.ensure_future(self._complete_range(buf, start, end))
            self._inflight = (buf, end, job)
            try:
                await asyncio.shield(job)
            except Exception:
                log.exception("completing click rows failed; the flush will retry them")
                await asyncio.sleep(self._interval)
                continue
            finally:
                self._inflight = None
            if buf is self._buf:  # not taken by a flush meanwhile (that one knew ``end``)
                self._done = end

    async def _complete_range(self, buf: list[tuple[Any, ...]], start: int, end: int) -> None:
        assert self._complete is not None
        buf[start:end] = await self._complete(buf[start:end])
        self.completed += end - start

    async def _prepare(self, batch: list[tuple[Any, ...]], done: int) -> list[tuple[Any, ...]]:
        """Complete the rows of ``batch`` from ``done`` on: wait for the enricher's rows in
        flight, then complete the ones it had not reached."""
        if self._complete is None:
            return batch
        inflight = self._inflight
        if inflight is not None and inflight[0] is batch:
            try:
                await asyncio.shield(inflight[2])
            except Exception:
                log.debug("the enricher's rows failed; completing them here")
            else:
                done = max(done, inflight[1])
        if done < len(batch):
            await self._complete_range(batch, done, len(batch))
        return batch

    async def _completed(self, batch: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Every row of ``batch`` completed; should completing itself fail, the rows keep
        what the redirect recorded (no description) rather than be lost or refused."""
        try:
            return await self._prepare(batch, 0)
        except Exception:
            log.exception("completing %d click rows failed; stored without description", len(batch))
            return [r[: len(CLICK_COLUMNS)] for r in batch]

    async def _insert(self, batch: list[tuple[Any, ...]]) -> None:
        iso = self._iso
        rows = [(r[0], iso(r[1]), *r[2:]) for r in batch]
        for start in range(0, len(rows), 20_000):
            await self._store.insert_clicks(rows[start : start + 20_000])

    async def flush(self) -> None:
        """Commit everything queued now. A flush already under way is waited for first, so on
        return every click queued before the call is committed (or kept for a retry)."""
        async with self._flush_lock:
            await self._flush_once()

    async def _flush_once(self) -> None:
        """One batch; on failure keep the rows for the next attempt.

        If the store answers a ping but the batch still fails, a row in it is one the
        database refuses; the batch is bisected so that row is set aside (``rejected``,
        logged) instead of blocking every click behind it forever. Inserts are idempotent
        (``ON CONFLICT DO NOTHING``), so retried halves never duplicate.
        """
        batch, self._buf = self._buf, []
        done, self._done = self._done, 0
        if not batch:
            return
        self._flushing += 1
        started = time.perf_counter()
        try:
            batch = await self._prepare(batch, done)
            await self._insert(batch)
        except Exception:
            self.failures += 1
            log.exception("writing %d clicks failed; will retry", len(batch))
            batch = await self._completed(batch)
            try:
                store_up = await self._store.ping()
            except Exception:
                store_up = False
            if store_up:
                batch = await self._bisect(batch)
            if batch:
                # A new list, not an insert at the front of the old one: the enricher may be
                # writing results into the old list by index right now.
                self._buf, self._done = batch + self._buf, len(batch) + self._done
                await asyncio.sleep(min(1.0, self._interval * 4))
            return
        else:
            self._learn(len(batch), time.perf_counter() - started)
            self._written(batch)
        finally:
            self._flushing -= 1
            self._make_room()

    def _written(self, batch: list[tuple[Any, ...]]) -> None:
        if not batch:
            return
        done = time.time()
        self.written += len(batch)
        self.batches += 1
        self._remember(done, array("d", [r[1] for r in batch]))
        self.max_lag = max(self.max_lag, done - batch[0][1])

    def _learn(self, rows: int, seconds: float) -> None:
        """Track the store's speed; allow what it writes in half an interval to wait during a
        flush. A click then waits at most about one interval plus two short flushes."""
        if rows < 50 or seconds <= 0:
            return  # tiny batches are all fixed cost: they say nothing about the speed
        sample = rows / seconds
        self._rate = sample if not self._rate else 0.8 * self._rate + 0.2 * sample
        self._backlog = max(
            self.MIN_BACKLOG, min(self._max_rows, int(self._rate * self._interval / 2))
        )

    async def _bisect(self, batch: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Write what can be written; return rows to retry (all of them if nothing could be)."""
        stack, failed, wrote = [batch], [], False
        while stack:
            part = stack.pop()
            try:
                await self._insert(part)
            except Exception:
                if len(part) == 1:
                    failed.append(part[0])
                else:
                    mid = len(part) // 2
                    stack += [part[mid:], part[:mid]]
                continue
            wrote = True
            self._written(part)
        if not wrote:
            return batch  # nothing went in: the store is in trouble, not one row
        for row in failed:
            self.rejected += 1
            log.error("click %s refused by the store, set aside: %r", row[0], row)
        return []

    async def close(self) -> None:
        """Stop the loop and drain every queued click (retrying a few times)."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._enricher is not None:
            self._enricher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._enricher
            self._enricher = None
        for _ in range(10):
            if not self._buf:
                break
            await self.flush()
        if self._buf:
            log.error("%d clicks could not be written at shutdown", len(self._buf))

    def _remember(self, done: float, ats: array[float]) -> None:
        self._recent.append((done, ats))
        self._recent_rows += len(ats)
        while self._recent_rows - len(self._recent[0][1]) >= _KEPT_LAG_ROWS:
            self._recent_rows -= len(self._recent.popleft()[1])

    def stats(self, since: float | None = None) -> dict[str, Any]:
        """Counters, and flush lag (request time -> commit) percentiles in milliseconds.

        Without ``since``: lag over the last ``_RECENT_STATS_ROWS`` clicks written, and the
        largest lag since start (or ``reset_stats``). With ``since`` (epoch seconds): lag of
        the clicks requested at or after it (as far back as kept), so a benchmark can read
        exactly its measured run without resetting anything.
        """
        lags: list[float] = []
        if since is None:
            for done, ats in reversed(self._recent):
                lags.extend(done - at for at in ats)
                if len(lags) >= _RECENT_STATS_ROWS:
                    break
            max_lag = self.max_lag
        else:
            for done, ats in reversed(self._recent):
                if ats[-1] < since:
                    break
                lags.extend(done - at for at in ats if at >= since)
            max_lag = max(lags, default=0.0)
        lags.sort()

        def p(q: float) -> float:
            return round(lags[min(len(lags) - 1, int(q * len(lags)))] * 1000, 2) if lags else 0.0

        return {
            "written": self.written,
            "batches": self.batches,
            "pending": len(self._buf),
            "dropped": self.dropped,
            "failures": self.failures,
            "rejected": self.rejected,
            "waits": self.waits,
            "completed": self.completed,
            **(self._complete_stats() if self._complete_stats else {}),
            "backlog_limit": self._backlog,
            "rows_per_s": round(self._rate),
            "lag_rows": len(lags),
            "lag_ms_p50": p(0.50),
            "lag_ms_p99": p(0.99),
            "lag_ms_max": round(max_lag * 1000, 2),
        }

    def reset_stats(self) -> None:
        self._recent.clear()
        self._recent_rows = 0
        self.max_lag = 0.0
