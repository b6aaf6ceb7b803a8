/*
 * A plain C plugin with the ABI 1.6 abandon hook, for the runtime's side of cancellation: it
 * never answers a held request by itself; the hook counts each notice by reason, checks it is not
 * called inside one of this plugin's host calls, and answers the abandoned requests late from a
 * timer a second later (the runtime drops those answers and only then frees the bulkhead slots).
 *
 *   GET /api/v1/abandon/hold        held until the runtime gives up on it (the gateway's timeout)
 *   GET /api/v1/abandon/hold-long   the same with a route timeout of a minute (for a client that leaves)
 *   GET /api/v1/abandon/seen   200 "deadline=N gone=N stopping=N inside=N late=N"
 * At `on_stop` it logs the same counts (a warning), for a test of the notices a shutdown sends.
 */
#include "plexus_abi.h"
#include <stdio.h>
#include <string.h>

static const plexus_host *g_host;
static int in_host_call;                 /* set around this plugin's own host calls */
static unsigned counts[4], inside, late;
static uint64_t pending[64];
static size_t pending_count;

static void answer(uint64_t token, int status, const char *text) {
    plexus_pair header = {{"Content-Type", 12}, {"text/plain; charset=utf-8", 25}};
    plexus_response response = {sizeof(plexus_response), (uint16_t)status, &header, 1, {text, strlen(text)}};
    in_host_call = 1;
    g_host->respond(g_host, token, &response);
    in_host_call = 0;
}

static void hold_route(void *ctx, const plexus_request *request) {
    (void)ctx;
    (void)request; /* answered late, once the runtime has given up on it */
}

static void seen_route(void *ctx, const plexus_request *request) {
    (void)ctx;
    char body[128];
    snprintf(body, sizeof body, "deadline=%u gone=%u stopping=%u inside=%u late=%u\n",
             counts[PLEXUS_ABANDON_DEADLINE], counts[PLEXUS_ABANDON_CLIENT_GONE], counts[PLEXUS_ABANDON_PLUGIN_STOPPING], inside, late);
    answer(request->token, 200, body);
}

static void answer_late(void *user) {
    (void)user;
    for (size_t i = 0; i < pending_count; i++) {
        answer(pending[i], 200, "too late\n");
        late++;
    }
    pending_count = 0;
}

static void on_abandoned(void *ctx, uint64_t token, int32_t reason) {
    (void)ctx;
    if (in_host_call) inside++;
    if (reason >= 1 && reason <= 3) counts[reason]++;
    if (pending_count < 64) pending[pending_count++] = token;
    in_host_call = 1;
    g_host->timer_start(g_host, 1000, 0, answer_late, NULL);
    in_host_call = 0;
}

static int add(const plexus_host *host, const char *pattern, plexus_route_handler handler, uint64_t timeout_ms, plexus_error *error) {
    plexus_route_spec spec = {
        .timeout_ms = timeout_ms,
        .struct_size = sizeof(plexus_route_spec),
        .method = "GET",
        .pattern = pattern,
        .handler = handler,
        .access = PLEXUS_ACCESS_PUBLIC,
        .summary = "Holds requests until the runtime gives up on them (test fixture)",
    };
    in_host_call = 1;
    int status = host->route_add(host, &spec, error);
    in_host_call = 0;
    return status;
}

static int on_init(void *ctx, const plexus_host *host, plexus_error *error) {
    (void)ctx;
    g_host = host;
    if (add(host, "/api/v1/abandon/hold", hold_route, 0, error) != PLEXUS_OK) return PLEXUS_ERROR;
    if (add(host, "/api/v1/abandon/hold-long", hold_route, 60000, error) != PLEXUS_OK) return PLEXUS_ERROR;
    if (add(host, "/api/v1/abandon/seen", seen_route, 0, error) != PLEXUS_OK) return PLEXUS_ERROR;
    return PLEXUS_OK;
}

static int on_start(void *ctx, plexus_error *error) {
    (void)ctx;
    (void)error;
    return PLEXUS_OK;
}

static void on_stop(void *ctx) {
    (void)ctx;
    /* What the notices said by the time the plugin stops (a live test reads it from the log). */
    char line[128];
    snprintf(line, sizeof line, "abandon-c stopping with deadline=%u gone=%u stopping=%u inside=%u",
             counts[PLEXUS_ABANDON_DEADLINE], counts[PLEXUS_ABANDON_CLIENT_GONE], counts[PLEXUS_ABANDON_PLUGIN_STOPPING], inside);
    in_host_call = 1;
    g_host->log(g_host, PLEXUS_LOG_WARNING, line);
    in_host_call = 0;
    g_host->stop_complete(g_host);
}

static plexus_plugin descriptor = {
    .struct_size = sizeof(plexus_plugin), .abi_major = PLEXUS_ABI_MAJOR, .abi_minor = PLEXUS_ABI_MINOR,
    .name = "abandon-c", .version = "1.0.0", .description = "Holds requests until abandoned (test fixture)",
    .sdk_version = "1.0", .toolchain = "C",
    .on_init = on_init, .on_start = on_start, .on_stop = on_stop,
    .on_request_abandoned = on_abandoned,
};

const plexus_plugin *plexus_plugin_entry_v1(const plexus_host *host) {
    (void)host;
    return &descriptor;
}
