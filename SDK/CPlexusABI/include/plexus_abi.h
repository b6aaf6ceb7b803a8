/*
 * plexus_abi.h — the Plexus plugin ABI, version 1 (minor 10).
 *
 * This header is the whole contract between the Plexus runtime and a plugin loaded
 * with dlopen. Only C types cross it, so a plugin may be written in any language
 * that can export a C function (the Swift SDK is one way; a plain C file is another).
 *
 * Versioning rules
 * ----------------
 * - PLEXUS_ABI_MAJOR changes only for incompatible changes; the runtime refuses a
 *   plugin whose major differs from its own and names both versions.
 * - PLEXUS_ABI_MINOR grows when fields are appended. Every struct that crosses the
 *   boundary starts with `struct_size`, and structs are APPEND-ONLY: a field is never
 *   removed, reordered or retyped. A reader checks `struct_size` before touching a
 *   field that a newer minor appended. A plugin built for an older minor keeps loading.
 * - The entry symbol carries the major in its name (PLEXUS_ENTRY_SYMBOL), so a plugin
 *   built for another major is recognised and reported rather than misread.
 *
 * The host-call contract (ABI 1.4; the runtime obeys it and its tests check it)
 * ---------------------------------------------------------------------------
 * Inputs are copied: every string, byte range, array and struct a plugin passes to a host
 * function is copied (or fully consumed) before that function returns, so the plugin may free
 * or overwrite it at once. No callback fires inside the call that registered it: the `done`,
 * `reply`, `after`, timer, post, subscription, subscription-ready and service callbacks of a host call run later,
 * from the loop, never before that host call has returned (a failure found at once is reported
 * by the call's return value, not by its callback). Threads: every hook, route handler and
 * callback runs on the runtime's loop thread, except a `queue_work` work function, which runs on
 * a pool thread. Host functions must be called on the loop thread, except `post`,
 * `metric_register`, `metric_record`, `last_status` and `status_text`, which are safe from any
 * thread at any time (`post` exists to get back onto the loop: answer a request with `respond`
 * from a `post` callback).
 *
 * Errors (ABI 1.4)
 * ----------------
 * A host call that fails still returns what it did in ABI 1.0-1.3 (PLEXUS_ERROR, 0 for an id,
 * a callback `status` of PLEXUS_ERROR, and a message), so older plugins work unchanged. What
 * went wrong is a `plexus_status` code read with `host->last_status(host)`, which works like
 * errno, per thread: every host call sets it (PLEXUS_OK on success) before it returns, and the
 * runtime sets it to the outcome a completion reports just before calling a `done`, `reply`,
 * `after`, publish or subscription-ready callback. Storage failures carry their kind as a PLEXUS_E_STORAGE_* code.
 * Codes are for programs, messages for people: never parse a message. `plexus_strerror` names a
 * code this header knows; `host->status_text` names every code the runtime knows. The codes each
 * call reports besides PLEXUS_OK:
 *   config_get       NOT_FOUND (no such key; NULL is returned), INVALID_ARGUMENT (NULL key)
 *   route_add        INVALID_ARGUMENT, WRONG_STATE, ALREADY_EXISTS, REFUSED (a reserved prefix)
 *   respond, post, timer_start  INVALID_ARGUMENT (NULL response or callback); timer_start WRONG_STATE
 *   queue_work       INVALID_ARGUMENT, LIMIT_REACHED; its `after` callback CANCELLED
 *   publish          INVALID_ARGUMENT (event, topic), REFUSED (a topic reserved for another
 *                    publisher); its `done` callback REFUSED (the durable log failed)
 *   subscribe        INVALID_ARGUMENT, WRONG_STATE, REFUSED (a durable group without the log);
 *                    its `ready` callback (ABI 1.10) PLEXUS_E_STORAGE_* (a change log did not start)
 *   service_register INVALID_ARGUMENT, WRONG_STATE, ALREADY_EXISTS
 *   service_call     its `reply` callback NOT_FOUND, TIMEOUT, REMOTE_FAILED
 *   kv_*, sql_*      their `done` callback PLEXUS_E_STORAGE_* (the kind of the failure)
 *   metric_register  UNSUPPORTED, INVALID_ARGUMENT, ALREADY_EXISTS (the name with another shape)
 *   metric_record    UNSUPPORTED, NOT_FOUND (the id), INVALID_ARGUMENT, LIMIT_REACHED (label sets)
 */
#ifndef PLEXUS_ABI_H
#define PLEXUS_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PLEXUS_ABI_MAJOR 1
#define PLEXUS_ABI_MINOR 10

/** Name of the symbol every plugin exports: `const plexus_plugin *plexus_plugin_entry_v1(const plexus_host *)`. */
#define PLEXUS_ENTRY_SYMBOL "plexus_plugin_entry_v1"
/** Prefix shared by the entry symbols of all majors (used to diagnose a major mismatch). */
#define PLEXUS_ENTRY_PREFIX "plexus_plugin_entry_v"

