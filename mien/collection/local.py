"""The local engine: one model-holding worker process per core, fed batches of inputs.

Workers are started with ``spawn`` (no model state forked from the parent) and set
``MIEN_THREADS=1`` so N workers use N cores without oversubscribing. Only the parent
writes to the store. A worker that dies (killed, out of memory, a decoder crash) breaks
the pool: the pool is rebuilt and the batches that were in flight are sent again; a batch
that was in flight when a worker died is re-run alone; one that kills a worker alone is
split and re-run image by image, so the one image that crashes the worker is reported
(``worker-died``) and the rest are indexed. Writes are
idempotent (``FaceStore.write``), so a re-run batch never duplicates an image.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .pipeline import FacePipeline, PipelineOptions
from .sources import Source
from .store import known_content
from .types import Failure, ImageResult

_pipeline: FacePipeline | None = None
_known: Callable[[str], bool] | None = None


def _init(options: PipelineOptions, store_url: str | None) -> None:
    global _pipeline, _known
    os.environ["MIEN_THREADS"] = "1"
    _pipeline = FacePipeline(options).load()
    _known = known_content(store_url)


def _work(sources: Sequence[Source]) -> list[ImageResult]:
    assert _pipeline is not None, "worker used before its initializer ran"
    return _pipeline.process(sources, _known)



class LocalEngine:
    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.retries = 0

    def run(self, sources: Sequence[Source], options: PipelineOptions, batch_size: int,
            store_url: str | None = None) -> Iterator[list[ImageResult]]:
        """Results batch by batch as workers finish them (not in input order); with ``store_url``
        workers skip the models for content the store already holds."""
        pending = [list(sources[i:i + batch_size]) for i in range(0, len(sources), batch_size)][::-1]
        suspects: list[list[Source]] = []  # batches in flight when a worker died: re-run one at a time
        context = mp.get_context("spawn")
        while pending or suspects:
            size = min(self.workers, len(pending) + len(suspects))  # no idle workers loading models for nothing
            pool = ProcessPoolExecutor(size, mp_context=context, initializer=_init, initargs=(options, store_url))
            running: dict[Future, list[Source]] = {}
            broken = False
            try:
                while (pending or suspects or running) and not broken:
                    queue, limit = (suspects, 1) if suspects else (pending, 2 * self.workers)
                    while queue and len(running) < limit:
                        batch = queue.pop()
                        running[pool.submit(_work, batch)] = batch
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    in_flight = len(running)
                    for future in done:
                        batch = running.pop(future)
                        try:
                            results = future.result()
                        except BrokenProcessPool:
                            broken = True
                            yield from self._died(batch, in_flight == 1, suspects)
                            continue
                        yield results
                if broken:
                    suspects.extend(running.values())
                    running.clear()
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)

    def _died(self, batch: list[Source], alone: bool, suspects: list[list[Source]]) -> Iterator[list[ImageResult]]:
        """A batch whose worker died: alone in the pool, it is the cause (split it, or report its one image)."""
        self.retries += 1
        if not alone:
            suspects.append(batch)
        elif len(batch) > 1:
            suspects.extend([s] for s in reversed(batch))
        else:
            s = batch[0]
            yield [ImageResult(s.path, s.size, s.mtime_ns, failure=Failure(
                s.path, "worker-died", "a worker died processing this image, in its batch and again alone"))]
