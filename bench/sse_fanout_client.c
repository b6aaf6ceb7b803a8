/* SSE fan-out client: N connections read one topic while a thread publishes at a fixed rate;
 * each event carries its publish time (CLOCK_MONOTONIC ns) and every delivery's latency is
 * recorded. Usage: sse_fanout_client PORT CLIENTS RATE SECONDS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static int port, clients, rate;
static double seconds;
static volatile int publishing = 1;
static long published;

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); exit(1); }
    return fd;
}

static void *publisher(void *unused) {
    (void)unused;
    int fd = dial();
    char request[512], sink[65536];
    int64_t start = now_ns(), interval = 1000000000LL / rate, next = start;
    while (now_ns() - start < (int64_t)(seconds * 1e9)) {
        while (now_ns() < next) { }
        char body[128];
        int length = snprintf(body, sizeof body, "{\"topic\":\"fanout.tick\",\"payload\":{\"t\":%lld}}", (long long)now_ns());
        int n = snprintf(request, sizeof request, "POST /api/v1/events HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n\r\n%s", length, body);
        if (write(fd, request, n) != n) break;
        published++;
        next += interval;
        while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) { }
    }
    publishing = 0;
    return NULL;
}

static int compare(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s PORT CLIENTS RATE SECONDS\n", argv[0]); return 2; }
    port = atoi(argv[1]); clients = atoi(argv[2]); rate = atoi(argv[3]); seconds = atof(argv[4]);
    int epoll = epoll_create1(0);
    char **buffers = calloc(clients, sizeof *buffers);
    size_t *fill = calloc(clients, sizeof *fill);
    for (int i = 0; i < clients; i++) {
        int fd = dial();
        const char *get = "GET /api/v1/events/stream?topic=fanout.tick HTTP/1.1\r\nHost: b\r\n\r\n";
        if (write(fd, get, strlen(get)) < 0) return 1;
        buffers[i] = malloc(1 << 20);
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
    printf("SSE fan-out: %d clients, %ld events at %d/s over %.0fs: %zu/%ld deliveries\n", clients, published, rate, seconds, count, published * clients);
    printf("publish-to-receive latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (target p99 < 10 ms)\n", P(0.5), P(0.9), P(0.99), P(1.0));
    return 0;
}