/** Status codes returned by hooks and host functions. */
typedef enum plexus_status {
    PLEXUS_OK = 0,
    /** The operation failed; the accompanying message says why. */
    PLEXUS_ERROR = 1,
    /** `on_start` only: start continues asynchronously; the plugin calls `host->start_complete`. */
    PLEXUS_PENDING = 2,

    /* ---- ABI 1.4: what went wrong, read with host->last_status (see "Errors" above) ---- */
    /** An argument is missing, malformed or out of range (bad pattern, topic, spec, label count). */
    PLEXUS_E_INVALID_ARGUMENT = 16,
    /** Not allowed now: route_add after on_start, a call by a plugin that has failed or stopped. */
    PLEXUS_E_WRONG_STATE = 17,
    /** The name is taken: a route, a service, or a metric registered with another shape. */
    PLEXUS_E_ALREADY_EXISTS = 18,
    /** The thing named does not exist: no such service, metric id or durable group. */
    PLEXUS_E_NOT_FOUND = 19,
    /** A bound was reached: a metric family's label sets, a queue, the work pool. */
    PLEXUS_E_LIMIT_REACHED = 20,
    /** No answer in time (service_call). */
    PLEXUS_E_TIMEOUT = 21,
    /** Cancelled before it ran (queue_work at shutdown). */
    PLEXUS_E_CANCELLED = 22,
    /** This process does not offer the service asked for (e.g. metrics in a checker process). */
    PLEXUS_E_UNSUPPORTED = 23,
    /** The other side failed: a service handler answered with an error. */
    PLEXUS_E_REMOTE_FAILED = 24,
    /** Publishing was refused (a reserved topic, or the durable log failed). */
    PLEXUS_E_REFUSED = 25,

    /* Storage failures (ABI 1.4), one code per kind named in plexus_storage_cb's message. */
    /** The database stayed busy or locked past the busy timeout. */
    PLEXUS_E_STORAGE_BUSY = 32,
    /** The disk or the file-size limit is exhausted. */
    PLEXUS_E_STORAGE_DISK_FULL = 33,
    /** The file is not a database or fails its integrity check. */
    PLEXUS_E_STORAGE_CORRUPT = 34,
    /** A UNIQUE, NOT NULL, CHECK or FOREIGN KEY constraint was violated. */
    PLEXUS_E_STORAGE_CONSTRAINT = 35,
    /** Bad SQL or misuse (syntax error, unknown table, wrong parameter count). */
    PLEXUS_E_STORAGE_MISUSE = 36,
    /** The statement was refused by the sandbox (ATTACH, internal tables, pragmas). */
    PLEXUS_E_STORAGE_DENIED = 37,
    /** A compare-and-set failed; `last_insert_rowid` of the rows carries the current version. */
    PLEXUS_E_STORAGE_CONFLICT = 38,
    /** The thing asked for does not exist. */
    PLEXUS_E_STORAGE_NOT_FOUND = 39,
    /** The storage was closed (the plugin is stopping). */
    PLEXUS_E_STORAGE_CLOSED = 40,
    /** Another I/O error, or the file could not be opened. */
    PLEXUS_E_STORAGE_IO = 41,
    /** A migration list has a gap or a duplicate, or an applied migration changed. */
    PLEXUS_E_STORAGE_INVALID_MIGRATION = 42,
    /** A transaction was rolled back by a failure that is none of the above. */
    PLEXUS_E_STORAGE_ABORTED = 43,
    /** Any other storage failure. */
    PLEXUS_E_STORAGE_OTHER = 44,
} plexus_status;

/**
 * The name of a status code this header knows, e.g. "PLEXUS_E_STORAGE_BUSY: storage busy"
 * (never NULL; "unknown status" for a code from a newer runtime: ask `host->status_text`).
 */
#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define PLEXUS_INLINE static inline
#else
#define PLEXUS_INLINE static __inline__ /* C89 with GNU extensions (gcc, clang) */
#endif
PLEXUS_INLINE const char *plexus_strerror(int status) {
    switch (status) {
    case PLEXUS_OK: return "ok";
    case PLEXUS_ERROR: return "error";
    case PLEXUS_PENDING: return "pending";
    case PLEXUS_E_INVALID_ARGUMENT: return "invalid argument";
    case PLEXUS_E_WRONG_STATE: return "not allowed in the plugin's current state";
    case PLEXUS_E_ALREADY_EXISTS: return "already exists";
    case PLEXUS_E_NOT_FOUND: return "not found";
    case PLEXUS_E_LIMIT_REACHED: return "limit reached";
    case PLEXUS_E_TIMEOUT: return "timed out";
    case PLEXUS_E_CANCELLED: return "cancelled";
    case PLEXUS_E_UNSUPPORTED: return "not supported by this process";
    case PLEXUS_E_REMOTE_FAILED: return "the other side failed";
    case PLEXUS_E_REFUSED: return "refused";
    case PLEXUS_E_STORAGE_BUSY: return "storage busy";
    case PLEXUS_E_STORAGE_DISK_FULL: return "storage disk full";
    case PLEXUS_E_STORAGE_CORRUPT: return "storage corrupt";
    case PLEXUS_E_STORAGE_CONSTRAINT: return "storage constraint violated";
    case PLEXUS_E_STORAGE_MISUSE: return "storage misuse (bad SQL)";
    case PLEXUS_E_STORAGE_DENIED: return "storage statement denied";
    case PLEXUS_E_STORAGE_CONFLICT: return "storage version conflict";
    case PLEXUS_E_STORAGE_NOT_FOUND: return "storage not found";
    case PLEXUS_E_STORAGE_CLOSED: return "storage closed";
    case PLEXUS_E_STORAGE_IO: return "storage I/O error";
    case PLEXUS_E_STORAGE_INVALID_MIGRATION: return "invalid storage migration";
    case PLEXUS_E_STORAGE_ABORTED: return "storage transaction aborted";
    case PLEXUS_E_STORAGE_OTHER: return "other storage failure";
    default: return "unknown status";
    }
}

