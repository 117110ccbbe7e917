"""Group unknown faces into people: constrained average linkage on a k-NN graph.

    >>> labels = cluster(ClusterInput(vectors, photo, usable, young))     # (N,) int64, -1 unassigned
    >>> more = assign(ClusterInput(...), labels, ClusterInput(new_vectors, ...))

Why this algorithm. Average linkage (UPGMA) merges two groups only when their faces are,
on average, closer than the bar, so one lucky pair cannot chain two people together the
way single linkage and Chinese whispers can (a chain of look-alikes is the main failure on
photo collections: one wrong edge joins two large families). It needs no cluster count,
reads the model's own distance bar, and ties break by face index, so the result is
deterministic. The textbook method needs all N x N distances; here two groups are only
*candidates* when a k-NN edge (faiss, within ``radius``) links them, and the mean distance
between candidates is exact: it is kept as a sum per adjacent pair and updated at each
merge (Lance-Williams), the sums of newly adjacent pairs computed from the vectors. Memory
grows with N * k, not N^2; time with the k-NN search (exact up to 200,000 faces, faiss
IVF above) and with the sizes of the groups merged. (A lower bound for the unseen pairs, tried
first, let groups on LFW drift together: measured in docs/benchmarks/collection_cluster_lfw.md.)

Constraints are checked at every merge: two groups holding faces of the same photo, or
the two sides of a user split, never merge; user merges start merged (they name faces:
a UI merge of two people passes all faces of both). A link touching a face the age model
reads as a young child needs a distance under ``young_threshold`` and, where both faces
carry second-model vectors, a second-model cosine of at least ``second_threshold``; groups
holding young faces merge only under ``young_threshold`` on average. Children's faces are
where dlib's impostor rate is highest (the same document).

``assign`` adds faces to an existing clustering without changing it: the existing clusters
are frozen groups that may grow but never merge with each other, and new faces form new
people among themselves.

Defaults were chosen on half of LFW's identities and checked on the other half
(benchmarks/collection_cluster_lfw.py); they are for dlib-resnet (euclidean).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ShapeError

METRICS = ("euclidean", "cosine")
# Faces the age model reads at this age or under should be passed as ``young``: dlib-resnet's
# impostor rate at the normal bar is 6x the adults' at 7-8 years and 100x at 1-2 (UTKFace,
# docs/benchmarks/collection_cluster_lfw.md).
YOUNG_AGE = 8
EXACT_LIMIT = 200_000  # above this many faces the k-NN search is approximate (faiss IVF)


@dataclass(frozen=True)
class ClusterInput:
    """The faces to group. Indices in ``must_link`` / ``cannot_link`` are rows of ``vectors``."""

    vectors: np.ndarray  # (N, D) float32 in the model's metric space
    photo: np.ndarray  # (N,) int64: same value = same photo = never the same person
    usable: np.ndarray  # (N,) bool: passed the quality gate; unusable faces get -1
    young: np.ndarray  # (N,) bool: read as a young child: stricter bar
    second: np.ndarray | None = None  # (N, D2) unit vectors of a second model, NaN rows where absent
    must_link: tuple[tuple[int, ...], ...] = ()  # user merges: each group is one person
    cannot_link: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = ()  # user splits: side A never with side B
    norm: np.ndarray | None = None  # (N, 2): each face's (mean, spread) of its top cohort scores (Cohort.impostor_stats)

    def __post_init__(self) -> None:
        vectors = np.asarray(self.vectors, np.float32)
        if vectors.ndim != 2 or vectors.shape[1] == 0:
            raise ShapeError("vectors", "(N, D)", tuple(vectors.shape))
        n = len(vectors)
        photo = _vector("photo", self.photo, n, np.int64)
        usable = _vector("usable", self.usable, n, bool)
        young = _vector("young", self.young, n, bool)
        if not np.isfinite(vectors[usable]).all():
            raise InputError("vectors of usable faces must be finite (NaN or inf found)")
        second = None
        if self.second is not None:
            second = np.asarray(self.second, np.float32)
            if second.ndim != 2 or len(second) != n:
                raise ShapeError("second", f"({n}, D2)", tuple(second.shape))
        norm = None
        if self.norm is not None:
            norm = np.asarray(self.norm, np.float64)
            if norm.shape != (n, 2):
                raise ShapeError("norm", f"({n}, 2)", tuple(norm.shape))
            if not (np.isfinite(norm[usable]).all() and (norm[usable, 1] > 0).all()):
                raise InputError("norm must hold finite means and positive spreads for usable faces")
        must = tuple(tuple(_indices("must_link", g, n)) for g in self.must_link)
        cannot = tuple((tuple(_indices("cannot_link", a, n)), tuple(_indices("cannot_link", b, n)))
                       for a, b in (_pair(p) for p in self.cannot_link))
        for name, value in (("vectors", vectors), ("photo", photo), ("usable", usable), ("young", young),
                            ("second", second), ("must_link", must), ("cannot_link", cannot), ("norm", norm)):
            object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return len(self.vectors)


@dataclass(frozen=True)
class ClusterParams:
    """How close faces must be to be one person (defaults: dlib-resnet, measured on LFW)."""

    threshold: float = 0.52  # average-linkage bar: mean distance between two groups
    young_threshold: float = 0.45  # bar for links and merges touching a young face
    second_threshold: float = 0.6  # second-model cosine a young face's link needs (where both have one)
    radius: float = 0.65  # k-NN edges longer than this do not make two groups candidates
    k: int = 32  # neighbours searched per face
    min_size: int = 1  # clusters smaller than this are left unassigned (-1)
    # With ``ClusterInput.norm`` the bar is on AS-norm scores, -z (lower = more alike): each pair's
    # distance standardised by both faces' cohort statistics, which undoes the crowding of faces
    # the model packs close together (LFW: +2 F1 points, docs/benchmarks/collection_cluster_lfw.md).
    normalised_threshold: float = -4.0  # chosen on half of LFW's people, checked on the other half
    # the young bar moved as far as the raw one (0.52 -> 0.45 = 0.07 at a typical spread of 0.025)
    young_normalised_threshold: float = -6.8
    metric: str = "euclidean"  # of ``vectors``; cosine distance is 1 - cos

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise InputError(f"metric must be one of {METRICS}, got {self.metric!r}")
        if self.k < 1 or self.min_size < 1:
            raise InputError(f"k and min_size must be >= 1, got k={self.k}, min_size={self.min_size}")
        if not (0 < self.threshold <= self.radius and 0 < self.young_threshold <= self.radius):
            raise InputError(f"need 0 < threshold, young_threshold <= radius, got {self.threshold}, "
                             f"{self.young_threshold}, {self.radius}")


def cluster(inp: ClusterInput, params: ClusterParams = ClusterParams()) -> np.ndarray:
    """Labels (N,) int64: people numbered 0..K-1, largest first (ties: lowest face index); -1 unassigned."""
    rows = np.flatnonzero(inp.usable)
    out = np.full(len(inp), -1, np.int64)
    if not len(rows):
        return out
    groups = _user_groups(inp, rows)
    root = _engine(inp.vectors[rows], rows, inp, np.zeros(len(rows), bool), np.full(len(rows), -1), groups, params)
    for label, members in enumerate(_ordered(root, params.min_size)):
        out[rows[members]] = label
    return out


def assign(existing: ClusterInput, labels: np.ndarray, new: ClusterInput,
           params: ClusterParams = ClusterParams()) -> np.ndarray:
    """Labels for ``new``'s faces: an existing person's id, a new id (>= labels.max() + 1) for a
    person found among the new faces, or -1. Existing labels never change and two existing
    people never merge. ``photo`` values are one namespace across both inputs; ``new``'s
    must_link / cannot_link index ``new``; ``existing``'s cannot_link still holds."""
    labels = _vector("labels", labels, len(existing), np.int64)
    if new.vectors.shape[1] != existing.vectors.shape[1]:
        raise ShapeError("new.vectors", f"(M, {existing.vectors.shape[1]})", tuple(new.vectors.shape))
    if (existing.second is None) != (new.second is None) or (
            new.second is not None and new.second.shape[1] != existing.second.shape[1]):
        raise InputError("existing and new must both carry second-model vectors of one size, or neither")
    out = np.full(len(new), -1, np.int64)
    new_rows = np.flatnonzero(new.usable)
    if not len(new_rows):
        return out
    old_rows = np.flatnonzero(labels >= 0)
    merged = ClusterInput(
        np.concatenate([existing.vectors[old_rows], new.vectors[new_rows]]),
        np.concatenate([existing.photo[old_rows], new.photo[new_rows]]),
        np.ones(len(old_rows) + len(new_rows), bool),
        np.concatenate([existing.young[old_rows], new.young[new_rows]]),
        None if new.second is None else np.concatenate([existing.second[old_rows], new.second[new_rows]]),
        norm=None if new.norm is None or existing.norm is None
        else np.concatenate([existing.norm[old_rows], new.norm[new_rows]]),
    )
    pos_old = np.full(len(existing), -1)
    pos_old[old_rows] = np.arange(len(old_rows))
    pos_new = np.full(len(new), -1)
    pos_new[new_rows] = len(old_rows) + np.arange(len(new_rows))
    groups = [[int(pos_new[i]) for i in g if pos_new[i] >= 0] for g in new.must_link]
    splits = [([int(pos_old[i]) for i in a if pos_old[i] >= 0], [int(pos_old[i]) for i in b if pos_old[i] >= 0])
              for a, b in existing.cannot_link]
    splits += [([int(pos_new[i]) for i in a if pos_new[i] >= 0], [int(pos_new[i]) for i in b if pos_new[i] >= 0])
               for a, b in new.cannot_link]
    merged = ClusterInput(merged.vectors, merged.photo, merged.usable, merged.young, merged.second,
                          tuple(tuple(g) for g in groups if g), tuple((tuple(a), tuple(b)) for a, b in splits),
                          merged.norm)
    rows = np.arange(len(merged))
    old = np.zeros(len(rows), bool)
    old[: len(old_rows)] = True
    old_label = np.full(len(rows), -1)
    old_label[: len(old_rows)] = labels[old_rows]
    by_label: dict[int, list[int]] = {}
    for p, lab in enumerate(labels[old_rows]):
        by_label.setdefault(int(lab), []).append(p)
    root = _engine(merged.vectors, rows, merged, old, old_label, list(by_label.values()) + _user_groups(merged, rows),
                   params, queries=np.arange(len(old_rows), len(rows)))
    members_of: dict[int, list[int]] = {}
    for p in range(len(rows)):
        members_of.setdefault(int(root[p]), []).append(p)
    fresh = []
    for members in members_of.values():
        mine = [p - len(old_rows) for p in members if p >= len(old_rows)]
        if not mine:
            continue
        known = {int(old_label[p]) for p in members if p < len(old_rows)}
        if known:
            out[new_rows[mine]] = known.pop()
        elif len(mine) >= params.min_size:
            fresh.append(mine)
    base = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    for offset, mine in enumerate(sorted(fresh, key=lambda m: (-len(m), m[0]))):
        out[new_rows[mine]] = base + offset
    return out


