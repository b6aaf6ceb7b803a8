/* SSE fan-out client: N connections read one topic while a thread publishes at a fixed rate;
 * each event carries its publish time (CLOCK_MONOTONIC ns) and every delivery's latency is
 * recorded. Usage: sse_fanout_client PORT CLIENTS RATE SECONDS KEY (PUBLISH_PORT in the environment: publish there)
 * KEY (an API key or the admin key) goes in every request's Authorization header.
 * Exit status: 0 the target was met; 1 the work did not happen (a stream or a publish was not
 * answered 2xx, nothing was published, a delivery is missing): no figures are printed; 3 the
 * run was complete but p99 missed the target. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int port, clients, rate;
/* PUBLISH_PORT (environment): publish through another instance than the one streaming (bench/cluster.sh). */
static int publish_port;
static const char *key;
static long answered, refused;
static char refusal[128];
static double seconds;
static volatile int publishing = 1;
static long published;

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }

static int dial_port(int to) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(to)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
    return fd;
}

static int dial(void) { return dial_port(port); }

/* Counts the status lines of the publish answers in `data` (a status line may straddle reads:
 * the tail is carried over). */
static void count_answers(char *carry, size_t *carried, const char *data, size_t length) {
    memcpy(carry + *carried, data, length);
    size_t total = *carried + length, at = 0;
    const char *marker = "HTTP/1.1 ";
    while (at + 12 <= total) {
        char *hit = memmem(carry + at, total - at, marker, 9);
        if (!hit || (size_t)(hit - carry) + 12 > total) break;
        if (hit[9] == '2') answered++;
        else { if (!refused) snprintf(refusal, sizeof refusal, "%.12s", hit); refused++; }
        at = (size_t)(hit - carry) + 12;
    }
    size_t keep = total - at < 16 ? total - at : 16;
    memmove(carry, carry + total - keep, keep);
    *carried = keep;
}