/** Log levels, matching swift-log's order. */
typedef enum plexus_log_level {
    PLEXUS_LOG_TRACE = 0,
    PLEXUS_LOG_DEBUG = 1,
    PLEXUS_LOG_INFO = 2,
    PLEXUS_LOG_NOTICE = 3,
    PLEXUS_LOG_WARNING = 4,
    PLEXUS_LOG_ERROR = 5,
    PLEXUS_LOG_CRITICAL = 6,
} plexus_log_level;

/** Health reported by `on_health`. */
typedef enum plexus_health_status {
    PLEXUS_HEALTH_OK = 0,
    PLEXUS_HEALTH_DEGRADED = 1,
    PLEXUS_HEALTH_FAILING = 2,
} plexus_health_status;

/** A byte string that is not necessarily NUL-terminated. */
typedef struct plexus_bytes {
    const char *data;
    size_t length;
} plexus_bytes;

/** One header or parameter: a name and a value. */
typedef struct plexus_pair {
    plexus_bytes name;
    plexus_bytes value;
} plexus_pair;

/** A buffer the plugin writes an error message into (NUL-terminated, truncated to `capacity`). */
typedef struct plexus_error {
    char *message;
    size_t capacity;
} plexus_error;

/**
 * A request handed to a route handler. The struct and everything it points to are valid only
 * until the handler returns: copy what you need to answer later. The token stays valid until
 * `host->respond` is called for it (a late answer for a closed connection is ignored).
 */
typedef struct plexus_request {
    uint32_t struct_size;
    /** Opaque token that identifies this request in `host->respond`. */
    uint64_t token;
    plexus_bytes method;
    /** Decoded path, without the query string. */
    plexus_bytes path;
    /** Raw query string, without the `?` (may be empty). */
    plexus_bytes query;
    const plexus_pair *headers;
    size_t header_count;
    /** Path parameters captured by the route pattern (`:name`, and `*` for the wildcard rest). */
    const plexus_pair *params;
    size_t param_count;
    plexus_bytes body;
    /** The request id (`X-Request-Id`), always set. */
    plexus_bytes request_id;

    /* ---- ABI 1.2: the caller, as the runtime's gateway verified it (check struct_size) ---- */
    /** Subject: a JWT's `sub` or an API key's name; empty for an anonymous caller of a public route. */
    plexus_bytes subject;
    /** Tenant from a verified claim, an API key, or the configured Host-to-tenant map; empty when none. */
    plexus_bytes tenant;
    /** The caller's roles, comma-separated (may be empty). */
    plexus_bytes roles;
    /** The caller's scopes, space-separated (may be empty). */
    plexus_bytes scopes;

    /* ---- ABI 1.6: the caller's roles and scopes as arrays (check struct_size) ---- */
    /** The same roles as `roles`, one element each, sorted (`role_count` 0: none; NULL then). */
    const plexus_bytes *role_list;
    size_t role_count;
    /** The same scopes as `scopes`, one element each, sorted (`scope_count` 0: none; NULL then). */
    const plexus_bytes *scope_list;
    size_t scope_count;
} plexus_request;

/** A response handed to `host->respond`. The host copies everything before `respond` returns. */
typedef struct plexus_response {
    uint32_t struct_size;
    uint16_t status;
    const plexus_pair *headers;
    size_t header_count;
    plexus_bytes body;
} plexus_response;

/** A route handler: must eventually call `host->respond(host, request->token, ...)` exactly once (now or later). */
typedef void (*plexus_route_handler)(void *route_ctx, const plexus_request *request);

/** What a plugin passes to `host->route_add`. */
typedef struct plexus_route_spec {
    uint32_t struct_size;
    /** Method in upper case (`GET`, `POST`, ...). */
    const char *method;
    /** Path pattern: literal segments, `:name` parameters, and an optional trailing `*`. */
    const char *pattern;
    plexus_route_handler handler;
    void *route_ctx;
    /** Largest accepted request body in bytes for this route; 0 means the server default. */
    uint64_t max_body_bytes;

    /* ---- ABI 1.2: access rules and description, enforced and published by the runtime ---- */
    /** Who may call (plexus_route_access). A spec from ABI 1.1 (shorter) means AUTHENTICATED. */
    uint32_t access;
    /** Non-zero: the caller must carry a tenant; a `:tenant` path parameter must equal it. */
    int32_t tenant_required;
    /** Roles, comma-separated: the caller needs at least one of them (NULL or empty: no role needed). */
    const char *roles;
    /** Scopes, space-separated: the caller needs every one of them (NULL or empty: none). */
    const char *scopes;
    /** One line for the OpenAPI document (may be NULL). */
    const char *summary;
    /** JSON Schema (as JSON text) of the request body (may be NULL). */
    const char *request_schema;
    /** JSON Schema (as JSON text) of a successful response body (may be NULL). */
    const char *response_schema;
    /** Status of a successful response, for the OpenAPI document (0: 200). */
    uint32_t response_status;
    /** The runtime answers 504 when the handler has not answered within this time (0: the runtime's default). */
    uint64_t timeout_ms;

    /* ---- ABI 1.6: roles and scopes as arrays (read when the spec is this long) ---- */
    /** Roles, one NUL-terminated name each (`role_count` of them): the caller needs at least one.
        Non-NULL: used instead of `roles`; NULL: `roles` is read as before. */
    const char *const *role_list;
    /** Scopes, one name each (`scope_count` of them): the caller needs every one. Non-NULL: used
        instead of `scopes`. A name is 1 to 128 letters, digits or - _ . : / (else INVALID_ARGUMENT). */
    const char *const *scope_list;
    uint32_t role_count;
    uint32_t scope_count;
} plexus_route_spec;

