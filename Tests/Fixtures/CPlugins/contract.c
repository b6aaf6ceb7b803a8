/*
 * contract-c: checks the host-call contract written at the top of plexus_abi.h, from the
 * plugin's side, against the real runtime:
 *   - inputs are copied: every string, byte range and struct handed to a host call is
 *     overwritten with 'X' and freed right after the call returns; what arrives later
 *     (routes, events, values, service payloads, metric names) must still be the original;
 *   - no callback fires inside the call that registered it: every host call runs with
 *     `g_depth` raised, and every callback records a violation if it finds it raised;
 *   - last_status (ABI 1.4) reports codes, per thread;
 *   - a subscription's ready callback (ABI 1.10) comes later, with its id, and never for a
 *     subscription cancelled before it;
 *   - the calls declared thread-safe (metric_record, metric_register, post, last_status,
 *     status_text) are called from THREADS threads at once.
 * GET /api/v1/c/contract runs every check and answers "contract ok: <n> checks" or the
 * list of violations.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "plexus_abi.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define RECORDS_PER_THREAD 500

static const plexus_host *g_host;
static int g_depth;          /* > 0 while this plugin is inside a host call (loop thread) */
static char g_report[4096];  /* violations, one per line */
static int g_checks;
static int g_pending;        /* callbacks still to come before the answer */
static uint64_t g_token;
static uint64_t g_subscription;
static uint64_t g_metric;
static int g_posted;         /* posts from threads that arrived */
static int32_t g_duplicate_status; /* last_status of registering a service twice (on_start) */

static void violation(const char *what) {
    size_t used = strlen(g_report);
    snprintf(g_report + used, sizeof g_report - used, "%s\n", what);
}

static void check(int ok, const char *what) {
    g_checks++;
    if (!ok) violation(what);
}

/* A callback's first line: it must not run inside a host call of this plugin. */
static void callback_entered(const char *name) {
    if (g_depth != 0) {
        char line[160];
        snprintf(line, sizeof line, "%s fired inside the host call that registered it", name);
        violation(line);
    }
}

#define HOST_CALL(expr) (g_depth++, (expr), g_depth--)

/* A heap copy of `text`, to be spoiled right after the host call that takes it. */
static char *heap(const char *text) { return strdup(text); }
static void spoil(char *text) {
    memset(text, 'X', strlen(text));
    free(text);
}

static int32_t last_status(void) {
    return g_host->struct_size > offsetof(plexus_host, last_status) ? g_host->last_status(g_host) : -1;
}

static void answer(void) {
    char body[4400];
    if (g_report[0] == 0) snprintf(body, sizeof body, "contract ok: %d checks", g_checks);
    else snprintf(body, sizeof body, "contract violated:\n%s", g_report);
    plexus_pair header = {{"Content-Type", 12}, {"text/plain", 10}};
    plexus_response response = {sizeof(plexus_response), 200, &header, 1, {body, strlen(body)}};
    HOST_CALL(g_host->respond(g_host, g_token, &response));
}

static void settle(void) {
    if (--g_pending == 0) answer();
}

/* ---- the bus ---- */
static void on_event(void *user, const plexus_event *event) {
    (void)user;
    callback_entered("a subscription handler");
    check(event->payload.length == 9 && memcmp(event->payload.data, "payload-1", 9) == 0,
          "the event's payload was not copied before publish returned");
    check(event->topic.length == 14 && memcmp(event->topic.data, "contract.check", 14) == 0,
          "the event's topic was not copied before publish returned");
    settle();
}

/* ABI 1.10: a subscription's ready callback comes after subscribe returned, with its id and
   the user pointer given for it, and never for a subscription cancelled before. */
static uint64_t g_ready_subscription;
static int g_ready_user;

