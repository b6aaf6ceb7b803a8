#!/bin/bash
# Allocations per request on the loop thread of a release plexus (unsupervised, access log off),
# on the Hello plugin's synchronous public route GET /api/v1/hello: the figure behind the release
# bound of Tests/AllocationTests (which counts the debug build in-process). A preloaded counter
# replaces malloc and its family with glibc's own allocator plus a count of the main thread's calls.
#   scripts/alloc-count.sh [requests]       (after: swift build -c release --product plexus --product PlexusHello)
# Exit 1 when the requests were not answered. The requests send `Host: t`, as the in-process test does
# (a longer Host, such as 127.0.0.1:PORT, cost one more allocation per request when measured).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PLEXUS_BIN_DIR:-$ROOT/.build/release}
N=${1:-2000}
W=$(mktemp -d /tmp/plexus-alloc-count.XXXX)
PID=
trap 'if [ -n "$PID" ]; then kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; fi; rm -rf "$W"' EXIT
cat > "$W/count.c" <<'EOF'
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
extern void *__libc_malloc(size_t); extern void *__libc_calloc(size_t, size_t); extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *); extern void *__libc_memalign(size_t, size_t);
static unsigned long main_thread; static _Atomic unsigned long count;
static inline void note(void) { if (main_thread && (unsigned long)pthread_self() == main_thread) atomic_fetch_add_explicit(&count, 1, memory_order_relaxed); }
void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
int posix_memalign(void **o, size_t a, size_t n) { if (a < sizeof(void *) || (a & (a - 1))) return EINVAL; note(); void *p = __libc_memalign(a, n); if (!p) return ENOMEM; *o = p; return 0; }
/* The count, written to $COUNT_FILE every 50 ms by a thread of its own (its allocations are not counted). */
static void *writer(void *path) {
    for (;;) { FILE *f = fopen(path, "w"); if (f) { fprintf(f, "%lu\n", atomic_load(&count)); fclose(f); } usleep(50000); }
    return NULL;
}
__attribute__((constructor)) static void start(void) {
    const char *path = getenv("COUNT_FILE"); if (!path) return;
    main_thread = (unsigned long)pthread_self();
    pthread_t thread; pthread_create(&thread, NULL, writer, (void *)path);
}
EOF
cc -O2 -shared -fPIC "$W/count.c" -o "$W/libcount.so" -lpthread
mkdir -p "$W/plugins.d"
cp "$BIN/libPlexusHello.so" "$W/plugins.d/"
PORT=$((20000 + RANDOM % 20000))
COUNT_FILE=$W/count LD_PRELOAD=$W/libcount.so "$BIN/plexus" serve --no-supervise --plugins "$W/plugins.d" --data "$W/data" \
    --listen 127.0.0.1:$PORT --log-level error --no-access-log &
PID=$!
python3 - "$PORT" "$W/count" "$N" <<'PY'
import http.client, sys, time
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for _ in range(200):
    try:
        probe = http.client.HTTPConnection("127.0.0.1", port); probe.request("GET", "/api/v1/hello"); probe.getresponse().read(); break
    except OSError: time.sleep(0.05)
client = http.client.HTTPConnection("127.0.0.1", port)
def run(count):
    for _ in range(count):
        client.request("GET", "/api/v1/hello", headers={"Host": "t"}); response = client.getresponse(); body = response.read()
        if response.status != 200 or body != b"hello\n": sys.exit("unexpected answer %d %r" % (response.status, body))
def counted():
    time.sleep(0.2)
    return int(open(path).read())
run(200)
before = counted(); run(n); after = counted()
print("release: %d allocations on the loop thread for %d requests: %.2f per request" % (after - before, n, (after - before) / n))
PY