/** Why the runtime gave up on a request (`plexus_plugin.on_request_abandoned`, ABI 1.6). */
typedef enum plexus_abandon_reason {
    /** The route's deadline passed: the client was answered 504. */
    PLEXUS_ABANDON_DEADLINE = 1,
    /** The client closed its connection before the answer. */
    PLEXUS_ABANDON_CLIENT_GONE = 2,
    /** The plugin is being stopped: the client was answered 503. */
    PLEXUS_ABANDON_PLUGIN_STOPPING = 3,
} plexus_abandon_reason;

/** Who may call a route (`plexus_route_spec.access`). */
typedef enum plexus_route_access {
    /** Any verified caller: a valid bearer JWT or API key (the default). */
    PLEXUS_ACCESS_AUTHENTICATED = 0,
    /** Anyone, without credentials (credentials, when sent, are still verified). */
    PLEXUS_ACCESS_PUBLIC = 1,
} plexus_route_access;

/** A timer callback (loop thread). */
typedef void (*plexus_timer_cb)(void *user);
/** A work item run on the thread pool (NOT the loop thread). */
typedef void (*plexus_work_cb)(void *user);
/** A completion run back on the loop thread after a work item (status is PLEXUS_OK or PLEXUS_ERROR if cancelled). */
typedef void (*plexus_after_work_cb)(void *user, int status);
/** A callback posted onto the loop thread. */
typedef void (*plexus_post_cb)(void *user);

typedef struct plexus_host plexus_host;

/* ---- ABI 1.1: storage ------------------------------------------------------------------ */

/** Types of a SQL value. */
typedef enum plexus_value_type {
    PLEXUS_VALUE_NULL = 0,
    PLEXUS_VALUE_INTEGER = 1,
    PLEXUS_VALUE_REAL = 2,
    PLEXUS_VALUE_TEXT = 3,
    PLEXUS_VALUE_BLOB = 4,
} plexus_value_type;

/** A SQL parameter or result value; `bytes` holds text (UTF-8) and blobs. */
typedef struct plexus_value {
    int32_t type; /* plexus_value_type */
    int64_t integer;
    double real;
    plexus_bytes bytes;
} plexus_value;

/** A result: columns, then `row_count` rows of `column_count` values each (row-major). */
typedef struct plexus_rows {
    uint32_t struct_size;
    size_t column_count;
    const plexus_bytes *columns;
    size_t row_count;
    const plexus_value *values;
    /** execute/batch: rows changed by the last statement. */
    int64_t changes;
    /** execute/batch: rowid of the last insert. */
    int64_t last_insert_rowid;
} plexus_rows;

/**
 * Completion of a storage call (loop thread). On failure `status` is PLEXUS_ERROR and `error`
 * reads "<kind>: <what and where>", kind one of busy, disk_full, corrupt, constraint, misuse,
 * denied, conflict, not_found, closed, io, invalid_migration, other; `rows` is NULL except for a
 * compare-and-set conflict, where an empty result carries the current version in
 * `last_insert_rowid`. kv_get and kv_list report rows with the columns key, value, version,
 * expires_at; kv_put reports the new version in `last_insert_rowid` (no rows); kv_delete reports
 * 1 in `changes` when the key existed.
 */
typedef void (*plexus_storage_cb)(void *user, int status, const plexus_rows *rows, const char *error);

/* ---- ABI 1.1: the event bus ------------------------------------------------------------ */

/** Publish flags. */
typedef enum plexus_publish_flags {
    /** Fire-and-forget, in process, delivered on the loop in priority order. */
    PLEXUS_PUBLISH_DEFAULT = 0,
    /** Written to the durable log (SQLite WAL) before the completion reports success. */
    PLEXUS_PUBLISH_DURABLE = 1,
} plexus_publish_flags;

/**
 * An event. On publish the host fills `id`, `source` and `time_ms`; everything else comes from
 * the publisher. Delivered events are valid only for the duration of the handler call.
 */
typedef struct plexus_event {
    uint32_t struct_size;
    /** Sortable unique id (ULID). */
    plexus_bytes id;
    /** Hierarchical topic, segments separated by '.', e.g. "ticket.created". */
    plexus_bytes topic;
    /** Name of the publishing plugin (or "http" for clients). */
    plexus_bytes source;
    /** Tenant, may be empty. */
    plexus_bytes tenant;
    /** Milliseconds since the Unix epoch. */
    int64_t time_ms;
    /** Higher is delivered first among queued events. */
    int32_t priority;
    plexus_bytes content_type;
    plexus_bytes payload;
    plexus_bytes correlation_id;
    plexus_bytes causation_id;
    uint32_t schema_version;
} plexus_event;

/** Called once a publish has been accepted (status PLEXUS_OK, detail = event id) or refused (PLEXUS_ERROR, detail = reason). */
typedef void (*plexus_publish_cb)(void *user, int status, const char *detail);

/** Receives events of a subscription (loop thread). Durable subscriptions must call host->ack for each event. */
typedef void (*plexus_event_handler)(void *user, const plexus_event *event);

/** What happens when a subscription's queue is full. */
typedef enum plexus_overflow_policy {
    /** Drop the oldest queued event (counted). */
    PLEXUS_OVERFLOW_DROP_OLDEST = 0,
    /** Drop the new event (counted). */
    PLEXUS_OVERFLOW_DROP_NEWEST = 1,
} plexus_overflow_policy;

/** Told that a subscription is complete (ABI 1.10; loop thread): see plexus_subscription_options.ready. */
typedef void (*plexus_subscription_ready_cb)(void *user, uint64_t subscription);