static void on_ready(void *user, uint64_t subscription) {
    callback_entered("a subscription's ready callback");
    check(user == &g_ready_user, "the ready callback did not get its own user pointer");
    check(subscription != 0 && subscription == g_ready_subscription, "the ready callback named another subscription");
    check(last_status() == PLEXUS_OK, "last_status in a ready callback is not PLEXUS_OK");
    HOST_CALL(g_host->unsubscribe(g_host, subscription));
    settle();
}

static void on_cancelled_ready(void *user, uint64_t subscription) {
    (void)user; (void)subscription;
    violation("a subscription cancelled before it was complete was told ready");
}

static void on_published(void *user, int status, const char *detail) {
    (void)user; (void)detail;
    callback_entered("publish's done callback");
    check(status == PLEXUS_OK, "a valid publish failed");
    check(last_status() == PLEXUS_OK, "last_status in a successful publish callback is not PLEXUS_OK");
    settle();
}

/* ---- storage ---- */
static void on_got(void *user, int status, const plexus_rows *rows, const char *error) {
    (void)user; (void)error;
    callback_entered("kv_get's done callback");
    check(status == PLEXUS_OK && rows && rows->row_count == 1 && rows->values[1].bytes.length == 7 &&
              memcmp(rows->values[1].bytes.data, "value-1", 7) == 0,
          "kv_put's key or value was not copied before kv_put returned");
    settle();
}

static void on_put(void *user, int status, const plexus_rows *rows, const char *error) {
    (void)user; (void)rows; (void)error;
    callback_entered("kv_put's done callback");
    check(status == PLEXUS_OK, "kv_put failed");
    char *key = heap("contract-key");
    HOST_CALL(g_host->kv_get(g_host, (plexus_bytes){key, strlen(key)}, on_got, NULL));
    spoil(key);
}

static void on_bad_sql(void *user, int status, const plexus_rows *rows, const char *error) {
    (void)user; (void)rows; (void)error;
    callback_entered("sql_execute's done callback");
    check(status == PLEXUS_ERROR, "bad SQL did not fail");
    check(last_status() == PLEXUS_E_STORAGE_MISUSE, "last_status for bad SQL is not PLEXUS_E_STORAGE_MISUSE");
    settle();
}

static void on_conflict(void *user, int status, const plexus_rows *rows, const char *error) {
    (void)user; (void)error;
    callback_entered("kv_put's (conflict) done callback");
    check(status == PLEXUS_ERROR && last_status() == PLEXUS_E_STORAGE_CONFLICT && rows != NULL,
          "a compare-and-set conflict is not reported as PLEXUS_E_STORAGE_CONFLICT");
    settle();
}

/* ---- services ---- */
static void on_service(void *user, uint64_t call, plexus_bytes payload) {
    (void)user;
    callback_entered("a service handler");
    check(payload.length == 4 && memcmp(payload.data, "ping", 4) == 0, "service_call's payload was not copied before it returned");
    /* Answer at once, from a heap buffer spoiled right after service_reply. */
    char *pong = heap("pong");
    HOST_CALL(g_host->service_reply(g_host, call, PLEXUS_OK, (plexus_bytes){pong, 4}));
    spoil(pong);
}

static void on_reply(void *user, int status, plexus_bytes payload) {
    (void)user;
    callback_entered("service_call's reply");
    check(status == PLEXUS_OK && payload.length == 4 && memcmp(payload.data, "pong", 4) == 0,
          "service_reply's payload was not copied before it returned");
    settle();
}

static void on_missing_service(void *user, int status, plexus_bytes payload) {
    (void)user; (void)payload;
    callback_entered("service_call's reply (no such service)");
    check(status == PLEXUS_ERROR && last_status() == PLEXUS_E_NOT_FOUND, "a call to no service is not PLEXUS_E_NOT_FOUND");
    settle();
}

/* ---- timers, posts, work ---- */
static void on_timer(void *user) {
    (void)user;
    callback_entered("a timer callback");
    settle();
}

static void on_post(void *user) {
    (void)user;
    callback_entered("a post callback");
    settle();
}

static void on_thread_post(void *user) {
    (void)user;
    g_posted++;
}

