/* Fixed-rate HTTP/1.1 load: CONNECTIONS keep-alive connections send GET PATH at RATE requests/s in
 * all, spread evenly over the connections, for SECONDS; each request's latency is measured from the
 * time it was due, not the time it was sent, so a server that falls behind is charged for the
 * queueing it causes (the coordinated-omission correction wrk2 makes; wrk measures from the send).
 * An open-loop load like this one gives a tail latency at a stated offered load; a closed loop at
 * saturation (wrk) cannot go below Little's law: mean latency = connections / throughput.
 *
 * Usage: rate_client PORT PATH CONNECTIONS RATE SECONDS [HEADER ...]   (HEADER as "Name: value")
 * Prints one line: "rate_client: offered R/s, completed N of M, p50 A ms, p90 B ms, p99 C ms,
 * p99.9 D ms, max E ms" over the requests due after the first second (warm-up).
 * Requests still unanswered two seconds after the last was due count with the time they waited so
 * far (a lower bound), and "completed N of M" says how many were answered.
 * Exit status: 0 figures printed; 1 the work did not happen (a connection failed, an answer was not
 * 200 or had neither Content-Length nor chunked framing, or nothing was answered): no figures. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { MAX_CONNECTIONS = 4096, QUEUE = 4096, BUFFER = 65536, HISTOGRAM_US = 1000000 };

/* One connection: its socket, the due times of requests it owes (a ring), and its read buffer. */
struct connection {
    int fd;
    int64_t due[QUEUE];
    unsigned head, count;   /* ring of due times; head is in flight when inFlight is set */
    int inFlight;
    char buffer[BUFFER];
    size_t filled;
};

static struct connection *connections;
static int connectionCount;
static char request[8192];
static size_t requestLength;
static uint32_t *histogram;          /* latency in microseconds, the last bucket holds everything above */
static int64_t measureFrom, maxLatency;
static long measured, completed, scheduledMeasured;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void fail(const char *what) {
    fprintf(stderr, "rate_client: %s\n", what);
    exit(1);
}

static int open_connection(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) fail("socket() failed");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0 && errno != EINPROGRESS)
        fail("connect() to 127.0.0.1 failed");
    return fd;
}

/* Sends the request at the head of the connection's ring (a short request goes out whole on a
 * connected loopback socket; anything less is reported rather than retried). */
static void send_head(struct connection *c) {
    ssize_t sent = send(c->fd, request, requestLength, MSG_NOSIGNAL);
    if (sent == (ssize_t)requestLength) { c->inFlight = 1; return; }
    if (sent < 0 && (errno == EAGAIN || errno == ENOTCONN)) return;   /* still connecting: sent on EPOLLOUT */
    fail("a request could not be sent whole (connection closed or reset by the server)");
}

static void record(int64_t latency) {
    if (latency > maxLatency) maxLatency = latency;
    int64_t us = latency / 1000;
    histogram[us < HISTOGRAM_US ? us : HISTOGRAM_US - 1]++;
    measured++;
}

static double percentile(double p) {
    long rank = (long)(p * (double)measured), seen = 0;
    for (int us = 0; us < HISTOGRAM_US; us++) {
        seen += histogram[us];
        if (seen > rank) return (us + 1) / 1000.0;
    }
    return maxLatency / 1e6;
}

/* The length of a complete chunked body (chunks, the last chunk and an empty trailer section) at
 * the start of `body`; -1 when it is not complete yet, -2 when it is malformed. */
static long chunked_length(const char *body, size_t available) {
    size_t at = 0;
    for (;;) {
        const char *line = memmem(body + at, available - at, "\r\n", 2);
        if (!line) return -1;
        char *after;
        long size = strtol(body + at, &after, 16);
        if (after == body + at || size < 0 || size > BUFFER) return -2;
        at = (size_t)(line - body) + 2;
        if (size == 0) {
            const char *trailers = memmem(body + at - 2, available - at + 2, "\r\n\r\n", 4);
            return trailers ? (long)(trailers - body) + 4 : -1;
        }
        if (available < at + (size_t)size + 2) return -1;
        at += (size_t)size + 2;
    }
}

/* Parses every complete answer in the buffer; returns how many ended. */
static int read_answers(struct connection *c) {
    for (;;) {
        ssize_t got = recv(c->fd, c->buffer + c->filled, BUFFER - c->filled, 0);
        if (got > 0) { c->filled += (size_t)got; if (c->filled == BUFFER) fail("an answer is larger than 64 KiB"); continue; }
        if (got == 0) fail("the server closed a keep-alive connection");
        if (errno == EAGAIN) break;
        if (errno == EINTR) continue;
        fail("recv() failed (connection reset by the server?)");
    }
    int ended = 0;
    for (;;) {
        char *end = memmem(c->buffer, c->filled, "\r\n\r\n", 4);
        if (!end) return ended;
        size_t head = (size_t)(end - c->buffer) + 4;
        if (c->filled < 12 || memcmp(c->buffer, "HTTP/1.1 200", 12) != 0) {
            char status[40] = {0};
            memcpy(status, c->buffer, c->filled < 39 ? c->filled : 39);
            fprintf(stderr, "rate_client: an answer was not 200: %.*s\n", (int)strcspn(status, "\r\n"), status);
            exit(1);
        }
        long length = -1;
        int chunked = 0;
        for (char *line = memmem(c->buffer, head, "\r\n", 2); line && line < end; line = memmem(line + 2, (size_t)(end - line), "\r\n", 2)) {
            if (strncasecmp(line + 2, "content-length:", 15) == 0) length = strtol(line + 17, NULL, 10);
            if (strncasecmp(line + 2, "transfer-encoding:", 18) == 0 && strstr(line + 19, "chunked") && strstr(line + 19, "chunked") < end) chunked = 1;
        }
        if (chunked) {
            long body = chunked_length(c->buffer + head, c->filled - head);
            if (body == -2) fail("an answer's chunked body is malformed");
            if (body < 0) return ended;
            length = body;
        }
        if (length < 0) fail("an answer has neither Content-Length nor chunked framing");
        if (c->filled < head + (size_t)length) return ended;
        memmove(c->buffer, c->buffer + head + length, c->filled - head - (size_t)length);
        c->filled -= head + (size_t)length;
        if (!c->inFlight) fail("an answer arrived for no request");
        int64_t due = c->due[c->head];
        if (due >= measureFrom) record(now_ns() - due);
        completed++;
        c->head = (c->head + 1) % QUEUE;
        c->count--;
        c->inFlight = 0;
        ended++;
        if (c->count > 0) send_head(c);
    }
}

