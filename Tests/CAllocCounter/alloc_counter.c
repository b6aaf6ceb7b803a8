#define _GNU_SOURCE
#include "alloc_counter.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

/* glibc's allocator under its internal names: the replacements below delegate to it. */
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static _Atomic unsigned long marked_thread; /* a pthread_t; 0: none */
static _Atomic unsigned long allocations;

static _Atomic int trace_fd = -1;
static _Thread_local int tracing_now;

/* Writes the caller's stack as "module+offset" lines, for finding where allocations come from. */
static void trace(void) {
    int fd = atomic_load(&trace_fd);
    if (fd < 0 || tracing_now) return;
    tracing_now = 1;
    void *frames[16];
    int count = backtrace(frames, 16);
    char line[512];
    for (int index = 2; index < count; index++) {
        Dl_info info;
        if (dladdr(frames[index], &info) && info.dli_fname) {
            int length = snprintf(line, sizeof line, "  %s+0x%lx\n", info.dli_fname, (unsigned long)((char *)frames[index] - (char *)info.dli_fbase));
            if (length > 0) write(fd, line, (size_t)length);
        }
    }
    write(fd, "--\n", 3);
    tracing_now = 0;
}

static inline void note(void) {
    unsigned long marked = atomic_load_explicit(&marked_thread, memory_order_relaxed);
    if (marked != 0 && marked == (unsigned long)pthread_self()) {
        atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
        if (atomic_load_explicit(&trace_fd, memory_order_relaxed) >= 0) trace();
    }
}

void plexus_alloc_counter_trace(int fd) { atomic_store(&trace_fd, fd); }

void plexus_alloc_counter_mark_thread(void) { atomic_store(&marked_thread, (unsigned long)pthread_self()); }
void plexus_alloc_counter_unmark(void) { atomic_store(&marked_thread, 0UL); }
unsigned long plexus_alloc_counter_count(void) { return atomic_load(&allocations); }

void *malloc(size_t size) { note(); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { note(); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { note(); return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { note(); return __libc_valloc(size); }
void *pvalloc(size_t size) { note(); return __libc_pvalloc(size); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    note();
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *out = pointer;
    return 0;
}