static void work(void *user) { (void)user; }
static void after_work(void *user, int status) {
    (void)user;
    callback_entered("queue_work's after callback");
    check(status == PLEXUS_OK && last_status() == PLEXUS_OK, "queue_work's after callback did not report PLEXUS_OK");
    settle();
}

/* ---- the thread-safe calls, from THREADS threads at once ---- */
static void *hammer(void *arg) {
    int failures = 0;
    intptr_t index = (intptr_t)arg;
    /* Registering the same family again, from any thread, gives the same id. */
    char *metric = heap("contract_records_total"), *help = heap("Records made by the contract check's threads"), *label = heap("parity");
    const char *labels[] = {label};
    plexus_metric_spec spec = {sizeof spec, PLEXUS_METRIC_COUNTER, metric, help, labels, 1, NULL, 0};
    if (g_host->metric_register(g_host, &spec, NULL) != g_metric || g_host->last_status(g_host) != PLEXUS_OK) failures++;
    spoil(metric); spoil(help); spoil(label);
    for (int i = 0; i < RECORDS_PER_THREAD; i++) {
        char *label = heap(index % 2 ? "odd" : "even");
        plexus_bytes value = {label, strlen(label)};
        int status = g_host->metric_record(g_host, g_metric, PLEXUS_METRIC_ADD, &value, 1, 1.0, NULL);
        spoil(label);
        if (status != PLEXUS_OK || g_host->last_status(g_host) != PLEXUS_OK) failures++;
        /* An unknown id fails on this thread only: last_status is per thread. */
        if (g_host->metric_record(g_host, 999999, PLEXUS_METRIC_ADD, NULL, 0, 1.0, NULL) != PLEXUS_ERROR ||
            g_host->last_status(g_host) != PLEXUS_E_NOT_FOUND)
            failures++;
        if (g_host->status_text(g_host, PLEXUS_E_NOT_FOUND) == NULL) failures++;
    }
    g_host->post(g_host, on_thread_post, NULL);
    return (void *)(intptr_t)failures;
}

static void run_threads(void) {
    pthread_t threads[THREADS];
    for (intptr_t i = 0; i < THREADS; i++) pthread_create(&threads[i], NULL, hammer, (void *)i);
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        void *result;
        pthread_join(threads[i], &result);
        failures += (int)(intptr_t)result;
    }
    check(failures == 0, "metric_register/metric_record/last_status/status_text from several threads gave a wrong status");
}