# ------------------------------------------------------------------------------------ engine

def _engine(vectors: np.ndarray, rows: np.ndarray, inp: ClusterInput, old: np.ndarray, old_label: np.ndarray,
            groups: Sequence[Sequence[int]], params: ClusterParams, queries: np.ndarray | None = None) -> np.ndarray:
    """Root cluster (position) of every position 0..len(rows)-1 after constrained agglomeration.

    ``rows`` map positions to rows of ``inp`` (photo, young, second, cannot_link); ``old``
    marks frozen faces of an existing clustering (their k-NN is not searched: every edge
    touches a queried face; two clusters holding old faces never merge); ``groups`` of
    positions start merged.
    """
    n = len(rows)
    queries = np.arange(n) if queries is None else queries
    x = np.ascontiguousarray(_unit(vectors) if params.metric == "cosine" else vectors, np.float32)
    dist, nbr = _knn(x, queries, min(params.k, n - 1), params.metric)
    young = inp.young[rows]
    # Edges (a < b), each once, and whether each may link (the young rule).
    ii = np.repeat(queries, dist.shape[1])
    jj, dd = nbr.reshape(-1), dist.reshape(-1)
    keep = (jj >= 0) & (jj != ii) & (dd < params.radius)
    a, b, dd = np.minimum(ii, jj)[keep], np.maximum(ii, jj)[keep], dd[keep]
    order = np.lexsort((b, a))
    a, b, dd = a[order], b[order], dd[order]
    first = np.ones(len(a), bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, dd = a[first], b[first], dd[first]
    touches_young = young[a] | young[b]
    links = ~touches_young | (dd < params.young_threshold)
    if inp.second is not None and touches_young.any():
        second = inp.second[rows]
        s = np.flatnonzero(touches_young)
        sa, sb = second[a[s]], second[b[s]]
        both = np.isfinite(sa).all(axis=1) & np.isfinite(sb).all(axis=1)
        cos = np.einsum("ij,ij->i", _unit(np.nan_to_num(sa)), _unit(np.nan_to_num(sb)))
        links[s[both & (cos < params.second_threshold)]] = False
    tokens: dict[int, set] = {}
    for k, sides in enumerate(inp.cannot_link):
        for side, members in enumerate(sides):
            for row in members:
                tokens.setdefault(int(row), set()).add((k, side))
    scale = None
    if inp.norm is not None:
        # AS-norm: -z = d * (1/(2 s_a) + 1/(2 s_b)) + m_a/(2 s_a) + m_b/(2 s_b), with m the mean of the
        # face's top cohort scores (scores are -distance) and s their spread: linear in d per pair.
        mean, spread = inp.norm[rows, 0], inp.norm[rows, 1]
        scale = (0.5 / spread, 0.5 * mean / spread)
        dd = dd * (scale[0][a] + scale[0][b]) + scale[1][a] + scale[1][b]
    state = _Agglomeration(x, params.metric, [int(inp.photo[r]) for r in rows],
                           [tokens.get(int(r), set()) for r in rows], young,
                           np.where(old, old_label, -1), a.tolist(), b.tolist(), dd.tolist(), links.tolist(), scale)
    for g in groups:
        for p in g[1:]:
            x0, y0 = state.find(g[0]), state.find(p)
            if x0 == y0:
                continue
            if not (old[g[0]] and old[p]) and state.conflict(x0, y0):
                raise InputError("must_link joins two faces of one photo, or the two sides of a cannot_link")
            state.merge(x0, y0)
    state.run(params)
    return np.array([state.find(p) for p in range(n)], np.int64)


class _Agglomeration:
    """Clusters, their k-NN adjacency with exact distance sums, and the merge loop."""

    def __init__(self, x: np.ndarray, metric: str, photo: list[int], tokens: list[set], young: np.ndarray,
                 label: np.ndarray, a: list[int], b: list[int], d: list[float], links: list[bool],
                 scale: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        n = len(x)
        self.x, self.metric, self.scale = x, metric, scale
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {p: [p] for p in range(n)}
        self.photos: dict[int, set] = {p: {photo[p]} for p in range(n)}
        self.tokens: dict[int, set] = {p: set(tokens[p]) for p in range(n)}
        self.young: dict[int, bool] = {p: bool(young[p]) for p in range(n)}
        self.label: dict[int, int] = {p: int(label[p]) for p in range(n) if label[p] >= 0}
        self.version = dict.fromkeys(range(n), 0)
        # adj[c][z] = [sum of all |c| x |z| distances, number of linking k-NN edges]
        self.adj: dict[int, dict[int, list]] = {p: {} for p in range(n)}
        for i, j, dist, link in zip(a, b, d, links):
            self.adj[i][j] = self.adj[j][i] = [dist, int(link)]

    def find(self, p: int) -> int:
        parent = self.parent
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    def conflict(self, x: int, y: int) -> bool:
        if x in self.label and y in self.label:
            return True
        px, py = sorted((self.photos[x], self.photos[y]), key=len)
        if not px.isdisjoint(py):
            return True
        tx, ty = sorted((self.tokens[x], self.tokens[y]), key=len)
        return any((k, 1 - s) in ty for k, s in tx)

    def _sums(self, faces: list[int], others: list[int]) -> np.ndarray:
        """Sum of distances from ``faces`` to every member of each cluster in ``others``."""
        if not others:
            return np.zeros(0)
        cols = [self.members[z] for z in others]
        flat = np.fromiter((p for c in cols for p in c), np.int64)
        bounds = np.cumsum([0] + [len(c) for c in cols])[:-1]
        total = np.zeros(len(flat))
        q = self.x[faces]
        step = max(1, 4_000_000 // max(1, len(faces)))
        for s in range(0, len(flat), step):
            block = self.x[flat[s : s + step]]
            if self.metric == "cosine":
                dist = 1.0 - q @ block.T
            else:
                sq = (q * q).sum(1)[:, None] + (block * block).sum(1)[None] - 2.0 * (q @ block.T)
                dist = np.sqrt(np.maximum(sq, 0))
            if self.scale is not None:
                (alpha, beta), cols_ = self.scale, flat[s : s + step]
                dist = (dist * (alpha[faces][:, None] + alpha[cols_][None]) + beta[faces][:, None] + beta[cols_][None])
            total[s : s + len(block)] = dist.sum(axis=0, dtype=np.float64)
        return np.add.reduceat(total, bounds)

    def merge(self, x: int, y: int) -> int:
        """Merge clusters x and y (roots); returns the root kept (the larger; ties: the lower id)."""
        keep, drop = (x, y) if (len(self.members[x]), -x) >= (len(self.members[y]), -y) else (y, x)
        ak, ad = self.adj[keep], self.adj.pop(drop)
        ak.pop(drop, None)
        ad.pop(keep, None)
        only_drop = [z for z in ad if z not in ak]
        only_keep = [z for z in ak if z not in ad]
        for z, s in zip(only_drop, self._sums(self.members[keep], only_drop)):
            entry = ad[z]
            entry[0] += float(s)
            ak[z] = entry
            del self.adj[z][drop]
            self.adj[z][keep] = entry
        for z, s in zip(only_keep, self._sums(self.members[drop], only_keep)):
            ak[z][0] += float(s)
        for z, entry in ad.items():
            if z in ak and ak[z] is not entry:
                ak[z][0] += entry[0]
                ak[z][1] += entry[1]
                del self.adj[z][drop]
        self.parent[drop] = keep
        self.members[keep].extend(self.members.pop(drop))
        self.photos[keep] |= self.photos.pop(drop)
        self.tokens[keep] |= self.tokens.pop(drop)
        self.young[keep] = self.young[keep] or self.young.pop(drop)
        if drop in self.label:
            self.label[keep] = self.label.pop(drop)
        del self.version[drop]
        self.version[keep] += 1
        return keep

    def _candidates(self, x: int, params: ClusterParams):
        nx = len(self.members[x])
        bar, young_bar = ((params.normalised_threshold, params.young_normalised_threshold) if self.scale is not None
                          else (params.threshold, params.young_threshold))
        for z, (total, links) in self.adj[x].items():
            if links > 0:
                avg = total / (nx * len(self.members[z]))
                if avg < (young_bar if self.young[x] or self.young[z] else bar):
                    lo, hi = (x, z) if x < z else (z, x)
                    yield (avg, lo, hi, self.version[lo], self.version[hi])

    def run(self, params: ClusterParams) -> None:
        """Merge the closest linked pair (by mean distance) while it is under the bar and allowed."""
        heap = [c for x in sorted(self.adj) for c in self._candidates(x, params) if c[1] == x]
        heapq.heapify(heap)
        while heap:
            _, x, y, vx, vy = heapq.heappop(heap)
            if self.version.get(x) != vx or self.version.get(y) != vy or self.conflict(x, y):
                continue
            keep = self.merge(x, y)
            for c in self._candidates(keep, params):
                heapq.heappush(heap, c)


def _knn(vectors: np.ndarray, queries: np.ndarray, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Distances (Q, k) ascending and positions (Q, k) of each query's k nearest others (-1: none)."""
    if k <= 0:
        return np.zeros((len(queries), 0)), np.zeros((len(queries), 0), np.int64)
    import faiss

    x = np.ascontiguousarray(_unit(vectors) if metric == "cosine" else vectors, np.float32)
    n, d = x.shape
    if n <= EXACT_LIMIT:
        index = faiss.IndexFlatL2(d)
    else:
        nlist = int(4 * np.sqrt(n))
        index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, nlist)
        sample = x[np.random.default_rng(0).choice(n, size=min(n, 64 * nlist), replace=False)]
        index.train(sample)
        index.nprobe = 32
    index.add(x)
    dist = np.empty((len(queries), k), np.float32)
    nbr = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), 4096):
        q = queries[start : start + 4096]
        dq, iq = index.search(x[q], k + 1)
        # drop the query itself (or one exact duplicate standing in its place)
        self_hit = iq == q[:, None]
        drop_col = np.where(self_hit.any(axis=1), self_hit.argmax(axis=1), k)
        keep = np.ones_like(iq, bool)
        keep[np.arange(len(q)), drop_col] = False
        nbr[start : start + len(q)] = iq[keep].reshape(len(q), k)
        dist[start : start + len(q)] = dq[keep].reshape(len(q), k)
    dist = np.sqrt(np.maximum(dist, 0))
    if metric == "cosine":
        dist = dist**2 / 2
    dist[nbr < 0] = np.inf
    return dist.astype(np.float64), nbr


def _ordered(root: np.ndarray, min_size: int) -> list[np.ndarray]:
    """Member positions of each cluster of at least ``min_size``, largest first, ties by first member."""
    order = np.argsort(root, kind="stable")
    _roots, starts, counts = np.unique(root[order], return_index=True, return_counts=True)
    groups = [order[s : s + c] for s, c in zip(starts, counts) if c >= min_size]
    return sorted(groups, key=lambda g: (-len(g), int(g.min())))


def _user_groups(inp: ClusterInput, rows: np.ndarray) -> list[list[int]]:
    """must_link groups as positions among ``rows`` (unusable faces dropped)."""
    pos = np.full(len(inp), -1)
    pos[rows] = np.arange(len(rows))
    return [[int(pos[i]) for i in g if pos[i] >= 0] for g in inp.must_link]


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norm > 0, norm, 1)


def _vector(name: str, value: object, n: int, dtype: type) -> np.ndarray:
    arr = np.asarray(value)
    if arr.shape != (n,):
        raise ShapeError(name, f"({n},)", tuple(arr.shape))
    if dtype is bool and arr.dtype != bool:
        raise ShapeError(name, f"({n},) bool", f"{arr.shape} {arr.dtype}")
    if dtype is np.int64 and not np.issubdtype(arr.dtype, np.integer):
        raise ShapeError(name, f"({n},) integer", f"{arr.shape} {arr.dtype}")
    return arr.astype(dtype)


def _indices(name: str, group: Sequence[int], n: int) -> list[int]:
    out = [int(i) for i in group]
    if any(i < 0 or i >= n for i in out):
        raise InputError(f"{name} index out of range 0..{n - 1}: {group}")
    return out


def _pair(p: object) -> tuple[Sequence[int], Sequence[int]]:
    if not isinstance(p, (tuple, list)) or len(p) != 2:
        raise InputError(f"each cannot_link entry must be (side_a, side_b), got {p!r}")
    return p[0], p[1]
