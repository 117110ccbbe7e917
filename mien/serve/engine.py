"""The models and galleries one service process shares across requests.

Each is made once, on first use, under a lock (two first requests never load a model
twice), and its load time goes to /metrics. ONNX Runtime sessions may run from several
threads at once; the objects here keep no per-call state, so worker threads share them.
"""

from __future__ import annotations

import threading
import time
import warnings
from typing import Any, Callable

from ..gallery import ClearTemplatesWarning, Gallery, open_store


class Engine:
    def __init__(self, store_url: str | None, gallery_key: str | None, on_load: Callable[[str, float], None],
                 collection_url: str | None = None) -> None:
        self.store_url = store_url
        self.collection_url = collection_url
        self.gallery_key = gallery_key
        self._on_load = on_load
        self._lock = threading.RLock()  # a gallery is made from the store and detector, each made once
        self._made: dict[Any, Any] = {}
        self.warnings: list[str] = []

    def _once(self, key: Any, make: Callable[[], Any], label: str | None = None) -> Any:
        made = self._made.get(key)
        if made is not None:
            return made
        with self._lock:
            if key not in self._made:
                start = time.perf_counter()
                self._made[key] = make()
                self._on_load(label or str(key), time.perf_counter() - start)
            return self._made[key]

    # -- models -----------------------------------------------------------------------------------
    def detector(self) -> Any:
        from ..detect import DEFAULT_DETECTOR, get_detector

        return self._once("detector", lambda: get_detector(DEFAULT_DETECTOR, min_face=0.0, tile=None), DEFAULT_DETECTOR)

    def analyzer(self, quality: bool, liveness: bool) -> Any:
        from ..analyze import Analyzer

        return self._once(("analyzer", quality, liveness),
                          lambda: Analyzer(self.detector(), "face-mesh", quality=quality, liveness=liveness),
                          f"analyzer(quality={quality},liveness={liveness})")

    def recognition_detector(self) -> Any:
        from ..match.faces import recognition_detector

        return self._once("recognition_detector", recognition_detector, "recognition-detector")

    def embedder(self) -> Any:
        from ..embed import DEFAULT_EMBEDDER, get_embedder

        return self._once("embedder", lambda: get_embedder(DEFAULT_EMBEDDER), DEFAULT_EMBEDDER)

    def anonymize_detector(self) -> Any:
        from ..anonymize.detection import anonymize_detector

        return self._once("anonymize_detector", anonymize_detector, "anonymize-detector")

    def video_detector(self) -> Any:
        from ..anonymize.detection import video_detector

        return self._once("video_detector", video_detector, "video-detector")

    def generator(self) -> Any:
        from ..generate.gan import MODEL, FaceGenerator

        return self._once("generator", lambda: FaceGenerator(MODEL), MODEL)

    # -- galleries --------------------------------------------------------------------------------
    def store(self) -> Any:
        return self._once("store", lambda: open_store(self.store_url), "gallery-store")

    def gallery(self, name: str, actor: str) -> Gallery:
        """The tenant's gallery, shared by every request, seen through this request's actor (for the journal)."""
        def make() -> Gallery:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ClearTemplatesWarning)
                g = Gallery(self.store(), name, key=self.gallery_key, actor="serve", detector=self.recognition_detector())
            self.warnings.extend(str(w.message) for w in caught)
            g.embedder, g.detector, g.calibration()  # warm: later requests share these
            return g

        return self._once(("gallery", name), make, f"gallery:{name}").acting_as(actor)

    # -- photo collections -------------------------------------------------------------------------
    def collection(self, tenant: str) -> Any:
        """The tenant's photo collection store (``mien.collection.store.tenant_url``), opened once."""
        from ..collection.store import open_collection, tenant_url

        return self._once(("collection", tenant), lambda: open_collection(tenant_url(self.collection_url, tenant)),
                          f"collection:{tenant}")

    def close(self) -> None:
        for key, made in self._made.items():
            if key == "store" or (isinstance(key, tuple) and key[0] == "collection"):
                made.close()
