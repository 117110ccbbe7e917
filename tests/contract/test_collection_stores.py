"""One suite every collection face store passes unchanged (``mien/collection/store.py``): the
embedded SQLite store always, and the Milvus store when a ``milvus://`` URL is in
``MIEN_TEST_GALLERY_URLS`` (``scripts/milvus.sh start``, then pytest under ``scripts/milvus.sh exec``).
Every value is synthetic (random 128-D vectors): no model is loaded.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from mien.collection import open_collection
from mien.collection.store import FaceStore
from mien.collection.types import Edit, FaceQuality, FaceRecord, Failure, ImageResult
from mien.errors import EmbeddingMismatchError, InputError, StoreUnavailableError

MODEL = "dlib-resnet"
DIM = 128

Make = Callable[..., FaceStore]


@pytest.fixture(params=["sqlite", "milvus"])
def make_store(request, tmp_path) -> Iterator[Make]:
    """Opens stores of one backend: ``make()`` a fresh one, ``make(name)`` the one called ``name`` (again)."""
    if request.param == "milvus":
        base = request.getfixturevalue("milvus_url")  # conftest.py: skips, saying how, without a server
        host = base.split("?", 1)[0].rstrip("/")
    opened: list[FaceStore] = []
    names: dict[str, str] = {}

    def make(name: str | None = None) -> FaceStore:
        name = name or f"t{uuid.uuid4().hex[:16]}"
        url = f"sqlite://{tmp_path / name}" if request.param == "sqlite" else f"{host}/{name}"
        names[name] = url
        store = open_collection(url)
        opened.append(store)
        return store

    yield make
    for store in opened:
        store.close()
    if request.param == "milvus":
        for url in names.values():
            with open_collection(url) as store:
                store.drop()


@pytest.fixture
def store(make_store) -> FaceStore:
    return make_store()


# -- synthetic values ------------------------------------------------------------------------------
def content_hash(rng: np.random.Generator) -> str:
    return hashlib.sha256(rng.bytes(16)).hexdigest()


def make_face(image: str, index: int, rng: np.random.Generator, model: str = MODEL, *, second: bool = False,
              vector: np.ndarray | None = None) -> FaceRecord:
    x, y = (round(float(v), 2) for v in rng.uniform(0, 500, 2))
    quality = FaceQuality(round(float(rng.uniform(20, 80)), 2), round(float(rng.uniform(5, 300)), 2),
                          round(float(rng.uniform(-40, 40)), 1), round(float(rng.uniform(0.5, 1)), 4),
                          bool(rng.integers(2)), ("yaw",) if index % 2 else ())
    return FaceRecord(image=image, index=index, box=(x, y, x + 80.5, y + 96.25),
                      landmarks=tuple((x + 10.0 * i, y + 20.5) for i in range(5)), quality=quality,
                      age=None if index % 3 == 2 else round(float(rng.uniform(1, 80)), 1),
                      vector=rng.normal(size=DIM).astype(np.float32) if vector is None else vector, model=model,
                      second=rng.normal(size=512).astype(np.float32) if second else None)


def make_image(path: str, rng: np.random.Generator, faces: int = 2, *, hash: str | None = None, model: str = MODEL,
               mtime_ns: int = 1_700_000_000_000_000_000) -> ImageResult:
    h = hash or content_hash(rng)
    return ImageResult(path, 1000 + len(path), mtime_ns, h, 640, 480,
                       tuple(make_face(h, i, rng, model, second=i == 1) for i in range(faces)))


def failed(path: str, kind: str = "unreadable", message: str = "truncated JPEG") -> ImageResult:
    return ImageResult(path, 10, 1, failure=Failure(path, kind, message))


def assert_same(got: FaceRecord, want: FaceRecord, path: str | None) -> None:
    assert (got.id, got.image, got.index, got.model, got.age, got.path) == (want.id, want.image, want.index,
                                                                           want.model, want.age, path)
    assert got.box == pytest.approx(want.box) and got.quality == want.quality
    assert [tuple(p) for p in got.landmarks] == [tuple(p) for p in want.landmarks]
    assert got.vector.dtype == np.float32 and np.array_equal(got.vector, want.vector)
    assert (got.second is None) == (want.second is None)
    if want.second is not None:
        assert np.array_equal(got.second, want.second)


class Killed(Exception):
    """The writer 'dies' here."""


def crash_before_image_rows(store: FaceStore, results: list[ImageResult]) -> None:
    """A writer killed after writing the faces of ``results`` and before their image rows."""
    if hasattr(store, "_write"):  # the Milvus store writes step by step: stop it after the faces
        store._write(results, upto="faces")
        return
    real = store._db  # the SQLite store: its transaction dies at the image row, after the faces

    class Dying:
        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO images"):
                raise Killed
            return real.execute(sql, *args)

        def executemany(self, sql, *args):
            return real.executemany(sql, *args)

    store._db = Dying()
    try:
        with pytest.raises(Killed):
            store.write(results)
    finally:
        store._db = real


# -- the contract ----------------------------------------------------------------------------------
def test_empty_store(store):
    assert store.model is None
    assert store.counts() == {"images": 0, "faces": 0, "paths": 0, "failures": 0}
    assert store.faces() == [] and store.faces(["abc-0"]) == []
    assert store.search(np.zeros(DIM, np.float32), 5) == []
    assert store.people() == ({}, {}) and store.edits() == [] and store.failures() == []
    assert store.indexed_paths(["/a.jpg"]) == {} and store.known_hashes(["ab" * 32]) == set()
    assert store.paths_of(["ab" * 32]) == {}
    assert store.write([]) == 0
    assert store.describe()["faces"] == 0


def test_write_then_read_back(store):
    rng = np.random.default_rng(1)
    images = [make_image("/p/a.jpg", rng, 2), make_image("/p/b.jpg", rng, 0), make_image("/p/c.jpg", rng, 3)]
    assert store.write(images) == 5
    assert store.model == MODEL
    assert store.counts() == {"images": 3, "faces": 5, "paths": 3, "failures": 0}
    want = {f.id: (f, r.path) for r in images for f in r.faces}
    got = store.faces()
    assert [f.id for f in got] == sorted(want)
    for f in got:
        assert_same(f, *want[f.id])
    named = [images[2].faces[2].id, "nope-0", images[0].faces[0].id]
    assert [f.id for f in store.faces(named)] == [named[0], named[2]]  # in the order named, unknown skipped
    assert store.indexed_paths(["/p/a.jpg", "/p/b.jpg", "/p/zzz.jpg"]) == {
        "/p/a.jpg": (images[0].size, images[0].mtime_ns), "/p/b.jpg": (images[1].size, images[1].mtime_ns)}
    assert store.known_hashes([images[1].hash, "f" * 64]) == {images[1].hash}
    assert store.paths_of([images[0].hash, images[2].hash]) == {images[0].hash: "/p/a.jpg", images[2].hash: "/p/c.jpg"}


def test_rewriting_an_image_changes_nothing(store, make_store):
    rng = np.random.default_rng(2)
    images = [make_image(f"/p/{i}.jpg", rng, 2) for i in range(4)]
    assert store.write(images) == 8
    before = [f.id for f in store.faces()]
    assert store.write(images) == 0  # already indexed: the same ids, no duplicates
    assert store.write(images[:1] + images[:1]) == 0
    assert store.counts() == {"images": 4, "faces": 8, "paths": 4, "failures": 0}
    assert [f.id for f in store.faces()] == before


def test_a_store_reopened_sees_what_was_written(make_store):
    rng = np.random.default_rng(3)
    name = f"t{uuid.uuid4().hex[:16]}"
    first = make_store(name)
    images = [make_image("/p/a.jpg", rng, 3)]
    first.write(images)
    first.add_edit(Edit("name", (images[0].faces[0].id,), name="Ann", at=1.0))
    again = make_store(name)
    assert again.model == MODEL and again.counts()["faces"] == 3
    assert again.indexed_paths(["/p/a.jpg"]) == {"/p/a.jpg": (images[0].size, images[0].mtime_ns)}
    assert [e.name for e in again.edits()] == ["Ann"]


def test_the_same_content_under_a_second_path(store):
    rng = np.random.default_rng(4)
    a = make_image("/p/a.jpg", rng, 2)
    copy = ImageResult("/backup/a.jpg", a.size, a.mtime_ns + 5, a.hash, a.width, a.height, a.faces)
    assert store.write([a]) == 2
    assert store.write([copy]) == 0
    assert store.counts() == {"images": 1, "faces": 2, "paths": 2, "failures": 0}
    assert set(store.indexed_paths(["/p/a.jpg", "/backup/a.jpg"])) == {"/p/a.jpg", "/backup/a.jpg"}
    assert store.paths_of([a.hash]) == {a.hash: "/p/a.jpg"}  # the first path seen
    assert {f.path for f in store.faces()} == {"/p/a.jpg"}
    # both in one batch, on a fresh content
    b = make_image("/p/b.jpg", rng, 1)
    b2 = ImageResult("/p/b-copy.jpg", b.size, b.mtime_ns, b.hash, b.width, b.height, b.faces)
    assert store.write([b, b2]) == 1
    assert store.counts() == {"images": 2, "faces": 3, "paths": 4, "failures": 0}


def test_failures_are_recorded_and_cleared_when_the_path_later_succeeds(store):
    rng = np.random.default_rng(5)
    assert store.write([failed("/p/x.jpg"), failed("/p/y.jpg", "empty", "0 bytes"), make_image("/p/ok.jpg", rng)]) == 2
    assert store.failures() == [Failure("/p/x.jpg", "unreadable", "truncated JPEG"), Failure("/p/y.jpg", "empty", "0 bytes")]
    assert store.counts()["failures"] == 2
    assert "/p/x.jpg" not in store.indexed_paths(["/p/x.jpg"])  # a failed path is redone by the next run
    store.write([failed("/p/y.jpg", "missing", "gone")])  # a second failure replaces the first
    assert store.failures()[1] == Failure("/p/y.jpg", "missing", "gone")
    store.write([make_image("/p/x.jpg", rng, 1)])
    assert store.failures() == [Failure("/p/y.jpg", "missing", "gone")]
    assert store.counts() == {"images": 2, "faces": 3, "paths": 2, "failures": 1}


def test_paths_with_quotes_backslashes_and_other_scripts(store):
    rng = np.random.default_rng(6)
    odd = ['/p/say "cheese".jpg', "C:\\photos\\a b.jpg", "/p/été 東京 😀.jpg", "/p/it's\nnew.jpg"]
    store.write([make_image(p, rng, 1) for p in odd] + [failed(p + ".bad", message='a "quoted" \\ reason') for p in odd])
    assert set(store.indexed_paths(odd)) == set(odd)
    assert {f.path for f in store.failures()} == {p + ".bad" for p in odd}
    assert {f.path for f in store.faces()} == set(odd)


def test_the_first_write_pins_the_model(store):
    rng = np.random.default_rng(7)
    store.write([make_image("/p/a.jpg", rng, 1)])
    other = make_image("/p/b.jpg", rng, 1, model="facenet")
    with pytest.raises(EmbeddingMismatchError):
        store.write([other])
    with pytest.raises(EmbeddingMismatchError):  # a batch with one wrong image writes none of it
        store.write([make_image("/p/c.jpg", rng, 1), other])
    assert store.model == MODEL
    assert store.counts() == {"images": 1, "faces": 1, "paths": 1, "failures": 0}
    assert store.indexed_paths(["/p/b.jpg", "/p/c.jpg"]) == {}
    store.write([make_image("/p/none.jpg", rng, 0, model="facenet")])  # no faces: nothing to pin or check


def test_search_returns_the_exact_nearest(store):
    rng = np.random.default_rng(8)
    images = [make_image(f"/p/{i}.jpg", rng, 3) for i in range(20)]
    store.write(images)
    faces = [f for r in images for f in r.faces]
    ids = np.array([f.id for f in faces])
    matrix = np.stack([f.vector for f in faces]).astype(np.float64)
    for _ in range(5):
        q = rng.normal(size=DIM).astype(np.float32)
        d = np.linalg.norm(matrix - q.astype(np.float64), axis=1)
        order = np.lexsort((ids, d))[:10]
        hits = store.search(q, 10)
        assert [h[0] for h in hits] == list(ids[order])
        assert [h[1] for h in hits] == pytest.approx(list(d[order]), rel=1e-5, abs=1e-5)
    probe = faces[17]
    top = store.search(probe.vector, 3)
    assert top[0][0] == probe.id and top[0][1] == pytest.approx(0.0, abs=1e-4)
    assert len(store.search(probe.vector, 1000)) == 60  # k over the store's size: every face
    assert store.search(probe.vector, 0) == []
    with pytest.raises(InputError):
        store.search(np.zeros(64, np.float32), 3)


def test_search_breaks_ties_by_id(store):
    rng = np.random.default_rng(9)
    v = rng.normal(size=DIM).astype(np.float32)
    twins = []
    for i in range(3):
        h = content_hash(rng)
        twins.append(ImageResult(f"/p/twin{i}.jpg", 1, 1, h, 10, 10, (make_face(h, 0, rng, vector=v.copy()),)))
    store.write([*twins, make_image("/p/other.jpg", rng, 4)])
    hits = store.search(v + 0.01, 3)
    assert [h[0] for h in hits] == sorted(t.faces[0].id for t in twins)
    assert hits[0][1] == hits[1][1] == hits[2][1]


def test_people_are_saved_replaced_and_read(store):
    store.save_people({"a-0": 1, "b-0": 1, "c-1": 2}, {1: "Ann"})
    assert store.people() == ({"a-0": 1, "b-0": 1, "c-1": 2}, {1: "Ann"})
    store.save_people({"a-0": 3, "d-0": 4}, {4: "Dee", 3: 'O"Brien'})  # whole: b-0 and c-1 are unassigned now
    assert store.people() == ({"a-0": 3, "d-0": 4}, {3: 'O"Brien', 4: "Dee"})
    store.save_people({}, {})
    assert store.people() == ({}, {})
    many = {f"{i:024x}-0": i % 97 for i in range(5000)}  # more than one page of a query
    store.save_people(many, {p: f"person {p}" for p in range(97)})
    assignment, names = store.people()
    assert assignment == many and len(names) == 97


def test_edits_append_in_order(store):
    edits = [Edit("merge", ("a-0", "b-0"), at=1.5), Edit("split", ("a-0",), ("b-0", "c-0"), at=2.5),
             Edit("name", ("a-0",), name="Ann", at=3.5), Edit("merge", ("c-0", "d-0"), at=0.5)]
    for e in edits:
        store.add_edit(e)
    got = store.edits()
    assert [e.to_dict() for e in got] == [e.to_dict() for e in edits]  # the order made, not their ``at``


def test_a_writer_killed_before_the_image_rows_leaves_nothing_visible(store):
    rng = np.random.default_rng(10)
    kept = make_image("/p/kept.jpg", rng, 2)
    store.write([kept])
    lost = make_image("/p/lost.jpg", rng, 3)
    crash_before_image_rows(store, [lost])
    assert store.counts() == {"images": 1, "faces": 2, "paths": 1, "failures": 0}
    assert [f.id for f in store.faces()] == sorted(f.id for f in kept.faces)
    assert store.faces([f.id for f in lost.faces]) == []
    assert all(i not in {f.id for f in lost.faces} for i, _ in store.search(lost.faces[0].vector, 10))
    assert store.known_hashes([lost.hash]) == set() and store.indexed_paths(["/p/lost.jpg"]) == {}
    # the rerun (which redoes the path: it was never recorded) finds fewer faces this time
    rerun = ImageResult(lost.path, lost.size, lost.mtime_ns, lost.hash, lost.width, lost.height, lost.faces[:2])
    assert store.write([rerun]) == 2
    assert store.counts() == {"images": 2, "faces": 4, "paths": 2, "failures": 0}
    assert store.faces([lost.faces[2].id]) == []  # the killed attempt's third face is gone
    assert store.search(lost.faces[0].vector, 1)[0][0] == lost.faces[0].id
    for f, want in zip(store.faces([f.id for f in rerun.faces]), rerun.faces, strict=True):
        assert_same(f, want, "/p/lost.jpg")


def test_tenants_never_see_each_other(make_store):
    rng = np.random.default_rng(11)
    a, b = make_store(), make_store()
    image = make_image("/p/a.jpg", rng, 2)
    a.write([image, failed("/p/bad.jpg")])
    a.save_people({image.faces[0].id: 1}, {1: "Ann"})
    a.add_edit(Edit("name", (image.faces[0].id,), name="Ann"))
    assert b.counts() == {"images": 0, "faces": 0, "paths": 0, "failures": 0}
    assert b.model is None and b.faces() == [] and b.search(image.faces[0].vector, 5) == []
    assert b.people() == ({}, {}) and b.edits() == [] and b.failures() == []
    assert b.known_hashes([image.hash]) == set() and b.indexed_paths(["/p/a.jpg"]) == {}
    b.write([make_image("/p/b.jpg", rng, 1, model="facenet")])  # its own model
    assert (a.model, b.model) == (MODEL, "facenet") and a.counts()["faces"] == 2


def test_more_faces_than_one_page(store):
    rng = np.random.default_rng(12)
    images = [make_image(f"/p/{i}.jpg", rng, 5) for i in range(1000)]
    for start in range(0, len(images), 250):
        store.write(images[start:start + 250])
    assert store.counts() == {"images": 1000, "faces": 5000, "paths": 1000, "failures": 0}
    assert len(store.faces()) == 5000
    assert len(store.indexed_paths([r.path for r in images])) == 1000


# -- the Milvus store's URL and connection --------------------------------------------------------
@pytest.mark.parametrize("url", ["milvus://localhost:notaport", "milvus://h:19530/bad-name", "milvus://h:19530/a/b",
                                 "milvus://h:19530/x?colour=red", "milvus://h:19530/x?timeout=soon",
                                 "milvus://h:19530/x?index=hnsw"])
def test_a_bad_milvus_url_is_an_input_error(url):
    pytest.importorskip("pymilvus")
    with pytest.raises(InputError):
        open_collection(url)


def test_a_milvus_server_that_is_down_is_unavailable():
    pytest.importorskip("pymilvus")
    url = "milvus://127.0.0.1:9/faces?timeout=2"
    with pytest.raises(StoreUnavailableError, match="127.0.0.1:9"):
        open_collection(url)