/** Subscription options. */
typedef struct plexus_subscription_options {
    uint32_t struct_size;
    /** Most events queued for this subscriber before the overflow policy applies (0: host default). */
    uint32_t queue_limit;
    int32_t overflow_policy; /* plexus_overflow_policy */
    /** Non-NULL: a durable consumer group (at-least-once, explicit ack) over durable topics. */
    const char *durable_group;
    /** Reserved, set 0: in ABI 1.1 the runtime's `[bus] max_attempts` applies to every durable group. */
    uint32_t max_attempts;

    /* ---- ABI 1.10: completion of the subscription (a runtime reads these only when struct_size covers them) ---- */
    /** May be NULL. Called once, on the loop, after `subscribe` has returned, when the subscription
        is complete: every event published from then on that matches it is delivered. That is at
        once (the next turn of the loop) for most patterns; a pattern that may match change topics
        `storage.<plugin>.<table>.<op>` on PostgreSQL storage is complete once the change log of
        every such plugin runs (its triggers and this instance's LISTEN), so a write committed
        through any instance after `ready` is delivered, while one committed before may not be.
        `last_status` is PLEXUS_OK when it runs for a complete subscription. When such a change
        log could not be started (the database unreachable, a statement timeout), `ready` runs
        once that attempt failed, with `last_status` the PLEXUS_E_STORAGE_* code of the failure:
        the subscription stays, the runtime tries again at its next check (every 30 s) and does
        not call `ready` again; writes until then may be missed (unsubscribe and subscribe again
        to wait anew). Never called after `unsubscribe` of that id or
        after the plugin stopped, nor when `subscribe` failed. A runtime older than 1.10 (its
        host's `abi_minor` below 10) never calls it. */
    plexus_subscription_ready_cb ready;
    /** Passed to `ready` (may differ from the handler's `user`). */
    void *ready_user;
} plexus_subscription_options;

/** A topic a plugin declares it publishes, for the runtime's event catalogue. */
typedef struct plexus_topic_decl {
    uint32_t struct_size;
    const char *topic;
    uint32_t schema_version;
    const char *description;
} plexus_topic_decl;

/** Answers a request/reply call to a service this plugin offers; reply with host->service_reply. */
typedef void (*plexus_service_handler)(void *user, uint64_t call_token, plexus_bytes payload);
/** Receives a service reply (status PLEXUS_OK) or failure (PLEXUS_ERROR: timeout, no such service, handler error). */
typedef void (*plexus_reply_cb)(void *user, int status, plexus_bytes payload);

/* ---- ABI 1.3: metrics ------------------------------------------------------------------ */

/** What a metric measures. */
typedef enum plexus_metric_kind {
    /** A count that only grows (name ends in `_total`). */
    PLEXUS_METRIC_COUNTER = 0,
    /** A value that goes up and down. */
    PLEXUS_METRIC_GAUGE = 1,
    /** Observations counted into buckets. */
    PLEXUS_METRIC_HISTOGRAM = 2,
} plexus_metric_kind;

/** What `metric_record` does with its value. */
typedef enum plexus_metric_op {
    /** Counters (value >= 0) and gauges (any sign). */
    PLEXUS_METRIC_ADD = 0,
    /** Gauges: set to the value. */
    PLEXUS_METRIC_SET = 1,
    /** Histograms: one observation. */
    PLEXUS_METRIC_OBSERVE = 2,
} plexus_metric_op;

/**
 * A metric family a plugin registers. The runtime exposes it at `/metrics` as
 * `<plugin name with '-' as '_'>_<name>`, with the help text and label names given here.
 */
typedef struct plexus_metric_spec {
    uint32_t struct_size;
    int32_t kind; /* plexus_metric_kind */
    /** `[a-z_][a-z0-9_]*`, at most 64 characters; a counter's name ends in `_total`, no other's does. */
    const char *name;
    /** One line saying what it measures (required). */
    const char *help;
    /** Label names (`[a-z_][a-z0-9_]*`, not starting with `__`), at most 8. */
    const char *const *label_names;
    uint32_t label_count;
    /** Histograms: bucket upper bounds, strictly ascending, at most 32 (NULL or 0: the runtime's latency buckets). */
    const double *buckets;
    uint32_t bucket_count;
} plexus_metric_spec;

/**
 * The host's directory of tenants (ABI 1.7, white-label): one tenant as a plugin publishes it
 * with `host->tenant_directory_publish`. Every `hosts` entry is a lower-case DNS name without a
 * port; the gateway maps a request whose `Host` is one of them to `tenant`. `suspended` non-zero:
 * the gateway answers 403 to every plugin route requested for this tenant (by its callers or on
 * its domains).
 */
typedef struct plexus_tenant_entry {
    uint32_t struct_size;
    /** Non-zero: the tenant is suspended. */
    uint32_t suspended;
    /** The tenant id (1 to 64 bytes of letters, digits, '-', '_' and '.'). */
    const char *tenant;
    /** Its domains (at most 64). */
    const char *const *hosts;
    uint32_t host_count;
} plexus_tenant_entry;

/** What `host->tenant_key_create` / `tenant_key_revoke` report: PLEXUS_OK with the key's id and,
 *  for a new key, its plaintext (shown this once; copy it), or PLEXUS_ERROR with a message. */
typedef void (*plexus_tenant_key_cb)(void *user, int status, const char *key_id, const char *plaintext, const char *message);

/** How an action a plugin writes to the audit log (`host->audit_record`, ABI 1.8) ended. */
typedef enum plexus_audit_outcome {
    PLEXUS_AUDIT_SUCCESS = 0,
    PLEXUS_AUDIT_FAILURE = 1,
    PLEXUS_AUDIT_DENIED = 2
} plexus_audit_outcome;

