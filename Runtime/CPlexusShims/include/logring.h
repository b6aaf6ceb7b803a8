#ifndef PLEXUS_LOGRING_H
#define PLEXUS_LOGRING_H

#include <stdint.h>

/** The head of a worker's access log ring (a memfd the supervisor maps and passes to its worker,
    MAP_SHARED; anonymous memory without a supervisor), followed by `capacity` bytes of records. The loop
    appends whole records and then publishes `head`; the writer thread writes from `tail` and
    publishes `tail` after each write. Both only grow (byte counts since start, positions modulo
    `capacity`). After a crash the master writes what lies between `tail` and `head`. */
typedef struct plexus_log_ring {
    uint32_t magic;
    uint32_t reserved;
    /** Bytes of records after this head. */
    uint64_t capacity;
    /** Bytes appended since start (the loop thread; release store). */
    uint64_t head;
    /** Bytes written to the sink since start (the writer thread; release store). */
    uint64_t tail;
    uint64_t spare[4];
} plexus_log_ring;

/** A memfd named `name` of `bytes` zero bytes for memory the supervisor shares with its worker
    (the access log ring, the counter region): close-on-exec (the spawn's dup2 passes it on), its
    size sealed. Returns the descriptor, or -errno. Nothing of it reaches the disk: it lives in
    memory and is gone once both processes closed and unmapped it. */
int plexus_sealed_memfd(const char *name, uint64_t bytes);

/** Seals a memfd's size (F_SEAL_SHRINK, F_SEAL_GROW, then F_SEAL_SEAL), so that no process
    holding it can shrink it under another's mapping (a SIGBUS on the next read). Returns 0 or -errno. */
int plexus_memfd_seal_size(int fd);
/** 1 when `fd`'s size is sealed as ``plexus_memfd_seal_size`` does, 0 when not, -errno on error. */
int plexus_memfd_size_is_sealed(int fd);

/** An acquire load of one of the ring's counters. */
uint64_t plexus_log_ring_load(const uint64_t *counter);
/** A release store of one of the ring's counters. */
void plexus_log_ring_store(uint64_t *counter, uint64_t value);

#endif
