"""``index_collection``: list the inputs, skip what is done, run the pipeline on an engine, write.

One driver for every engine: it lists the source, drops inputs whose (path, size,
modification time) the store already holds (a rerun after an interruption redoes only
what had not been written), hands the rest to the engine in batches, and writes each
batch of results to the store as it arrives, in one transaction per batch. Failures are
counted and reported with their paths at the end; they never stop the job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InputError
from .pipeline import FacePipeline, PipelineOptions
from .sources import Source, list_sources
from .store import FaceStore, open_collection
from .types import Failure, ImageResult, IndexReport

ENGINES = ("local", "ray")
DEFAULT_BATCH = 8

Progress = Callable[[int, int], None]  # (inputs done, inputs to do)


def index_collection(source: str | os.PathLike | Sequence[str], store: FaceStore | str | os.PathLike | None = None, *,
                     engine: str = "local", workers: int | None = None, options: PipelineOptions | None = None,
                     batch_size: int = DEFAULT_BATCH, ray_address: str | None = None,
                     progress: Progress | None = None) -> IndexReport:
    """Index every face in ``source`` into ``store`` (a ``FaceStore`` or its URL); see the module docstring."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    if workers is not None and workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    options = options or PipelineOptions()
    owned = not isinstance(store, FaceStore)
    faces_store = open_collection(store) if owned else store
    try:
        return _run(source, faces_store, engine, workers, options, batch_size, ray_address, progress)
    finally:
        if owned:
            faces_store.close()


def _run(source: Any, store: FaceStore, engine_name: str, workers: int | None, options: PipelineOptions,
         batch_size: int, ray_address: str | None, progress: Progress | None) -> IndexReport:
    start = time.perf_counter()
    sources = list_sources(source)
    todo = pending(store, sources)
    engine = _engine(engine_name, workers, ray_address)
    model = store.model or FacePipeline(options).model_id
    indexed = duplicates = faces = 0
    second_used = False
    failures: list[Failure] = []
    if progress:
        progress(0, len(todo))
    if todo:
        for results in engine.run(todo, options, batch_size, store.url):
            known = store.known_hashes([r.hash for r in results if r.failure is None and r.hash])
            faces += store.write(results)
            for r in results:
                if r.failure is not None:
                    failures.append(r.failure)
                else:
                    indexed += 1
                    duplicates += r.hash in known
                    second_used = second_used or any(f.second is not None for f in r.faces)
            if progress:
                progress(indexed + len(failures), len(todo))
    return IndexReport(str(source), store.url, engine.name, engine.workers, len(sources), len(sources) - len(todo),
                       indexed, duplicates, faces, tuple(sorted(failures, key=lambda f: f.path)), engine.retries,
                       time.perf_counter() - start, model, _pipeline_models(options, second_used))


def _pipeline_models(options: PipelineOptions, second_used: bool) -> dict[str, Any]:
    """The models besides the embedder that indexing ran, named so licence notices find them
    (the second model only when some face was read as young enough to need it)."""
    from ..attributes import DEFAULTS
    from ..detect import DEFAULT_DETECTOR

    out: dict[str, Any] = {"detector": options.detector or DEFAULT_DETECTOR}
    if options.age:
        out["age"] = {"model": DEFAULTS["age"]}
        if options.second and second_used:
            out["second"] = {"model": options.second, "for": f"faces read at or under {options.young_age:g} years"}
    return out


def pending(store: FaceStore, sources: Sequence[Source]) -> list[Source]:
    """The inputs the store does not hold yet (URLs and files without a known size are always read)."""
    done = store.indexed_paths([s.path for s in sources if s.size >= 0])
    return [s for s in sources if done.get(s.path) != (s.size, s.mtime_ns) or s.size < 0]


def _engine(name: str, workers: int | None, ray_address: str | None) -> Any:
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(workers, ray_address)
    if ray_address:
        raise InputError("--ray-address needs --engine ray")
    from .local import LocalEngine

    return LocalEngine(workers)


__all__ = ["ENGINES", "ImageResult", "index_collection", "pending"]
