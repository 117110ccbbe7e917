"""pymilvus pieces the gallery's and the collection's Milvus stores share: one mapping of
engine failures to mien's errors, paged queries, and collection creation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import InputError, StorageError, StoreUnavailableError

# Texts of the failures that mean the server cannot be reached (pymilvus raises MilvusException,
# grpc errors and plain ones on connection loss).
DOWN = ("UNAVAILABLE", "Fail connecting", "failed to connect", "DEADLINE", "Connection refused", "timeout",
        "Timeout", "not ready", "server unavailable")
NLIST = 1024


def call(where: str, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``; a failure becomes ``StoreUnavailableError`` (server down) or ``StorageError``,
    both naming ``where`` (the store) and ``what`` (the step)."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 (see DOWN: pymilvus raises several kinds)
        if isinstance(exc, (StorageError, InputError)):
            raise
        text = str(exc)
        if any(s in text for s in DOWN):
            raise StoreUnavailableError(f"{where} does not answer ({what}): {text[:200]}; "
                                        "is the server running?") from exc
        raise StorageError(f"{where}: {what} failed: {text[:300]}") from exc


Do = Callable[..., Any]  # a store's bound ``call``: do(what, fn, *args, **kwargs)


def query_all(do: Do, client: Any, collection: str, expr: str, fields: list[str], level: str, page: int) -> list[dict]:
    """Every row matching ``expr``, ``page`` rows at a time (Milvus caps one query's rows at 16,384)."""
    rows: list[dict] = []
    it = do(f"query {collection}", client.query_iterator, collection, batch_size=page, filter=expr,
            output_fields=fields, consistency_level=level)
    try:
        while True:
            batch = do(f"query {collection}", it.next)
            if not batch:
                return rows
            rows.extend(batch)
    finally:
        it.close()


def ensure_collection(do: Do, client: Any, types: Any, name: str, fields: Mapping[str, tuple], vector: str = "vec",
                      dim: int = 2, index: str = "FLAT") -> None:
    """Create (if absent) and load a collection with ``fields`` ({name: ("pk", len) | ("pkint",) | ("text", len)
    | ("int",) | ("float",)}) and the float vector ``vector`` of ``dim`` under an L2 ``index`` (FLAT or IVF_FLAT:
    both score candidates on the stored vectors, so distances are exact)."""
    if not do("list", client.has_collection, name):
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        for field, spec in fields.items():
            if spec[0] == "pk":
                schema.add_field(field, types.VARCHAR, is_primary=True, max_length=spec[1])
            elif spec[0] == "pkint":
                schema.add_field(field, types.INT64, is_primary=True)
            elif spec[0] == "text":
                schema.add_field(field, types.VARCHAR, max_length=spec[1])
            elif spec[0] == "int":
                schema.add_field(field, types.INT64)
            else:
                schema.add_field(field, types.DOUBLE)
        schema.add_field(vector, types.FLOAT_VECTOR, dim=dim)
        params = client.prepare_index_params()
        params.add_index(field_name=vector, index_type=index, metric_type="L2",
                         params={"nlist": NLIST} if index == "IVF_FLAT" else {})
        try:
            client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")
        except Exception as exc:  # noqa: BLE001
            if not do("list", client.has_collection, name):  # another process may have made it first
                do(f"create {name}", _reraise, exc)
    do(f"load {name}", client.load_collection, name)


def _reraise(exc: BaseException) -> None:
    raise exc
