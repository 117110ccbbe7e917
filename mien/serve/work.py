"""CPU-bound model calls run in worker threads behind a bounded queue.

The event loop stays free for other requests; at most ``workers`` calls run and at most
``queue`` wait. One more is refused at once with BusyError (503 and Retry-After), so a
burst never becomes an unbounded backlog.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..errors import BusyError, RateLimitError


class WorkQueue:
    def __init__(self, workers: int, queue: int, timeout_s: float) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mien-work")
        self._lock = threading.Lock()
        self._admitted = 0
        self._mean_s = 0.2  # running mean of a call's duration, for Retry-After

    @property
    def length(self) -> int:
        """Calls running or waiting."""
        return self._admitted

    async def run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self._admitted >= self.capacity:
                wait = self._mean_s * self._admitted / self.workers
                raise BusyError(f"the service is busy ({self._admitted} requests running or queued); try again shortly",
                                retry_after=wait)
            self._admitted += 1
        start = time.monotonic()
        try:
            future = asyncio.get_running_loop().run_in_executor(self._pool, lambda: func(*args, **kwargs))
            try:
                return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
            except asyncio.TimeoutError:
                raise BusyError(f"the request took longer than {self.timeout_s:g} s", retry_after=self.timeout_s) from None
        finally:
            with self._lock:
                self._admitted -= 1
                self._mean_s = 0.9 * self._mean_s + 0.1 * (time.monotonic() - start)

    def submit(self, func: Callable[..., Any], *args: Any) -> Any:
        """Background work (video jobs) on the same threads, outside the request queue."""
        return self._pool.submit(func, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class RateLimiter:
    """A token bucket per key: ``rate`` requests per second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: str, rate: float | None = None) -> None:
        rate = rate or self.rate
        burst = max(self.burst, rate)
        now = time.monotonic()
        with self._lock:
            tokens, then = self._buckets.get(key_id, (burst, now))
            tokens = min(burst, tokens + (now - then) * rate)
            if tokens < 1:
                self._buckets[key_id] = (tokens, now)
                raise RateLimitError(f"over this key's rate of {rate:g} requests per second", retry_after=(1 - tokens) / rate)
            self._buckets[key_id] = (tokens - 1, now)
