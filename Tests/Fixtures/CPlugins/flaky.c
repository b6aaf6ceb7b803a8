/*
 * A plain C plugin that fails or stalls on demand, for the gateway's resilience tests
 * (circuit breakers, bulkheads, timeouts). Every route is public (ABI 1.2 access rules).
 *
 *   GET /api/v1/flaky/fail          500
 *   GET /api/v1/flaky/ok            200
 *   GET /api/v1/flaky/stall         never answered (the gateway's timeout answers 504)
 *   GET /api/v1/flaky/status/:code  answers :code (one route, so one circuit, for both outcomes)
 *   GET /api/v1/flaky/tenant        200 "tenant=<the request's tenant>" (Host-mapped tenants)
 */
#include "plexus_abi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const plexus_host *g_host;

static void answer(uint64_t token, int status, const char *text) {
    plexus_pair header = {{"Content-Type", 12}, {"text/plain; charset=utf-8", 25}};
    plexus_response response = {sizeof(plexus_response), (uint16_t)status, &header, 1, {text, strlen(text)}};
    g_host->respond(g_host, token, &response);
}

static void fail_route(void *ctx, const plexus_request *request) {
    (void)ctx;
    answer(request->token, 500, "failing on purpose\n");
}

static void ok_route(void *ctx, const plexus_request *request) {
    (void)ctx;
    answer(request->token, 200, "ok\n");
}

static void stall_route(void *ctx, const plexus_request *request) {
    (void)ctx;
    (void)request; /* never answered */
}

static void status_route(void *ctx, const plexus_request *request) {
    (void)ctx;
    int status = 200;
    for (size_t i = 0; i < request->param_count; i++) {
        const plexus_pair *param = &request->params[i];
        if (param->name.length == 4 && memcmp(param->name.data, "code", 4) == 0) {
            char text[8] = {0};
            size_t length = param->value.length < sizeof text - 1 ? param->value.length : sizeof text - 1;
            memcpy(text, param->value.data, length);
            status = atoi(text);
        }
    }
    if (status < 200 || status > 599) status = 400;
    char body[32];
    snprintf(body, sizeof body, "status %d\n", status);
    answer(request->token, status, body);
}

static void tenant_route(void *ctx, const plexus_request *request) {
    (void)ctx;
    char body[160];
    int length = request->tenant.length > 128 ? 128 : (int)request->tenant.length;
    snprintf(body, sizeof body, "tenant=%.*s\n", length, request->tenant.data ? request->tenant.data : "");
    answer(request->token, 200, body);
}

static int add(const plexus_host *host, const char *pattern, plexus_route_handler handler, plexus_error *error) {
    plexus_route_spec spec = {
        .struct_size = sizeof(plexus_route_spec),
        .method = "GET",
        .pattern = pattern,
        .handler = handler,
        .access = PLEXUS_ACCESS_PUBLIC,
        .summary = "Fails or stalls on demand (test fixture)",
    };
    return host->route_add(host, &spec, error);
}

static int on_init(void *ctx, const plexus_host *host, plexus_error *error) {
    (void)ctx;
    g_host = host;
    if (add(host, "/api/v1/flaky/fail", fail_route, error) != PLEXUS_OK) return PLEXUS_ERROR;
    if (add(host, "/api/v1/flaky/ok", ok_route, error) != PLEXUS_OK) return PLEXUS_ERROR;
    if (add(host, "/api/v1/flaky/stall", stall_route, error) != PLEXUS_OK) return PLEXUS_ERROR;
    if (add(host, "/api/v1/flaky/status/:code", status_route, error) != PLEXUS_OK) return PLEXUS_ERROR;
    if (add(host, "/api/v1/flaky/tenant", tenant_route, error) != PLEXUS_OK) return PLEXUS_ERROR;
    return PLEXUS_OK;
}

static int on_start(void *ctx, plexus_error *error) {
    (void)ctx;
    (void)error;
    return PLEXUS_OK;
}

static void on_stop(void *ctx) {
    (void)ctx;
    g_host->stop_complete(g_host);
}

static plexus_plugin descriptor = {
    sizeof(plexus_plugin), PLEXUS_ABI_MAJOR, PLEXUS_ABI_MINOR,
    "flaky", "1.0.0", "Fails or stalls on demand (gateway test fixture)", "1.0", "C",
    NULL, 0, NULL,
    on_init, on_start, on_stop, NULL, NULL,
    NULL, 0,
};

const plexus_plugin *plexus_plugin_entry_v1(const plexus_host *host) {
    (void)host;
    return &descriptor;
}