int main(int argc, char **argv) {
    if (argc < 6) fail("usage: rate_client PORT PATH CONNECTIONS RATE SECONDS [HEADER ...]");
    int port = atoi(argv[1]);
    const char *path = argv[2];
    connectionCount = atoi(argv[3]);
    double rate = atof(argv[4]), seconds = atof(argv[5]);
    if (port <= 0 || port > 65535) fail("PORT must be 1 to 65535");
    if (connectionCount < 1 || connectionCount > MAX_CONNECTIONS) fail("CONNECTIONS must be 1 to 4096");
    if (!(rate >= 1 && rate <= 10e6)) fail("RATE must be 1 to 10,000,000 requests/s");
    if (!(seconds > 1 && seconds <= 3600)) fail("SECONDS must be above 1 (the first second is warm-up) and at most 3600");
    int length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n", path, port);
    for (int i = 6; i < argc; i++) length += snprintf(request + length, sizeof request - (size_t)length, "%s\r\n", argv[i]);
    length += snprintf(request + length, sizeof request - (size_t)length, "\r\n");
    if (length >= (int)sizeof request) fail("the request is longer than 8 KiB");
    requestLength = (size_t)length;

    connections = calloc((size_t)connectionCount, sizeof *connections);
    histogram = calloc(HISTOGRAM_US, sizeof *histogram);
    if (!connections || !histogram) fail("out of memory");
    int epoll = epoll_create1(0), timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    if (epoll < 0 || timer < 0) fail("epoll or timerfd could not be created");
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
    epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &event);
    for (int i = 0; i < connectionCount; i++) {
        connections[i].fd = open_connection(port);
        event = (struct epoll_event){.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i};
        epoll_ctl(epoll, EPOLL_CTL_ADD, connections[i].fd, &event);
    }

    /* Request k is due at start + k / rate on connection k mod CONNECTIONS. */
    int64_t start = now_ns() + 100000000, interval = (int64_t)(1e9 / rate);
    int64_t end = start + (int64_t)(seconds * 1e9);
    measureFrom = start + 1000000000;
    long next = 0, scheduled = 0;
    int64_t drainUntil = end + 2000000000;   /* answers still owed get two seconds after the last is due */
    struct epoll_event events[256];
    for (;;) {
        int64_t now = now_ns();
        while (start + next * interval <= now && start + next * interval < end) {
            struct connection *c = &connections[next % connectionCount];
            int64_t due = start + next * interval;
            if (c->count == QUEUE) fail("a connection owes 4096 requests: the server stopped answering");
            c->due[(c->head + c->count) % QUEUE] = due;
            c->count++;
            scheduled++;
            if (due >= measureFrom) scheduledMeasured++;
            if (!c->inFlight && c->count == 1) send_head(c);
            next++;
        }
        if (now >= end && completed == scheduled) break;
        if (now >= drainUntil) break;
        int64_t wake = start + next * interval < end ? start + next * interval : drainUntil;
        struct itimerspec when = {.it_value = {.tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000}};
        timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL);
        int ready = epoll_wait(epoll, events, 256, -1);
        for (int i = 0; i < ready; i++) {
            if (events[i].data.u32 == UINT32_MAX) { uint64_t ticks; (void)!read(timer, &ticks, sizeof ticks); continue; }
            struct connection *c = &connections[events[i].data.u32];
            if (events[i].events & (EPOLLERR | EPOLLHUP)) fail("a connection failed (refused or reset by the server)");
            if ((events[i].events & EPOLLOUT) && !c->inFlight && c->count > 0) send_head(c);
            if (events[i].events & EPOLLIN) read_answers(c);
        }
    }
    if (measured == 0) fail("no request due after warm-up was answered");
    /* Requests still unanswered count with the time they have waited so far (a lower bound), so a
     * server that falls behind shows it in the tail instead of leaving the run. */
    long answered = measured;
    int64_t stoppedAt = now_ns();
    for (int i = 0; i < connectionCount; i++)
        for (unsigned k = 0; k < connections[i].count; k++) {
            int64_t due = connections[i].due[(connections[i].head + k) % QUEUE];
            if (due >= measureFrom) record(stoppedAt - due);
        }
    printf("rate_client: offered %.0f/s, completed %ld of %ld, p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms\n",
           rate, answered, scheduledMeasured, percentile(0.50), percentile(0.90), percentile(0.99), percentile(0.999), maxLatency / 1e6);
    return 0;
}
