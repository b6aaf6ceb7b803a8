/*
 * alloc_counter.h — counts heap allocations made by one thread, for allocation-count tests.
 *
 * Linked only into the test binary: it replaces malloc and its family (glibc supports replacing
 * them) with wrappers that call glibc's own allocator and, when the calling thread is the one
 * marked with plexus_alloc_counter_mark_thread, count the call. Frees are not counted.
 */
#ifndef PLEXUS_ALLOC_COUNTER_H
#define PLEXUS_ALLOC_COUNTER_H

#ifdef __cplusplus
extern "C" {
#endif

/** Counts, from now on, the allocations made by the calling thread (one thread at a time). */
void plexus_alloc_counter_mark_thread(void);
/** Stops counting (no thread marked). */
void plexus_alloc_counter_unmark(void);
/** Writes the stack of each counted allocation to `fd` ("module+offset" lines; -1: stop). */
void plexus_alloc_counter_trace(int fd);
/** Allocations (malloc, calloc, realloc, memalign and relatives) the marked thread made so far. */
unsigned long plexus_alloc_counter_count(void);

#ifdef __cplusplus
}
#endif

#endif