/**
 * The host vtable. One instance per plugin; the plugin passes it back as the first
 * argument of every call. Append-only: check `struct_size` before using a field that
 * came after your build's minor.
 */
struct plexus_host {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;
    /** The runtime's version, e.g. "0.1.0". */
    const char *runtime_version;
    /** The runtime's libuv loop (`uv_loop_t *`), for plugins that use libuv directly. Loop thread only. */
    void *uv_loop;
    /** Private to the runtime. */
    void *host_private;

    /** Log a NUL-terminated message at `level` under the plugin's name. */
    void (*log)(const plexus_host *host, int level, const char *message);
    /** This plugin's config value for `key` (dotted for nested tables), as text; NULL if absent. Valid for the plugin's lifetime. */
    const char *(*config_get)(const plexus_host *host, const char *key);
    /** Register a route (only during `on_init` / `on_start`). Returns PLEXUS_ERROR with a message on a bad pattern. */
    int (*route_add)(const plexus_host *host, const plexus_route_spec *spec, plexus_error *error);
    /** Answer a request. Must be called on the loop thread. */
    void (*respond)(const plexus_host *host, uint64_t token, const plexus_response *response);
    /** Start a timer; `repeat_ms` 0 = one shot. Returns an id > 0, or 0 on failure. */
    uint64_t (*timer_start)(const plexus_host *host, uint64_t timeout_ms, uint64_t repeat_ms, plexus_timer_cb cb, void *user);
    /** Stop a timer; unknown ids are ignored. */
    void (*timer_stop)(const plexus_host *host, uint64_t timer_id);
    /** Run `work` on the thread pool, then `after` on the loop thread. */
    int (*queue_work)(const plexus_host *host, plexus_work_cb work, plexus_after_work_cb after, void *user);
    /** Run `cb` on the loop thread soon. The only host call that is safe from any thread. */
    void (*post)(const plexus_host *host, plexus_post_cb cb, void *user);
    /** Finish a start that returned PLEXUS_PENDING: status PLEXUS_OK or PLEXUS_ERROR with a message. */
    void (*start_complete)(const plexus_host *host, int status, const char *message);
    /** Finish a stop: every plugin must call this once after `on_stop` (synchronously or later). */
    void (*stop_complete)(const plexus_host *host);

    /* ---- ABI 1.1: the event bus (check struct_size before use) ---- */
    /** Publish an event (see plexus_publish_flags); `done` may be NULL. Returns PLEXUS_ERROR at once for an invalid topic. */
    int (*publish)(const plexus_host *host, const plexus_event *event, uint32_t flags, plexus_publish_cb done, void *user, plexus_error *error);
    /** Subscribe with a pattern ('+' one segment, '#' the rest); returns an id > 0, or 0 with a message. */
    uint64_t (*subscribe)(const plexus_host *host, const char *pattern, const plexus_subscription_options *options,
                          plexus_event_handler handler, void *user, plexus_error *error);
    /** Cancel a subscription; unknown ids are ignored. */
    void (*unsubscribe)(const plexus_host *host, uint64_t subscription);
    /** Durable subscriptions: settle a delivered event (success non-zero) or ask for a retry with `reason`. */
    void (*ack)(const plexus_host *host, uint64_t subscription, plexus_bytes event_id, int success, const char *reason);
    /** Offer a named service answered by exactly one handler in the process. */
    int (*service_register)(const plexus_host *host, const char *name, plexus_service_handler handler, void *user, plexus_error *error);
    /** Call a service; `reply` runs on the loop with the answer or the failure (after `timeout_ms` at most). */
    void (*service_call)(const plexus_host *host, const char *name, plexus_bytes payload, uint64_t timeout_ms, plexus_reply_cb reply, void *user);
    /** Answer a call received by a service handler (status PLEXUS_OK or PLEXUS_ERROR with a message payload). */
    void (*service_reply)(const plexus_host *host, uint64_t call_token, int status, plexus_bytes payload);


    /* ---- ABI 1.1: this plugin's own storage (a SQLite database only it can reach) ---- */
    /** Value and version of `key` (no rows when absent or expired). */
    void (*kv_get)(const plexus_host *host, plexus_bytes key, plexus_storage_cb done, void *user);
    /** Store `value`; `ttl_seconds` <= 0: no expiry; `expected_version` -1: any, 0: must not exist, n: must be version n. */
    void (*kv_put)(const plexus_host *host, plexus_bytes key, plexus_bytes value, double ttl_seconds, int64_t expected_version,
                   plexus_storage_cb done, void *user);
    /** Delete `key` (same `expected_version` rule); `changes` is 1 if it existed. */
    void (*kv_delete)(const plexus_host *host, plexus_bytes key, int64_t expected_version, plexus_storage_cb done, void *user);
    /** Keys starting with `prefix`, ordered, after `after` (empty: from the start), at most `limit`. */
    void (*kv_list)(const plexus_host *host, plexus_bytes prefix, uint32_t limit, plexus_bytes after, plexus_storage_cb done, void *user);
    /** One SQL statement with bound parameters; `query` returns rows, `execute` changes. */
    void (*sql_execute)(const plexus_host *host, const char *sql, const plexus_value *parameters, size_t count, plexus_storage_cb done, void *user);
    void (*sql_query)(const plexus_host *host, const char *sql, const plexus_value *parameters, size_t count, plexus_storage_cb done, void *user);
    /** Several statements in one transaction: all or nothing. */
    void (*sql_batch)(const plexus_host *host, const char *const *statements, const plexus_value *const *parameters, const size_t *counts,
                      size_t statement_count, plexus_storage_cb done, void *user);
    /** Numbered migrations (versions 1..n); the ones not yet applied run once, in order, each in a transaction. */
    void (*sql_migrate)(const plexus_host *host, const int32_t *versions, const char *const *statements, size_t count,
                        plexus_storage_cb done, void *user);