static void *publisher(void *unused) {
    (void)unused;
    int fd = dial_port(publish_port);
    char request[1024], sink[65536], carry[64 + 65536];
    size_t carried = 0;
    struct timeval patience = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    int64_t start = now_ns(), interval = 1000000000LL / rate, next = start;
    while (now_ns() - start < (int64_t)(seconds * 1e9)) {
        while (now_ns() < next) { }
        char body[128];
        int length = snprintf(body, sizeof body, "{\"topic\":\"fanout.tick\",\"payload\":{\"t\":%lld}}", (long long)now_ns());
        int n = snprintf(request, sizeof request, "POST /api/v1/events HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer %s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", key, length, body);
        if (write(fd, request, n) != n) break;
        published++;
        next += interval;
        ssize_t got;
        while ((got = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0) count_answers(carry, &carried, sink, (size_t)got);
    }
    /* Every publish gets its answer before the run counts. */
    while (answered + refused < published) {
        ssize_t got = recv(fd, sink, sizeof sink, 0);
        if (got <= 0) break;
        count_answers(carry, &carried, sink, (size_t)got);
    }
    publishing = 0;
    return NULL;
}

static int compare(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: %s PORT CLIENTS RATE SECONDS KEY\n", argv[0]); return 2; }
    port = atoi(argv[1]); clients = atoi(argv[2]); rate = atoi(argv[3]); seconds = atof(argv[4]); key = argv[5];
    publish_port = getenv("PUBLISH_PORT") ? atoi(getenv("PUBLISH_PORT")) : port;
    int epoll = epoll_create1(0);
    char **buffers = calloc(clients, sizeof *buffers);
    size_t *fill = calloc(clients, sizeof *fill);
    for (int i = 0; i < clients; i++) {
        int fd = dial();
        char get[512];
        int length = snprintf(get, sizeof get, "GET /api/v1/events/stream?topic=fanout.tick HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer %s\r\n\r\n", key);
        if (write(fd, get, length) != length) { perror("sse-fanout: write"); return 1; }
        buffers[i] = malloc(1 << 20);
        /* The stream's head must be a 200 before the run counts. */
        struct timeval patience = {.tv_sec = 5};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
        char *end = NULL;
        while (!end) {
            ssize_t n = read(fd, buffers[i] + fill[i], (1 << 20) - 1 - fill[i]);
            if (n <= 0) { fprintf(stderr, "sse-fanout: FAILED: stream %d got no answer to its request\n", i); return 1; }
            fill[i] += n;
            buffers[i][fill[i]] = 0;
            end = strstr(buffers[i], "\r\n\r\n");
        }
        if (strncmp(buffers[i], "HTTP/1.1 200", 12) != 0) {
            fprintf(stderr, "sse-fanout: FAILED: stream %d was answered %.12s instead of HTTP/1.1 200 (credentials? topic?)\n", i, buffers[i]);
            return 1;
        }
        fill[i] -= (size_t)(end + 4 - buffers[i]);
        memmove(buffers[i], end + 4, fill[i]);
        struct epoll_event e = {.events = EPOLLIN, .data.u64 = ((uint64_t)i << 32) | (uint32_t)fd};
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &e);
    }
    usleep(500000);
    size_t capacity = (size_t)(rate * seconds * clients) + 1024, count = 0;
    double *latencies = malloc(capacity * sizeof *latencies);
    pthread_t thread;
    pthread_create(&thread, NULL, publisher, NULL);
    int64_t quiet_since = 0;
    for (;;) {
        struct epoll_event events[256];
        int ready = epoll_wait(epoll, events, 256, 50);
        int64_t received = now_ns();
        if (ready <= 0) {
            if (!publishing) { if (!quiet_since) quiet_since = received; else if (received - quiet_since > 1000000000LL) break; }
            continue;
        }
        quiet_since = 0;
        for (int k = 0; k < ready; k++) {
            int i = (int)(events[k].data.u64 >> 32), fd = (int)(uint32_t)events[k].data.u64;
            ssize_t n = read(fd, buffers[i] + fill[i], (1 << 20) - 1 - fill[i]);
            if (n <= 0) continue;
            fill[i] += n;
            buffers[i][fill[i]] = 0;
            char *cursor = buffers[i], *hit, *last = cursor;
            while ((hit = strstr(cursor, "\"t\":")) != NULL) {
                char *end;
                long long t = strtoll(hit + 4, &end, 10);
                if (*end == 0) break;
                if (count < capacity) latencies[count++] = (received - t) / 1e6;
                cursor = last = end;
            }
            size_t keep = fill[i] - (size_t)(last - buffers[i]);
            memmove(buffers[i], last, keep);
            fill[i] = keep;
        }
    }
    pthread_join(thread, NULL);
    qsort(latencies, count, sizeof *latencies, compare);
    #define P(p) (count ? latencies[(size_t)((count - 1) * (p))] : 0)
    if (published == 0 || refused > 0 || answered < published) {
        fprintf(stderr, "sse-fanout: FAILED: %ld events published, %ld answered 2xx, %ld refused%s%s\n", published, answered, refused,
                refused ? " (first: " : "", refused ? refusal : "");
        if (refused) fprintf(stderr, ")\n");
        return 1;
    }
    if ((long)count < published * clients) {
        fprintf(stderr, "sse-fanout: FAILED: %zu of %ld deliveries arrived (%ld missing)\n", count, published * clients, published * clients - (long)count);
        return 1;
    }
    printf("SSE fan-out: %d clients, %ld events at %d/s over %.0fs: %zu/%ld deliveries\n", clients, published, rate, seconds, count, published * clients);
    printf("publish-to-receive latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (target p99 < 10 ms)\n", P(0.5), P(0.9), P(0.99), P(1.0));
    if (P(0.99) >= 10.0) {
        printf("sse-fanout: TARGET MISSED: p99 %.2f ms is not under 10 ms\n", P(0.99));
        return 3;
    }
    return 0;
}