/* ---- the route ---- */
static void on_request(void *ctx, const plexus_request *request) {
    (void)ctx;
    g_token = request->token;
    g_report[0] = 0;
    g_checks = 0;
    g_pending = 1; /* released at the end of this function */

    /* The bus: a subscription made in on_start receives this event. */
    char *topic = heap("contract.check"), *payload = heap("payload-1"), *type = heap("text/plain");
    plexus_event event;
    memset(&event, 0, sizeof event);
    event.struct_size = sizeof event;
    event.topic = (plexus_bytes){topic, strlen(topic)};
    event.payload = (plexus_bytes){payload, strlen(payload)};
    event.content_type = (plexus_bytes){type, strlen(type)};
    char message[256] = "";
    plexus_error error = {message, sizeof message};
    g_pending += 2; /* done + delivery */
    int published;
    HOST_CALL(published = g_host->publish(g_host, &event, PLEXUS_PUBLISH_DEFAULT, on_published, NULL, &error));
    spoil(topic); spoil(payload); spoil(type);
    check(published == PLEXUS_OK && last_status() == PLEXUS_OK, "a valid publish was refused");

    char *bad = heap("Bad Topic!");
    memset(&event, 0, sizeof event);
    event.struct_size = sizeof event;
    event.topic = (plexus_bytes){bad, strlen(bad)};
    HOST_CALL(published = g_host->publish(g_host, &event, PLEXUS_PUBLISH_DEFAULT, on_published, NULL, &error));
    spoil(bad);
    check(published == PLEXUS_ERROR && last_status() == PLEXUS_E_INVALID_ARGUMENT, "an invalid topic is not PLEXUS_E_INVALID_ARGUMENT");

    /* Subscription completion (ABI 1.10): one cancelled at once (its ready must never come),
       then one whose ready comes later, outside this call. */
    char *gone = heap("contract.gone.#"), *watched = heap("contract.ready.#");
    plexus_subscription_options readiness = {sizeof readiness, 0, PLEXUS_OVERFLOW_DROP_OLDEST, NULL, 0, on_cancelled_ready, NULL};
    uint64_t cancelled;
    HOST_CALL(cancelled = g_host->subscribe(g_host, gone, &readiness, on_event, NULL, &error));
    check(cancelled != 0, "a subscription with a ready callback was refused");
    HOST_CALL(g_host->unsubscribe(g_host, cancelled));
    readiness.ready = on_ready;
    readiness.ready_user = &g_ready_user;
    g_pending += 1;
    HOST_CALL(g_ready_subscription = g_host->subscribe(g_host, watched, &readiness, on_event, NULL, &error));
    spoil(gone); spoil(watched);
    check(g_ready_subscription != 0, "a subscription with a ready callback was refused");

    /* Storage. */
    char *key = heap("contract-key"), *value = heap("value-1");
    g_pending += 1;
    HOST_CALL(g_host->kv_put(g_host, (plexus_bytes){key, strlen(key)}, (plexus_bytes){value, strlen(value)}, 0, -1, on_put, NULL));
    spoil(key); spoil(value);
    char *sql = heap("SELEKT nothing");
    g_pending += 1;
    HOST_CALL(g_host->sql_execute(g_host, sql, NULL, 0, on_bad_sql, NULL));
    spoil(sql);
    char *other = heap("contract-other");
    g_pending += 1;
    HOST_CALL(g_host->kv_put(g_host, (plexus_bytes){other, strlen(other)}, (plexus_bytes){"v", 1}, 0, 7, on_conflict, NULL));
    spoil(other);

    /* Services: this plugin calls its own service, whose handler answers at once. */
    char *name = heap("contract.echo"), *ping = heap("ping");
    g_pending += 1;
    HOST_CALL(g_host->service_call(g_host, name, (plexus_bytes){ping, 4}, 5000, on_reply, NULL));
    spoil(name); spoil(ping);
    char *nobody = heap("contract.nobody");
    g_pending += 1;
    HOST_CALL(g_host->service_call(g_host, nobody, (plexus_bytes){"", 0}, 5000, on_missing_service, NULL));
    spoil(nobody);

    /* A zero timer, a post and a work item. */
    g_pending += 3;
    uint64_t timer;
    HOST_CALL(timer = g_host->timer_start(g_host, 0, 0, on_timer, NULL));
    check(timer > 0, "timer_start failed");
    HOST_CALL(g_host->post(g_host, on_post, NULL));
    int queued;
    HOST_CALL(queued = g_host->queue_work(g_host, work, after_work, NULL));
    check(queued == PLEXUS_OK, "queue_work failed");

    /* Routes cannot be added once running: a code, not only text. */
    plexus_route_spec late;
    memset(&late, 0, sizeof late);
    late.struct_size = sizeof late;
    late.method = "GET";
    late.pattern = "/api/v1/c/contract-late";
    late.handler = on_request;
    int added;
    HOST_CALL(added = g_host->route_add(g_host, &late, &error));
    check(added == PLEXUS_ERROR && last_status() == PLEXUS_E_WRONG_STATE, "route_add after start is not PLEXUS_E_WRONG_STATE");

    check(g_duplicate_status == PLEXUS_E_ALREADY_EXISTS, "a service registered twice is not PLEXUS_E_ALREADY_EXISTS");
    const char *absent;
    HOST_CALL(absent = g_host->config_get(g_host, "no.such.key"));
    check(absent == NULL && last_status() == PLEXUS_E_NOT_FOUND, "config_get of an absent key is not NULL with PLEXUS_E_NOT_FOUND");
    run_threads();
    check(strcmp(plexus_strerror(PLEXUS_E_STORAGE_BUSY), "storage busy") == 0, "plexus_strerror does not name a storage code");
    check(strcmp(g_host->status_text(g_host, 12345), "unknown status") == 0, "status_text of an unknown code");
    settle();
}