    /* ---- ABI 1.3: metrics (check struct_size before use) ---- */
    /** Register a metric family (any time, any thread); returns an id > 0, or 0 with a message.
        Registering the same name again with the same kind, labels and buckets returns the same id. */
    uint64_t (*metric_register)(const plexus_host *host, const plexus_metric_spec *spec, plexus_error *error);
    /** Record `value` (see plexus_metric_op) for the label values given in the order of the spec's
        label names. Any thread. Returns PLEXUS_ERROR with a message for an unknown id, a wrong
        label count, an op the kind does not take, a negative or non-finite counter addition, or
        a family past 1000 label sets. */
    int (*metric_record)(const plexus_host *host, uint64_t metric, int32_t op, const plexus_bytes *label_values, uint32_t label_count,
                         double value, plexus_error *error);

    /* ---- ABI 1.4: status codes (check struct_size before use; see "Errors" above) ---- */
    /** The `plexus_status` of this thread's last host call, or of the outcome the running
        callback reports. Any thread. */
    int32_t (*last_status)(const plexus_host *host);
    /** A code's text, for every code this runtime knows (never NULL, static). Any thread. */
    const char *(*status_text)(const plexus_host *host, int32_t status);
    /** The Swift compiler that built the runtime, as major * 100 + minor (0: not Swift). The
        Swift SDK compares it with its own first thing in the entry point: on a mismatch it
        sets up nothing and returns a bare descriptor naming its compiler, which the runtime
        refuses with both names (see plexus_plugin.swift_compiler). */
    uint32_t swift_compiler;

    /* ---- ABI 1.5: alerts (check struct_size before use) ---- */
    /** Raises an alert in the runtime's alert tiers: the runtime publishes `system.alert` with
        {"plugin", "name", "severity", "detail"}. `severity` is "info", "warning", "error" or
        "critical"; `name` says what the alert is about (1 to 128 bytes); `detail` is free text
        (at most 1024 bytes; NULL for none). Inputs are copied before the call returns. Any thread.
        Returns PLEXUS_OK, or PLEXUS_ERROR with a message (last_status PLEXUS_E_INVALID_ARGUMENT)
        for an unknown severity, an empty or oversized name, or an oversized detail. */
    int (*alert_raise)(const plexus_host *host, const char *severity, const char *name, const char *detail, plexus_error *error);

    /* ---- ABI 1.7 (white-label): the tenant directory and tenant API keys (check struct_size).
            Only a plugin the operator names in `[tenants] directory_plugins` may call these; any
            other gets PLEXUS_ERROR with last_status PLEXUS_E_REFUSED. ---- */
    /** Replaces this plugin's part of the host-to-tenant directory with `entries` (the gateway
        consults it after the static `[tenants.hosts]`, which wins a host both name; the answer
        is immediate for the next request). A host named twice, by two tenants or by another
        granted plugin, is PLEXUS_E_INVALID_ARGUMENT / PLEXUS_E_ALREADY_EXISTS and nothing is
        changed. At most 100000 entries. Inputs are copied before the call returns. */
    int (*tenant_directory_publish)(const plexus_host *host, const plexus_tenant_entry *entries, uint32_t count, plexus_error *error);
    /** Creates an API key of `tenant` (never empty: a plugin cannot mint an installation-wide
        key) named `name` (stored as "<plugin>/<name>") with `roles`; `done` runs later on the
        loop with the id and the plaintext. */
    void (*tenant_key_create)(const plexus_host *host, const char *tenant, const char *name, const char *const *roles,
                              uint32_t role_count, plexus_tenant_key_cb done, void *user);
    /** Revokes a key this plugin created (by id); any other key is PLEXUS_E_NOT_FOUND. */
    void (*tenant_key_revoke)(const plexus_host *host, const char *key_id, plexus_tenant_key_cb done, void *user);

    /* ---- ABI 1.8: the audit log (check struct_size before use) ---- */
    /** Writes one record to the runtime's audit log (read at `GET /admin/audit`) for a change this
        plugin made. `action` (1 to 64 bytes of a-z, 0-9, '.', '_', '-') is recorded as
        "plugin.<plugin name>.<action>", so a plugin cannot write the runtime's own actions;
        `actor` is who asked (the caller's subject; NULL or empty: the plugin itself, recorded
        as "plugin:<name>"); every record has actor kind "plugin", saying the plugin named the
        actor. `tenant` (a tenant's admin reads that tenant's records) is accepted from a plugin
        the operator lets manage tenants, or while the plugin holds a request of that tenant;
        otherwise PLEXUS_E_REFUSED. `target` (at most 256 bytes), `request_id` (the request's
        X-Request-Id) and `detail` (truncated at the log's limit) may be NULL; `outcome` is a
        plexus_audit_outcome. At most 200 records a second per plugin (then
        PLEXUS_E_LIMIT_REACHED). Inputs are copied before the call returns; the record is
        written with the log's next batch. Loop thread only. Returns PLEXUS_OK, or PLEXUS_ERROR
        with last_status PLEXUS_E_INVALID_ARGUMENT naming the argument, or PLEXUS_E_WRONG_STATE
        when the runtime has no audit log. */
    int (*audit_record)(const plexus_host *host, const char *action, const char *actor, const char *tenant, const char *target,
                        const char *request_id, int32_t outcome, const char *detail, plexus_error *error);

