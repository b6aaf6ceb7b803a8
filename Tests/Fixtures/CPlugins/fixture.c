/*
 * Plain C plugins built against plexus_abi.h alone (`cc -shared -fPIC`): the proof that the
 * ABI is really C, plus one deliberately broken plugin per loader failure mode.
 * build.sh compiles this file once per FIXTURE_* macro.
 */
#include "plexus_abi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PLUGIN_NAME
#define PLUGIN_NAME "hello-c"
#endif
#ifndef ROUTE_PATH
#define ROUTE_PATH "/api/v1/c/hello"
#endif

static const plexus_host *g_host;

static void answer(const plexus_host *host, uint64_t token, int status, const char *text) {
    plexus_pair header = {{"Content-Type", 12}, {"text/plain; charset=utf-8", 25}};
    plexus_response response = {sizeof(plexus_response), (uint16_t)status, &header, 1, {text, strlen(text)}};
    host->respond(host, token, &response);
}

#if defined(FIXTURE_ROUTE_ALLOCATES)
/* Memory containment: take `megabytes` more in 16 MB chunks, writing to every page so it is
 * resident, and keep it (a chunk links to the previous one, so nothing can be optimised away).
 * Without a bound (0) this never returns; a guard stops growing at 8 GB and spins, should the
 * supervisor fail to act, so a broken test does not take the machine down. */
#define CHUNK_BYTES ((size_t)16 << 20)
static void *g_chunks;
static size_t g_allocated;

static void allocate(size_t megabytes) {
    size_t until = megabytes ? g_allocated + (megabytes << 20) : (size_t)8 << 30;
    while (g_allocated < until) {
        volatile char *chunk = malloc(CHUNK_BYTES);
        if (chunk == NULL) break;
        for (size_t page = 0; page < CHUNK_BYTES; page += 4096) chunk[page] = (char)(page >> 12);
        *(void *volatile *)chunk = g_chunks;
        g_chunks = (void *)chunk;
        g_allocated += CHUNK_BYTES;
    }
    if (!megabytes) for (volatile unsigned long spin = 0;; spin++) {}
}
#endif

static void hello_route(void *route_ctx, const plexus_request *request) {
    (void)route_ctx;
#if defined(FIXTURE_ROUTE_ALLOCATES)
    allocate(ALLOCATE_MB);
    char text[64];
    snprintf(text, sizeof text, "holding %zu MB\n", g_allocated >> 20);
    answer(g_host, request->token, 200, text);
    return;
#endif
#if defined(FIXTURE_ROUTE_SEGV) /* crash containment: the route dereferences NULL */
    volatile int *nowhere = NULL;
    *nowhere = 1;
#elif defined(FIXTURE_ROUTE_ABORT)
    abort();
#elif defined(FIXTURE_ROUTE_HANG)
    for (volatile unsigned long spin = 0;; spin++) {}
#endif
    const char *greeting = g_host->config_get(g_host, "greeting");
    char body[256];
    snprintf(body, sizeof body, "%s from C (%.*s)\n", greeting ? greeting : "hello",
             (int)request->request_id.length, request->request_id.data);
    answer(g_host, request->token, 200, body);
}

static int on_init(void *ctx, const plexus_host *host, plexus_error *error) {
    (void)ctx;
    g_host = host;
#if defined(FIXTURE_INIT_FAILS)
    snprintf(error->message, error->capacity, "required config key 'database_url' is missing");
    return PLEXUS_ERROR;
#endif
    plexus_route_spec spec = {sizeof(plexus_route_spec), "GET", ROUTE_PATH, hello_route, NULL, 0};
    if (host->route_add(host, &spec, error) != PLEXUS_OK) return PLEXUS_ERROR;
    host->log(host, PLEXUS_LOG_INFO, "C plugin initialised");
    return PLEXUS_OK;
}

static int on_start(void *ctx, plexus_error *error) {
    (void)ctx;
#if defined(FIXTURE_START_FAILS)
    snprintf(error->message, error->capacity, "cannot reach upstream service");
    return PLEXUS_ERROR;
#elif defined(FIXTURE_START_CRASHES)
    (void)error;
    volatile int *nowhere = NULL;
    *nowhere = 1;
    return PLEXUS_OK;
#elif defined(FIXTURE_START_HANGS)
    (void)error;
    return PLEXUS_PENDING; /* and never calls start_complete */
#else
    (void)error;
    return PLEXUS_OK;
#endif
}

static void on_stop(void *ctx) {
    (void)ctx;
    g_host->stop_complete(g_host);
}

#if defined(DEPENDENCY_NAME)
static const plexus_dependency dependencies[] = {
    {sizeof(plexus_dependency), DEPENDENCY_NAME, DEPENDENCY_RANGE, DEPENDENCY_REQUIRED},
};
#define DEPENDENCY_COUNT 1
#else
#define dependencies NULL
#define DEPENDENCY_COUNT 0
#endif

#ifndef DESCRIPTOR_MAJOR
#define DESCRIPTOR_MAJOR PLEXUS_ABI_MAJOR
#endif
#ifndef DESCRIPTOR_MINOR
#define DESCRIPTOR_MINOR PLEXUS_ABI_MINOR
#endif
#ifndef DESCRIPTOR_SIZE
#define DESCRIPTOR_SIZE sizeof(plexus_plugin)
#endif

#if defined(FIXTURE_CONFIG_KEYS)
/* ABI 1.3: the keys plugins.d/<name>.toml may hold; "limits.*" admits every key under limits. */
static const char *const config_keys[] = {"greeting", "limits.*"};
#endif

static plexus_plugin descriptor = {
    DESCRIPTOR_SIZE, DESCRIPTOR_MAJOR, DESCRIPTOR_MINOR,
    PLUGIN_NAME, "1.2.0", "A plugin written in plain C", "1.0", "C",
    dependencies, DEPENDENCY_COUNT, NULL,
    on_init, on_start, on_stop, NULL, NULL,
#if defined(FIXTURE_CONFIG_KEYS)
    NULL, 0, config_keys, 2, 1,
#endif
};

#if defined(FIXTURE_UNRESOLVED)
extern void plexus_fixture_function_that_does_not_exist(void);
#endif

#if defined(FIXTURE_NO_ENTRY)
const plexus_plugin *some_other_symbol(const plexus_host *host) { (void)host; return &descriptor; }
#elif defined(FIXTURE_ENTRY_V2)
const plexus_plugin *plexus_plugin_entry_v2(const plexus_host *host) { (void)host; return &descriptor; }
#else
const plexus_plugin *plexus_plugin_entry_v1(const plexus_host *host) {
    (void)host;
#if defined(FIXTURE_UNRESOLVED)
    plexus_fixture_function_that_does_not_exist();
#endif
    return &descriptor;
}
#endif
