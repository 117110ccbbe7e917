"""Load verified weights into runtimes (onnxruntime, dlib), cached per process."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

from .store import model_path

_lock = threading.Lock()


def default_threads() -> int:
    env = os.environ.get("MIEN_THREADS")
    return int(env) if env else (os.cpu_count() or 1)


@lru_cache(maxsize=None)
def onnx_session(name: str, threads: int | None = None) -> Any:
    """An onnxruntime InferenceSession for an installed model (CPU provider)."""
    return make_session(str(model_path(name)), threads)


def make_session(model: str | bytes, threads: int | None = None) -> Any:
    """An onnxruntime CPU session from a path or serialised model bytes."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or default_threads()
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    # Idle worker threads that spin steal the core from other work; measured here under load:
    # dlib ResNet 40 -> 27 ms per face and CenterFace 85 -> 45 ms with spinning off.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    with _lock:
        return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=None)
def dlib_shape_predictor(name: str) -> Any:
    import dlib

    return dlib.shape_predictor(str(model_path(name)))
