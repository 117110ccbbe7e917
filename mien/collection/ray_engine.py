"""The Ray engine: the same pipeline as a Ray Data job, on this machine or a Ray cluster.

The inputs become a dataset (``ray.data.from_items`` of index, path, size, mtime_ns);
``map_batches`` runs them through a pool of ``workers`` actors, each holding one loaded
``FacePipeline`` (the local engine's one code path: ``FacePipeline.process`` per batch)
on one CPU with ``MIEN_THREADS=1``; the results stream back to the driver batch by batch
(``iter_batches``), which writes them to the store as they arrive.

Results cross Ray as plain columns: the input's index and one JSON string per image
(vectors as base64 of their float32 bytes, so they come back bit for bit). Not pickles:
a column of JSON is what Arrow blocks hold natively, can be read by anything, and
decoding it runs no code, whatever wrote it.

Without ``ray_address`` a private local instance is started (``workers`` CPUs, no
dashboard, every port on 127.0.0.1, no worker logs on the driver) and shut down at the
end; with one, the job joins that cluster (whose nodes must have mien and its models
installed) and leaves it running. A Ray instance already started in this process is used
as it is and left running.

Worker death: Ray Data restarts a dead actor and re-runs the batches it had in flight
(``max_restarts``, ``max_task_retries``); writes are idempotent (``FaceStore.write``), so
a batch that is redone never duplicates an image. A batch that still fails after
``TASK_RETRIES`` re-runs is dropped from the job (``max_errored_blocks``) and its inputs
run again one per batch, so the one image that kills its actor is reported
(``worker-died``) and the rest are indexed, as the local engine does.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import InputError, MienError
from .pipeline import FacePipeline, PipelineOptions
from .sources import Source
from .types import FaceQuality, FaceRecord, Failure, ImageResult

INSTALL = "--engine ray needs Ray: pip install 'mien[ray]'"
TASK_RETRIES = 2  # re-runs of a batch whose actor died, before its images are run one by one
LOG_LEVEL_ENV = "RAY_DATA_LOG_LEVEL"
LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray binds every address to 127.0.0.1


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise InputError(INSTALL) from exc
    return ray


def start_local(cpus: int | None = None) -> bool:
    """Start a private Ray instance on 127.0.0.1 unless one is running here; True when this call started it.

    Ray 2.x rewrites ``_node_ip_address="127.0.0.1"`` to the machine's routable address on
    Linux (``resolve_ip_for_localhost``); only ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` keeps it
    on the loopback, for Ray's own processes (which inherit it) and the driver alike.
    """
    ray = _ray()
    if ray.is_initialized():
        return False
    # the flag behind the rewrite is read when the node address is resolved
    from ray._private import ray_constants

    saved = os.environ.get(LOOPBACK_ENV), ray_constants.ENABLE_RAY_CLUSTER
    os.environ[LOOPBACK_ENV], ray_constants.ENABLE_RAY_CLUSTER = "0", False
    try:
        ray.init(num_cpus=cpus or os.cpu_count() or 1, include_dashboard=False, _node_ip_address="127.0.0.1",
                 log_to_driver=False, logging_level=logging.ERROR)
    finally:  # Ray's processes have it now; a later ray.init in this process is not ours to change
        if saved[0] is None:
            os.environ.pop(LOOPBACK_ENV, None)
        else:
            os.environ[LOOPBACK_ENV] = saved[0]
        ray_constants.ENABLE_RAY_CLUSTER = saved[1]
    return True


class RayEngine:
    """``index_collection(..., engine="ray")``: see the module docstring.

    ``retries`` counts what the driver can see of re-runs: restarted actor processes that
    returned results (Ray re-runs a restarted actor's in-flight batches itself and does not
    say how many), plus the inputs re-run one by one after their batch failed for good.
    """

    name = "ray"

    def __init__(self, workers: int | None = None, ray_address: str | None = None) -> None:
        _ray()
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.ray_address = ray_address
        self.retries = 0

    def run(self, sources: Sequence[Source], options: PipelineOptions, batch_size: int,
            store_url: str | None = None) -> Iterator[list[ImageResult]]:
        """Results batch by batch as the actors finish them (not in input order)."""
        ray = _ray()
        started = self._connect(ray)
        quiet = LOG_LEVEL_ENV not in os.environ  # Ray Data resets its loggers per job; this is what it reads
        if quiet:
            os.environ[LOG_LEVEL_ENV] = "ERROR"  # no notices; ignored batch errors still show
        try:
            left = yield from self._job(ray, list(enumerate(sources)), options, batch_size, store_url)
            if left:
                self.retries += len(left)
                left = yield from self._job(ray, left, options, 1, store_url)
            if left:
                yield [ImageResult(s.path, s.size, s.mtime_ns, failure=Failure(
                    s.path, "worker-died", "its Ray task failed (the actor died or the pipeline raised), "
                    "in its batch and again alone")) for _, s in left]
        finally:
            if quiet:
                os.environ.pop(LOG_LEVEL_ENV, None)
            if started:
                ray.shutdown()

    def _connect(self, ray: Any) -> bool:
        if ray.is_initialized():
            return False
        if self.ray_address:
            ray.init(address=self.ray_address, log_to_driver=False, logging_level=logging.ERROR)
            return True
        return start_local(self.workers)

    def _job(self, ray: Any, items: list[tuple[int, Source]], options: PipelineOptions,
             batch_size: int, store_url: str | None) -> Iterator[list[ImageResult]]:
        """One Ray Data job over ``items``; yields result batches and returns the items that got none."""
        by_index = dict(items)
        with warnings.catch_warnings():
            # Ray's own copies of its DataContext warn about its deprecated fields; and Ray 2.5x
            # deprecates max_restarts/max_task_retries here without a named replacement (its
            # defaults: restart and re-run forever), while a bounded re-run is what lets an image
            # that kills every actor be reported
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = self._dataset(ray, items, options, batch_size, store_url)
        restarted: set[int] = set()
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                restarted.update(int(p) for p, r in zip(batch["worker"], batch["restarted"], strict=True) if r)
                results = []
                for i, text in zip(batch["i"], batch["result"], strict=True):
                    if by_index.pop(int(i), None) is not None:  # a batch Ray re-ran after it had returned: once
                        results.append(decode(str(text)))
                if results:
                    yield results
        except ray.exceptions.RayError as exc:
            raise _mien_cause(exc) or exc
        finally:
            self.retries += len(restarted)
        return list(by_index.items())

    def _dataset(self, ray: Any, items: list[tuple[int, Source]], options: PipelineOptions, batch_size: int,
                 store_url: str | None) -> Any:
        from ray.data import ActorPoolStrategy

        batches = -(-len(items) // batch_size)
        dataset = ray.data.from_items(  # one block per batch: each actor call is one batch
            [{"i": i, "path": s.path, "size": s.size, "mtime_ns": s.mtime_ns} for i, s in items],
            override_num_blocks=batches)
        kwargs = {"fn_constructor_kwargs": {"options": options, "store_url": store_url}, "batch_size": batch_size,
                  "num_cpus": 1,
                  "compute": ActorPoolStrategy(size=min(self.workers, batches)),
                  "runtime_env": {"env_vars": {"MIEN_THREADS": "1"}}}
        try:
            dataset = dataset.map_batches(_IndexActor, max_restarts=-1, max_task_retries=TASK_RETRIES, **kwargs)
        except TypeError:  # a Ray that no longer takes them: its defaults
            dataset = dataset.map_batches(_IndexActor, **kwargs)
        context = dataset.context  # this job's own copy of the DataContext
        context.enable_progress_bars = False
        context.enable_operator_progress_bars = False
        context.print_on_execution_start = False
        context.enable_auto_log_stats = False
        context.max_errored_blocks = -1  # a batch that failed for good: its inputs are re-run alone
        return dataset


class _IndexActor:
    """One pipeline per actor, loaded once; ``__call__`` is one ``FacePipeline.process`` per batch."""

    def __init__(self, options: PipelineOptions, store_url: str | None = None) -> None:
        import ray

        from .store import known_content

        self.pipeline = FacePipeline(options).load()
        self.known = known_content(store_url)
        self.pid = os.getpid()
        self.restarted = bool(ray.get_runtime_context().was_current_actor_reconstructed)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        sources = [Source(str(p), int(s), int(m)) for p, s, m in zip(batch["path"], batch["size"], batch["mtime_ns"],
                                                                      strict=True)]
        results = self.pipeline.process(sources, self.known)
        return {"i": [int(i) for i in batch["i"]], "result": [encode(r) for r in results],
                "worker": [self.pid] * len(results), "restarted": [self.restarted] * len(results)}


def _mien_cause(exc: BaseException) -> MienError | None:
    """The mien error (a model not installed, say) inside a Ray error, if there is one."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, MienError):
            return current
        cause = getattr(current, "cause", None)
        current = cause if isinstance(cause, BaseException) else current.__cause__
    return None


# -- the wire format: one JSON string per image --------------------------------------------------

def _vector(v: np.ndarray | None) -> str | None:
    return None if v is None else base64.b64encode(np.ascontiguousarray(v, "<f4").tobytes()).decode("ascii")


def _array(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<f4").astype(np.float32)


def encode(result: ImageResult) -> str:
    """An ``ImageResult`` as JSON, exact (floats in full, vectors as float32 bytes)."""
    f = result.failure
    return json.dumps({
        "path": result.path, "size": result.size, "mtime_ns": result.mtime_ns, "hash": result.hash,
        "width": result.width, "height": result.height, "known": result.known,
        "failure": None if f is None else [f.path, f.kind, f.message],
        "faces": [{
            "image": r.image, "index": r.index, "box": list(r.box), "landmarks": [list(p) for p in r.landmarks],
            "quality": [r.quality.eye_distance, r.quality.sharpness, r.quality.yaw, r.quality.detector_score,
                        r.quality.passed, list(r.quality.failed)],
            "age": r.age, "vector": _vector(r.vector), "model": r.model, "second": _vector(r.second), "path": r.path,
        } for r in result.faces]})


def decode(text: str) -> ImageResult:
    d = json.loads(text)
    return ImageResult(d["path"], d["size"], d["mtime_ns"], d["hash"], d["width"], d["height"],
                       tuple(_face(r) for r in d["faces"]), None if d["failure"] is None else Failure(*d["failure"]),
                       bool(d.get("known", False)))


def _face(r: dict[str, Any]) -> FaceRecord:
    q = r["quality"]
    return FaceRecord(r["image"], r["index"], tuple(r["box"]), tuple(tuple(p) for p in r["landmarks"]),
                      FaceQuality(q[0], q[1], q[2], q[3], q[4], tuple(q[5])), r["age"], _array(r["vector"]),
                      r["model"], None if r["second"] is None else _array(r["second"]), r["path"])


__all__ = ["RayEngine", "decode", "encode", "start_local"]