    /* ---- ABI 1.9 (PostgreSQL storage): the SQL dialect of this plugin's storage (check struct_size) ---- */
    /** "sqlite" (the plugin's own SQLite file, the default) or "postgresql" (`[cluster] postgres`: the
        plugin's own schema and role on a database every instance shares). Static, never NULL.
        Placeholders stay SQLite's (`?`, `?N`, `:name`) on both: the runtime translates them for
        PostgreSQL. Read it to pick a statement, or a migration's text, where the dialects differ. */
    const char *storage_dialect;

    /* Append new host services below this line, bumping PLEXUS_ABI_MINOR. */
};

/** A dependency on another plugin by name, with a semver range such as ">=1.2.0 <2.0.0" or "^1.2". */
typedef struct plexus_dependency {
    uint32_t struct_size;
    const char *name;
    const char *version_range;
    /** Non-zero: this plugin cannot run without it. Zero: start after it if present. */
    int32_t required;
} plexus_dependency;

/** What `on_health` fills in. */
typedef struct plexus_health {
    uint32_t struct_size;
    int32_t status; /* plexus_health_status */
    plexus_error detail;
} plexus_health;

/**
 * The plugin descriptor returned by the entry symbol. Must stay valid until the process exits.
 * Hooks are called on the loop thread, in this order: on_init, on_start, (on_health)*, on_stop, on_destroy.
 */
typedef struct plexus_plugin {
    uint32_t struct_size;
    /** The ABI this plugin was built against: set to PLEXUS_ABI_MAJOR / PLEXUS_ABI_MINOR. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /** Unique plugin name: lower case letters, digits and '-', starting with a letter. */
    const char *name;
    /** Semantic version of the plugin, e.g. "1.4.2". */
    const char *version;
    const char *description;
    /** Version of the SDK the plugin was built with (for C plugins: the header's "1.0"). */
    const char *sdk_version;
    /** Compiler that built the plugin, e.g. "Swift 6.3.1" or "C". */
    const char *toolchain;
    const plexus_dependency *dependencies;
    uint32_t dependency_count;
    /** The plugin's own context, handed to every hook. */
    void *ctx;

    /** Set up: read config, register routes. Return PLEXUS_ERROR with a message to fail. */
    int (*on_init)(void *ctx, const plexus_host *host, plexus_error *error);
    /** Start serving. PLEXUS_OK, PLEXUS_ERROR, or PLEXUS_PENDING then host->start_complete. */
    int (*on_start)(void *ctx, plexus_error *error);
    /** Begin stopping; call host->stop_complete when done. May be NULL. */
    void (*on_stop)(void *ctx);
    /** Report health into `health`. May be NULL (then always healthy). */
    void (*on_health)(void *ctx, plexus_health *health);
    /** Free everything; called once after the plugin has stopped or failed. May be NULL. */
    void (*on_destroy)(void *ctx);

    /* ---- ABI 1.1 ---- */
    /** Topics this plugin publishes, for the runtime's event catalogue (may be NULL). */
    const plexus_topic_decl *publishes;
    uint32_t publish_count;

    /* ---- ABI 1.3 (starts at offset 136: the padding after publish_count is never read) ---- */
    /** The keys `plugins.d/<name>.toml` may hold, dotted (`limits.max_items`); an entry
        `prefix.*` admits every key under `prefix.`. Read only when `config_keys_declared` is set. */
    const char *const *config_keys;
    uint32_t config_key_count;
    /** Non-zero: `config_keys` is the whole list (it may be empty), and the runtime fails the
        plugin, naming the key, when its file holds another. Zero (and every plugin of ABI 1.2 or
        older): any key is accepted. */
    uint32_t config_keys_declared;

    /* ---- ABI 1.4 ---- */
    /** Plugins that link the Swift runtime: the Swift compiler that built them, as
        major * 10000 + minor * 100 + patch (e.g. 60300 for Swift 6.3), from the Swift SDK.
        The runtime refuses a plugin that needs libswiftCore.so and was built by a Swift whose
        major.minor differs from its own (Swift has no stable ABI on Linux), naming both. 0 (C
        plugins, and Swift plugins of ABI 1.3 or older): the runtime reads `toolchain` instead. */
    uint32_t swift_compiler;

    /* ---- ABI 1.6 (starts at offset 160) ---- */
    /** The runtime gave up on request `token` it handed to this plugin, for `reason` (a
        plexus_abandon_reason): its deadline passed (the client got a 504), its client left, or the
        plugin is being stopped (the client got a 503). The hook runs on the loop thread, never
        inside a host call or a route handler, at most once per token, and only after the handler
        for `token` has returned. Whatever the plugin answers for `token` afterwards is dropped,
        but the plugin still calls `respond` for it once its work ends: a plugin with this hook
        keeps its bulkhead slot for the request until then (or until it stops), so the bulkhead
        bounds work that really runs. Stop the work (the Swift SDK cancels the handler's task).
        NULL (and every plugin of ABI 1.5 or older): nothing is told, the slot is freed at once. */
    void (*on_request_abandoned)(void *ctx, uint64_t token, int32_t reason);
    /* Append new fields below this line, bumping PLEXUS_ABI_MINOR. */
} plexus_plugin;

/** The signature of the entry symbol. */
typedef const plexus_plugin *(*plexus_plugin_entry_fn)(const plexus_host *host);

#ifdef __cplusplus
}
#endif

#endif /* PLEXUS_ABI_H */
