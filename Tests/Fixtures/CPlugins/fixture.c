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

#if defined(FIXTURE_OFFLOOP_SEGV)
/* Crash containment off the loop: work queued on the host's thread pool dereferences NULL. */
static void crash_off_loop(void *user) {
    (void)user;
    volatile int *nowhere = NULL;
    *nowhere = 1;
}
#endif

#if defined(FIXTURE_SERVICE_REPLY_SEGV)
/* Crash containment in a service reply: the callback for a call to a service nobody offers
 * dereferences NULL (it runs on the loop, after the route has returned). */
static void crash_in_reply(void *user, int status, plexus_bytes payload) {
    (void)user;
    (void)status;
    (void)payload;
    volatile int *nowhere = NULL;
    *nowhere = 1;
}
#endif

#if defined(FIXTURE_THREAD_SEGV)
#include <pthread.h>
/* Crash containment on a thread the plugin starts itself (no mark covers it): blamed by the
 * crash address, which lies in this plugin's code. */
static void *crash_on_own_thread(void *user) {
    (void)user;
    volatile int *nowhere = NULL;
    *nowhere = 1;
    return NULL;
}
#endif

#if defined(FIXTURE_STORAGE_CALLBACK_SEGV)
/* Crash containment in a storage callback: kv_get's completion dereferences NULL (on the loop). */
static void crash_in_storage_callback(void *user, int status, const plexus_rows *rows, const char *error) {
    (void)user;
    (void)status;
    (void)rows;
    (void)error;
    volatile int *nowhere = NULL;
    *nowhere = 1;
}
#endif

#if defined(FIXTURE_LOAD_CRASHES) || defined(FIXTURE_LOAD_CRASHES_IN_WORKER)
/* Crash while loading: a constructor runs inside dlopen, before the entry point is looked up.
 * The _IN_WORKER variant crashes only in a supervised worker (`plexus worker ...`), as a file
 * replaced between the master's check and the worker's load would. */
__attribute__((constructor)) static void crash_in_dlopen(void) {
#if defined(FIXTURE_LOAD_CRASHES_IN_WORKER)
    char arguments[256] = {0};
    FILE *cmdline = fopen("/proc/self/cmdline", "r");
    if (cmdline == NULL) return;
    size_t length = fread(arguments, 1, sizeof arguments - 1, cmdline);
    fclose(cmdline);
    size_t first = strlen(arguments); /* the buffer is zeroed: always terminated */
    if (first + 1 >= length || strcmp(arguments + first + 1, "worker") != 0) return;
#endif
    volatile int *nowhere = NULL;
    *nowhere = 1;
}
#endif

static void hello_route(void *route_ctx, const plexus_request *request) {
    (void)route_ctx;
#if defined(FIXTURE_OFFLOOP_SEGV)
    g_host->queue_work(g_host, crash_off_loop, NULL, NULL);
    return; /* never answered: the worker dies */
#endif
#if defined(FIXTURE_THREAD_SEGV)
    pthread_t thread;
    pthread_create(&thread, NULL, crash_on_own_thread, NULL);
    pthread_detach(thread);
    return; /* never answered: the worker dies */
#endif
#if defined(FIXTURE_STORAGE_CALLBACK_SEGV)
    plexus_bytes key = {"anything", 8};
    g_host->kv_get(g_host, key, crash_in_storage_callback, NULL);
    return; /* never answered: the worker dies */
#endif
#if defined(FIXTURE_SERVICE_REPLY_SEGV)
    plexus_bytes nothing = {NULL, 0};
    g_host->service_call(g_host, "fixture.nobody.offers.this", nothing, 1000, crash_in_reply, NULL);
    return; /* never answered: the worker dies */
#endif
#if defined(FIXTURE_ROUTE_ALLOCATES)
    allocate(ALLOCATE_MB);
    char text[64];
    snprintf(text, sizeof text, "holding %zu MB\n", g_allocated >> 20);
    answer(g_host, request->token, 200, text);
    return;
#endif
#if defined(FIXTURE_ECHO_HEADERS)
    /* Credential stripping: answers with every request header it was handed, one per line. */
    char echo[8192];
    size_t used = 0;
    for (size_t index = 0; index < request->header_count && used < sizeof echo; index++) {
        const plexus_pair *pair = &request->headers[index];
        int written = snprintf(echo + used, sizeof echo - used, "%.*s: %.*s\n", (int)pair->name.length, pair->name.data,
                               (int)pair->value.length, pair->value.data);
        if (written < 0) break;
        used += (size_t)written;
    }
    echo[used < sizeof echo ? used : sizeof echo - 1] = 0;
    answer(g_host, request->token, 200, echo);
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

#ifndef TOOLCHAIN
#define TOOLCHAIN "C"
#endif

static plexus_plugin descriptor = {
    DESCRIPTOR_SIZE, DESCRIPTOR_MAJOR, DESCRIPTOR_MINOR,
    PLUGIN_NAME, "1.2.0", "A plugin written in plain C", "1.0", TOOLCHAIN,
    dependencies, DEPENDENCY_COUNT, NULL,
    on_init, on_start, on_stop, NULL, NULL,
#if defined(FIXTURE_CONFIG_KEYS)
    NULL, 0, config_keys, 2, 1,
#elif defined(SWIFT_COMPILER)
    /* ABI 1.4: linked with libswiftCore (build.sh) and claiming another Swift compiler. */
    NULL, 0, NULL, 0, 0, SWIFT_COMPILER,
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
