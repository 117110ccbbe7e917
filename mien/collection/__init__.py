"""Photo collections: index every face of a folder (or a list of paths or URLs) into a face store,
search it by face, and group the unknown faces into people.

    >>> from mien.collection import index_collection, open_collection
    >>> report = index_collection("~/Pictures", "sqlite:///srv/faces", workers=2)
    >>> store = open_collection("sqlite:///srv/faces")

The same pipeline stages (``mien.collection.pipeline``) run in local worker processes
(``engine="local"``) or as a Ray Data job (``engine="ray"``); see docs/collection.md.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY = {
    "FaceRecord": "types", "FaceQuality": "types", "Failure": "types", "IndexReport": "types",
    "PhotoHit": "types", "Person": "types", "Edit": "types",
    "FacePipeline": "pipeline", "PipelineOptions": "pipeline",
    "list_sources": "sources",
    "FaceStore": "store", "open_collection": "store",
    "index_collection": "indexer",
    "search_face": "search",
    "People": "people",
}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
