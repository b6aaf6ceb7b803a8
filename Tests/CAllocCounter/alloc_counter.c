#define _GNU_SOURCE
#include "alloc_counter.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

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

static inline void note(void) {
    unsigned long marked = atomic_load_explicit(&marked_thread, memory_order_relaxed);
    if (marked != 0 && marked == (unsigned long)pthread_self()) {
        atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    }
}

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
