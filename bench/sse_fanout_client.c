/* SSE fan-out client: N connections read one topic while a thread publishes at a fixed rate;
 * each event carries its publish time (CLOCK_MONOTONIC ns) and every delivery's latency is
 * recorded. Usage: sse_fanout_client PORT CLIENTS RATE SECONDS KEY (PUBLISH_PORT in the environment: publish there)
 * KEY (an API key or the admin key) goes in every request's Authorization header.
 * The publisher waits in ppoll until each publish is due, timing each answer as it arrives: it does
 * not spin, so it does not take a core away from the servers it measures.
 * Latency breakdown (bench/cluster.sh): every publish carries its sequence number ("s"); its answer
 * time is recorded (publish -> ack: for a durable event, after Redis accepted the XADD), and with
 * REDIS_PORT and REDIS_CHANNEL set a raw Redis subscriber on that channel records when the pub/sub
 * message left Redis (publish -> Redis delivery), so each SSE delivery also gives Redis delivery ->
 * SSE client (the receiving instance's share). DURABLE=1 publishes durable events.
 * Exit status: 0 the target was met; 1 the work did not happen (a stream or a publish was not
 * answered 2xx, nothing was published, a delivery is missing): no figures are printed; 3 the
 * run was complete but p99 missed the target. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
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
/* Per publish (by sequence number): when it was sent, when its answer came, when Redis delivered it. */
static int64_t *sent_at, *acked_at, *redis_at;
/* Deliveries per publish (to name the missing ones). */
static int *seen;
static long slots;
static int durable;
static int redis_port;
static const char *redis_channel;

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
static void count_answers(char *carry, size_t *carried, const char *data, size_t length, int64_t when) {
    memcpy(carry + *carried, data, length);
    size_t total = *carried + length, at = 0;
    const char *marker = "HTTP/1.1 ";
    while (at + 12 <= total) {
        char *hit = memmem(carry + at, total - at, marker, 9);
        if (!hit || (size_t)(hit - carry) + 12 > total) break;
        long index = answered + refused;
        if (index < slots) acked_at[index] = when;
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
    while (now_ns() - start < (int64_t)(seconds * 1e9) && published < slots) {
        /* Until the next publish is due: wait for answers (each timed as it arrives), not spinning. */
        for (int64_t now = now_ns(); now < next; now = now_ns()) {
            struct pollfd readable = {.fd = fd, .events = POLLIN};
            struct timespec wait = {.tv_sec = (next - now) / 1000000000LL, .tv_nsec = (next - now) % 1000000000LL};
            if (ppoll(&readable, 1, &wait, NULL) <= 0) continue;
            ssize_t got;
            while ((got = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0) count_answers(carry, &carried, sink, (size_t)got, now_ns());
            if (got == 0) break;
        }
        char body[160];
        int64_t t = now_ns();
        sent_at[published] = t;
        int length = snprintf(body, sizeof body, "{\"topic\":\"fanout.tick\",\"payload\":{\"s\":%ld,\"t\":%lld}%s}", published, (long long)t,
                              durable ? ",\"durable\":true" : "");
        int n = snprintf(request, sizeof request, "POST /api/v1/events HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer %s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", key, length, body);
        if (write(fd, request, n) != n) break;
        published++;
        next += interval;
        ssize_t got;
        while ((got = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0) count_answers(carry, &carried, sink, (size_t)got, now_ns());
    }
    /* Every publish gets its answer before the run counts. */
    while (answered + refused < published) {
        ssize_t got = recv(fd, sink, sizeof sink, 0);
        if (got <= 0) break;
        count_answers(carry, &carried, sink, (size_t)got, now_ns());
    }
    publishing = 0;
    return NULL;
}

/* Finds "s":S,"t":T pairs in data[0..length) (binary-safe; the server writes payload keys sorted,
 * so "s" comes first); calls found(s, t) for each and returns how many bytes were consumed (an
 * incomplete pair at the end is left for the next read). */
static size_t scan_ticks(const char *data, size_t length, void (*found)(long, long long, void *), void *context) {
    const char *cursor = data, *stop = data + length, *last = data;
    const char *hit;
    while ((hit = memmem(cursor, (size_t)(stop - cursor), "\"s\":", 4)) != NULL) {
        const char *t = memmem(hit, (size_t)(stop - hit), "\"t\":", 4);
        if (!t) break;
        char *end;
        long sequence = strtol(hit + 4, &end, 10);
        if (*end != ',') { cursor = hit + 4; continue; }
        long long time = strtoll(t + 4, &end, 10);
        if (end >= stop) break;
        found(sequence, time, context);
        cursor = last = end;
    }
    return (size_t)(last - data);
}

static void redis_seen(long sequence, long long t, void *unused) {
    (void)t; (void)unused;
    if (sequence >= 0 && sequence < slots && !redis_at[sequence]) redis_at[sequence] = now_ns();
}

/* A raw Redis subscriber on REDIS_CHANNEL: when each pub/sub message left Redis. */
static volatile int redis_subscribed;
static void *redis_subscriber(void *unused) {
    (void)unused;
    int fd = dial_port(redis_port);
    char command[512];
    int n = snprintf(command, sizeof command, "*2\r\n$9\r\nSUBSCRIBE\r\n$%zu\r\n%s\r\n", strlen(redis_channel), redis_channel);
    if (write(fd, command, n) != n) { perror("sse-fanout: redis write"); exit(1); }
    static char buffer[1 << 20];
    size_t fill = 0;
    struct timeval patience = {.tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    redis_subscribed = 1;
    for (;;) {
        ssize_t got = read(fd, buffer + fill, sizeof buffer - 1 - fill);
        if (got <= 0) { if (!publishing) break; continue; }
        fill += (size_t)got;
        size_t used = scan_ticks(buffer, fill, redis_seen, NULL);
        memmove(buffer, buffer + used, fill - used);
        fill -= used;
        if (fill > sizeof buffer / 2) fill = 0;
    }
    close(fd);
    return NULL;
}

struct delivery { double *latencies, *tails; size_t count, tail_count, capacity; int64_t received; };
static void sse_seen(long sequence, long long t, void *context) {
    struct delivery *d = context;
    if (d->count < d->capacity) d->latencies[d->count++] = (d->received - t) / 1e6;
    if (sequence >= 0 && sequence < slots) seen[sequence]++;
    if (sequence >= 0 && sequence < slots && redis_at[sequence] && d->tail_count < d->capacity)
        d->tails[d->tail_count++] = (d->received - redis_at[sequence]) / 1e6;
}

static int compare(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: %s PORT CLIENTS RATE SECONDS KEY\n", argv[0]); return 2; }
    port = atoi(argv[1]); clients = atoi(argv[2]); rate = atoi(argv[3]); seconds = atof(argv[4]); key = argv[5];
    publish_port = getenv("PUBLISH_PORT") ? atoi(getenv("PUBLISH_PORT")) : port;
    durable = getenv("DURABLE") && strcmp(getenv("DURABLE"), "1") == 0;
    redis_port = getenv("REDIS_PORT") ? atoi(getenv("REDIS_PORT")) : 0;
    redis_channel = getenv("REDIS_CHANNEL");
    slots = (long)(rate * seconds) + 1024;
    sent_at = calloc((size_t)slots, sizeof *sent_at);
    acked_at = calloc((size_t)slots, sizeof *acked_at);
    redis_at = calloc((size_t)slots, sizeof *redis_at);
    seen = calloc((size_t)slots, sizeof *seen);
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
    pthread_t redis_thread;
    if (redis_port && redis_channel) {
        pthread_create(&redis_thread, NULL, redis_subscriber, NULL);
        while (!redis_subscribed) usleep(1000);
    }
    usleep(500000);
    struct delivery d = {.capacity = (size_t)(rate * seconds * clients) + 1024};
    d.latencies = malloc(d.capacity * sizeof *d.latencies);
    d.tails = malloc(d.capacity * sizeof *d.tails);
    pthread_t thread;
    pthread_create(&thread, NULL, publisher, NULL);
    int64_t quiet_since = 0;
    for (;;) {
        struct epoll_event events[256];
        int ready = epoll_wait(epoll, events, 256, 50);
        d.received = now_ns();
        if (ready <= 0) {
            if (!publishing) { if (!quiet_since) quiet_since = d.received; else if (d.received - quiet_since > 1000000000LL) break; }
            continue;
        }
        quiet_since = 0;
        for (int k = 0; k < ready; k++) {
            int i = (int)(events[k].data.u64 >> 32), fd = (int)(uint32_t)events[k].data.u64;
            ssize_t n = read(fd, buffers[i] + fill[i], (1 << 20) - 1 - fill[i]);
            if (n <= 0) continue;
            fill[i] += n;
            size_t used = scan_ticks(buffers[i], fill[i], sse_seen, &d);
            memmove(buffers[i], buffers[i] + used, fill[i] - used);
            fill[i] -= used;
        }
    }
    pthread_join(thread, NULL);
    if (redis_port && redis_channel) pthread_join(redis_thread, NULL);
    double *latencies = d.latencies;
    size_t count = d.count;
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
        int named = 0;
        for (long i = 0; i < published && named < 5; i++)
            if (seen[i] < clients) { fprintf(stderr, "sse-fanout: publish %ld (of %ld) reached %d of %d clients\n", i, published, seen[i], clients); named++; }
        return 1;
    }
    printf("SSE fan-out: %d clients, %ld events at %d/s over %.0fs: %zu/%ld deliveries\n", clients, published, rate, seconds, count, published * clients);
    /* The breakdown: publish -> ack, publish -> Redis delivery, Redis delivery -> SSE client. */
    double *acks = malloc((size_t)published * sizeof *acks), *hops = malloc((size_t)published * sizeof *hops);
    size_t ack_count = 0, hop_count = 0;
    for (long i = 0; i < published; i++) {
        if (acked_at[i]) acks[ack_count++] = (acked_at[i] - sent_at[i]) / 1e6;
        if (redis_at[i]) hops[hop_count++] = (redis_at[i] - sent_at[i]) / 1e6;
    }
    qsort(acks, ack_count, sizeof *acks, compare);
    qsort(hops, hop_count, sizeof *hops, compare);
    qsort(d.tails, d.tail_count, sizeof *d.tails, compare);
    #define Q(a, c, p) ((c) ? (a)[(size_t)(((c) - 1) * (p))] : 0)
    printf("publish -> ack (HTTP answer%s) ms: p50 %.2f  p99 %.2f  max %.2f  (%zu answers)\n", durable ? ", after the XADD" : "",
           Q(acks, ack_count, 0.5), Q(acks, ack_count, 0.99), Q(acks, ack_count, 1.0), ack_count);
    if (redis_port && redis_channel) {
        printf("publish -> Redis pub/sub delivery ms: p50 %.2f  p99 %.2f  max %.2f  (%zu of %ld seen by a raw subscriber)\n",
               Q(hops, hop_count, 0.5), Q(hops, hop_count, 0.99), Q(hops, hop_count, 1.0), hop_count, published);
        printf("Redis delivery -> SSE client ms: p50 %.2f  p99 %.2f  max %.2f  (%zu deliveries)\n",
               Q(d.tails, d.tail_count, 0.5), Q(d.tails, d.tail_count, 0.99), Q(d.tails, d.tail_count, 1.0), d.tail_count);
    }
    printf("publish-to-receive latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (target p99 < 10 ms)\n", P(0.5), P(0.9), P(0.99), P(1.0));
    if (P(0.99) >= 10.0) {
        printf("sse-fanout: TARGET MISSED: p99 %.2f ms is not under 10 ms\n", P(0.99));
        return 3;
    }
    return 0;
}
