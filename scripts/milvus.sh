#!/usr/bin/env bash
# A real Milvus standalone server (the `milvus==2.3.5` wheel: Milvus with embedded etcd) for
# mien's tests and benchmarks, inside a loopback-only network namespace: the server binds
# every interface and about ten ports, and in the namespace "every interface" is lo alone.
#
#   scripts/milvus.sh start        # install (once, in .venv-milvus), start, wait until it answers
#   scripts/milvus.sh exec CMD...  # run CMD inside the namespace, where milvus://127.0.0.1:19530 answers
#   scripts/milvus.sh stop         # stop the server, remove its data and the namespace
#   scripts/milvus.sh status
#
# Needs root (ip netns). MIEN_MILVUS_NS names the namespace, MIEN_MILVUS_DATA the data folder.
set -euo pipefail
cd "$(dirname "$0")/.."

NS=${MIEN_MILVUS_NS:-mien-milvus}
DATA=${MIEN_MILVUS_DATA:-/tmp/mien-milvus-$NS}
VENV=.venv-milvus
PID_FILE=$DATA/server.pid
LOG=$DATA/server.log

install() {
  if [ ! -x "$VENV/bin/milvus-server" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check milvus==2.3.5
  fi
}

namespace() {
  if ! ip netns list | grep -qw "$NS"; then
    ip netns add "$NS"
  fi
  ip netns exec "$NS" ip link set lo up
}

answers() {  # the proxy's gRPC port accepts connections
  ip netns exec "$NS" "$VENV/bin/python" - <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", 19530)) == 0 else 1)
EOF
}

running() {
  [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

start() {
  install
  namespace
  if running && answers; then
    echo "milvus: already running in namespace $NS"
    return
  fi
  mkdir -p "$DATA"
  # setsid: the server outlives this script and is stopped as a process group
  # A faster time tick makes Strong reads return sooner. Erasure: the GC settings make
  # compacted-away segment files leave the disk about a minute after compaction instead
  # of hours later (dropTolerance). The message log (rocksmq) still holds every insert as
  # sent until its current page fills and retention passes: measured, shorter retention
  # and smaller pages do not drop a small gallery's inserts (docs/gallery.md).
  ip netns exec "$NS" setsid "$VENV/bin/milvus-server" --data "$DATA/data" \
    --extra-config proxy.timeTickInterval=50 \
    --extra-config dataCoord.gc.interval=2 \
    --extra-config dataCoord.gc.dropTolerance=1 \
    >"$LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 180); do
    if answers; then
      # the proxy answers a little before the coordinators are ready for DDL
      sleep 5
      echo "milvus: up in namespace $NS (milvus://127.0.0.1:19530 inside it; log $LOG)"
      return
    fi
    if ! running; then
      echo "milvus: the server exited; last lines of $LOG:" >&2
      tail -20 "$LOG" >&2
      exit 1
    fi
    sleep 1
  done
  echo "milvus: no answer after 180 s; last lines of $LOG:" >&2
  tail -20 "$LOG" >&2
  exit 1
}

stop() {
  if running; then
    kill -TERM -- "-$(cat "$PID_FILE")" 2>/dev/null || kill -TERM "$(cat "$PID_FILE")" || true
    for _ in $(seq 1 30); do running || break; sleep 1; done
    running && kill -KILL -- "-$(cat "$PID_FILE")" 2>/dev/null || true
  fi
  # anything else left in the namespace (etcd is a child of the server)
  for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$DATA"
  ip netns delete "$NS" 2>/dev/null || true
  echo "milvus: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running && answers; then echo "milvus: running in $NS"; else echo "milvus: not running"; exit 1; fi ;;
  exec) shift; exec ip netns exec "$NS" "$@" ;;
  *) echo "usage: $0 start|stop|status|exec CMD..." >&2; exit 2 ;;
esac
