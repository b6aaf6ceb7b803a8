#ifndef PLEXUS_CHIREDIS_SHIM_H
#define PLEXUS_CHIREDIS_SHIM_H
/* Debian's hiredis 0.14 (libhiredis-dev): the async client and its libuv adapter. The adapter's
   functions are static in its header, so they are compiled here, behind one entry point that
   takes the loop as an opaque pointer (no uv type crosses into Swift through this module). */
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>

/* Attaches an async context to a libuv loop (a `uv_loop_t *`); REDIS_OK or REDIS_ERR. */
static inline int plexus_redis_attach(redisAsyncContext *context, void *loop) {
    return redisLibuvAttach(context, (uv_loop_t *)loop);
}

/* The context's error text (hiredis keeps it in a fixed array). */
static inline const char *plexus_redis_errstr(const redisAsyncContext *context) {
    return context->errstr;
}

/* The user pointer of a context (hiredis hands callbacks a const context). */
static inline void *plexus_redis_data(const redisAsyncContext *context) {
    return context->data;
}
#endif
