"""Bounded load on `mien serve` over 127.0.0.1 against the same library calls made directly.

    python -m benchmarks.service_load [--requests 5000] [--concurrency 1 4 16] [--photos 200]

A real `python -m mien serve` process (its own home, an embedded SQLite gallery with 50 people
enrolled through the API, a key with a rate high enough not to throttle) gets ``--requests``
detect and ``--requests`` identify calls with real LFW photos, at each concurrency, from a
pool of client threads that each keep one HTTP connection. For each row:

* requests per second, p50/p95/p99 latency, errors (any answer but 200; target 0);
* the server's resident memory at the start and end of the row and its peak (target flat);
* the same work done directly in this process with the same models (``mien.serve.engine``:
  decode, detect; decode, identify) by a thread pool of the same size; the service's
  throughput as a share of that (target >= 90% at concurrency 4).

The client and the server share this machine's cores, so the HTTP client's own work counts
against the service here; on a machine where clients are elsewhere the share is higher.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from benchmarks.common import REPO, data_root, header, markdown_table, write_outputs

ENROLLED = 50
WARMUP = 20
ROUTES = {"detect": "/v1/detect", "identify": "/v1/gallery/identify"}


def photos(root: Path, n: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """(one photo each of ENROLLED people with several, n probe photos): LFW in file order."""
    images = sorted((root / "lfw" / "images").glob("*.jpg"))
    people: dict[str, list[Path]] = {}
    for path in images:
        people.setdefault(path.stem.rsplit("_", 1)[0], []).append(path)
    several = [paths for paths in people.values() if len(paths) >= 2][:ENROLLED]
    enrol = [(p[0].name, p[0].read_bytes()) for p in several]
    probes = [(p.name, p.read_bytes()) for paths in several for p in paths[1:]]
    probes = probes[:n // 2]  # half mated (someone enrolled), half not
    enrolled = {path.name for paths in several for path in paths}
    probes += [(p.name, p.read_bytes()) for p in images if p.name not in enrolled][:n - len(probes)]
    return enrol, probes


class Server:
    """`python -m mien serve` on a free port; its RSS read from /proc."""

    def __init__(self, home: Path, workers: int | None) -> None:
        env = {**os.environ, "MIEN_SERVE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "mien", "serve", "--port", "0", "--store", f"sqlite://{home}/gallery",
                   "--queue", "64", *(("--workers", str(workers)) if workers else ())]
        self.home = home
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, bufsize=1)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        self.url = None
        deadline = time.monotonic() + 120
        while self.url is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("mien serve did not start")
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if found := re.search(r"mien: serving (http://\S+)", line):
                self.url = found.group(1).rstrip("/")

    def key(self) -> str:
        import json

        done = subprocess.run([sys.executable, "-m", "mien", "serve", "keys", "create", "--home", str(self.home),
                               "--name", "load", "--scope", "admin", "--rate", "1000000", "--json"],
                              cwd=REPO, capture_output=True, text=True, check=True)
        return json.loads(done.stdout)["secret"]

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_s(self) -> float:
        """User + system CPU seconds the server has used (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def summary(latencies: list[float], wall: float, errors: int) -> dict:
    ms = np.asarray(latencies) * 1e3
    return {"requests": len(latencies), "rps": round(len(latencies) / wall, 2), "errors": errors,
            "p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2)}


def over_http(server: Server, key: str, op: str, probes: list, n: int, concurrency: int) -> dict:
    import httpx

    local = threading.local()
    url = server.url + ROUTES[op]
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def one(i: int) -> float:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=120)
        name, data = probes[i % len(probes)]
        start = time.perf_counter()
        form = {"largest": "true"} if op == "identify" else None  # some LFW photos hold a second face
        status = client.post(url, data=form, files={"image": (name, data, "image/jpeg")}).status_code
        took = time.perf_counter() - start
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
        return took

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(WARMUP)))
        statuses.clear()
        memory = [server.rss_mb()]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                memory.append(server.rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        start, server_cpu, client_cpu = time.perf_counter(), server.cpu_s(), time.process_time()
        latencies = list(pool.map(one, range(n)))
        wall = time.perf_counter() - start
        server_cpu, client_cpu = server.cpu_s() - server_cpu, time.process_time() - client_cpu
        done.set()
        sampler.join()
        memory.append(server.rss_mb())
    row = summary(latencies, wall, sum(c for s, c in statuses.items() if s != 200))
    row.update(server_cpu_ms=round(1e3 * server_cpu / n, 2), client_cpu_ms=round(1e3 * client_cpu / n, 2),
               statuses={str(s): c for s, c in sorted(statuses.items())}, rss_start_mb=round(memory[0], 1),
               rss_end_mb=round(memory[-1], 1), rss_peak_mb=round(max(memory), 1))
    return row


def direct(engine, gallery_name: str, op: str, probes: list, n: int, concurrency: int) -> dict:
    from mien.image import load_image

    gallery = engine.gallery(gallery_name, "benchmark")

    def one(i: int) -> float:
        _, data = probes[i % len(probes)]
        start = time.perf_counter()
        pixels = load_image(data)
        if op == "detect":
            engine.detector().detect(pixels)
        else:
            gallery.identify(pixels, 5, 1e-3, largest=True)
        return time.perf_counter() - start

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(WARMUP)))
        start, cpu = time.perf_counter(), time.process_time()
        latencies = list(pool.map(one, range(n)))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {**summary(latencies, wall, 0), "cpu_ms": round(1e3 * cpu / n, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=5000, help="per route and concurrency")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--photos", type=int, default=200, help="distinct LFW probe photos, cycled")
    ap.add_argument("--workers", type=int, default=None, help="the server's worker threads (default: its own)")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--name", default="service_load")
    args = ap.parse_args()

    import httpx

    from mien.serve.engine import Engine

    enrol, probes = photos(args.data or data_root(), args.photos)
    rows = []
    with tempfile.TemporaryDirectory(prefix="mien-load-") as tmp:
        server = Server(Path(tmp), args.workers)
        try:
            key = server.key()
            with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
                for i, (name, data) in enumerate(enrol):
                    r = client.post(server.url + "/v1/gallery/enrol", data={"name": f"person{i:02d}", "force": "true",
                                                                            "largest": "true"},
                                    files={"images": (name, data, "image/jpeg")})
                    r.raise_for_status()
                gallery_name = client.get(server.url + "/v1/whoami").json()["gallery"]
            engine = Engine(f"sqlite://{tmp}/gallery", None, lambda *_: None)
            for op in ROUTES:
                for c in args.concurrency:
                    print(f"{op} at concurrency {c}: {args.requests} requests", flush=True)
                    http = over_http(server, key, op, probes, args.requests, c)
                    lib = direct(engine, gallery_name, op, probes, args.requests, c)
                    rows.append({"route": op, "concurrency": c, "http": http, "direct": lib,
                                 "throughput_share": round(http["rps"] / lib["rps"], 3)})
            engine.close()
        finally:
            server.stop()

    result = {"meta": {**header(), "requests": args.requests, "photos": len(probes), "enrolled": len(enrol),
                       "server_workers": args.workers or "default"}, "rows": rows}
    table = markdown_table(
        ["route", "concurrency", "rps", "p50 ms", "p95 ms", "p99 ms", "errors", "RSS start/end/peak MB",
         "direct rps", "share of direct", "CPU ms/request: server, client, direct"],
        [(r["route"], r["concurrency"], r["http"]["rps"], r["http"]["p50_ms"], r["http"]["p95_ms"], r["http"]["p99_ms"],
          r["http"]["errors"], f"{r['http']['rss_start_mb']:.0f}/{r['http']['rss_end_mb']:.0f}/{r['http']['rss_peak_mb']:.0f}",
          r["direct"]["rps"], f"{100 * r['throughput_share']:.0f}%",
          f"{r['http']['server_cpu_ms']:.1f}, {r['http']['client_cpu_ms']:.1f}, {r['direct']['cpu_ms']:.1f}") for r in rows])
    write_outputs(args.name, result, table)


if __name__ == "__main__":
    main()