/* ---- hooks ---- */
static int on_init(void *ctx, const plexus_host *host, plexus_error *error) {
    (void)ctx; (void)error;
    g_host = host;
    if (host->struct_size <= offsetof(plexus_host, status_text)) return PLEXUS_ERROR;
    /* Every string of the spec is spoiled right after route_add: the route must still serve. */
    char *method = heap("GET"), *pattern = heap("/api/v1/c/contract"), *summary = heap("Checks the host-call contract");
    plexus_route_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.struct_size = sizeof spec;
    spec.method = method;
    spec.pattern = pattern;
    spec.handler = on_request;
    spec.access = PLEXUS_ACCESS_PUBLIC;
    spec.summary = summary;
    plexus_route_spec *copy = malloc(sizeof spec);
    memcpy(copy, &spec, sizeof spec);
    int status;
    HOST_CALL(status = host->route_add(host, copy, error));
    memset(copy, 0, sizeof spec);
    free(copy);
    spoil(method); spoil(pattern); spoil(summary);
    return status;
}

static int on_start(void *ctx, plexus_error *error) {
    (void)ctx;
    char *pattern = heap("contract.#");
    plexus_subscription_options options = {sizeof options, 0, PLEXUS_OVERFLOW_DROP_OLDEST, NULL, 0};
    HOST_CALL(g_subscription = g_host->subscribe(g_host, pattern, &options, on_event, NULL, error));
    spoil(pattern);
    if (g_subscription == 0) return PLEXUS_ERROR;
    char *name = heap("contract.echo");
    int status;
    HOST_CALL(status = g_host->service_register(g_host, name, on_service, NULL, error));
    spoil(name);
    if (status != PLEXUS_OK) return status;
    /* The same service again: refused with PLEXUS_E_ALREADY_EXISTS (checked by the route). */
    char message[256];
    plexus_error ignored = {message, sizeof message};
    HOST_CALL(status = g_host->service_register(g_host, "contract.echo", on_service, NULL, &ignored));
    g_duplicate_status = status == PLEXUS_ERROR ? last_status() : -2;
    char *metric = heap("contract_records_total"), *help = heap("Records made by the contract check's threads"), *label = heap("parity");
    const char *labels[] = {label};
    plexus_metric_spec spec = {sizeof spec, PLEXUS_METRIC_COUNTER, metric, help, labels, 1, NULL, 0};
    HOST_CALL(g_metric = g_host->metric_register(g_host, &spec, error));
    spoil(metric); spoil(help); spoil(label);
    return g_metric > 0 ? PLEXUS_OK : PLEXUS_ERROR;
}

static void on_stop(void *ctx) {
    (void)ctx;
    g_host->stop_complete(g_host);
}

static const plexus_topic_decl topics[] = {{sizeof(plexus_topic_decl), "contract.check", 1, "The contract check's own event"}};

static plexus_plugin descriptor = {
    .struct_size = sizeof(plexus_plugin), .abi_major = PLEXUS_ABI_MAJOR, .abi_minor = PLEXUS_ABI_MINOR,
    .name = "contract-c", .version = "1.0.0", .description = "Checks the host-call contract of plexus_abi.h",
    .sdk_version = "1.4", .toolchain = "C",
    .on_init = on_init, .on_start = on_start, .on_stop = on_stop,
    .publishes = topics, .publish_count = 1,
};

const plexus_plugin *plexus_plugin_entry_v1(const plexus_host *host) {
    (void)host;
    return &descriptor;
}
