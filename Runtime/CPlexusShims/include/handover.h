#ifndef PLEXUS_HANDOVER_H
#define PLEXUS_HANDOVER_H

/* Connection handover between a supervised worker and its master.

   The worker sends every accepted connection's descriptor to the master over a SOCK_SEQPACKET
   socketpair (SCM_RIGHTS), tagged with a slot of a table the two share (a memfd mapped
   MAP_SHARED). The worker keeps the slot's state current with plain atomic stores (no system
   call per request); when the worker dies, the master reads the states and hands every
   connection that sat at a request boundary to the next worker, which adopts it like a fresh
   accept. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** The table's slot count: connections beyond it are served but not handed over. */
#define PLEXUS_HANDOVER_SLOTS 65536u
/** Plugins the table names (slot states refer to them by index), and the bytes of a name. */
#define PLEXUS_HANDOVER_PLUGINS 256u
#define PLEXUS_HANDOVER_NAME_BYTES 128u
#define PLEXUS_HANDOVER_MAGIC 0x504C4843u
/** Layout: a 16-byte header (magic, slot count, plugin count, reserved), the plugin names, the slots. */
#define PLEXUS_HANDOVER_NAMES_OFFSET 16u
#define PLEXUS_HANDOVER_SLOTS_OFFSET (PLEXUS_HANDOVER_NAMES_OFFSET + PLEXUS_HANDOVER_PLUGINS * PLEXUS_HANDOVER_NAME_BYTES)
#define PLEXUS_HANDOVER_TABLE_BYTES (PLEXUS_HANDOVER_SLOTS_OFFSET + PLEXUS_HANDOVER_SLOTS * 4u)

/** Slot states. */
static const uint32_t plexus_slot_free = 0;
/** At a request boundary: nothing read and not parsed, nothing unanswered, nothing being written. */
static const uint32_t plexus_slot_idle = 1;
/** A request is being received or handled by the runtime; no byte of its answer left yet. */
static const uint32_t plexus_slot_busy = 2;
/** An answer is partly written, or the connection is a stream or upgraded: only closing is safe. */
static const uint32_t plexus_slot_unsafe = 3;
/** `plexus_slot_plugin + k`: a request is in flight in plugin `k` of the table's names. */
static const uint32_t plexus_slot_plugin = 16;

/** Message words (worker to master): the kind in the top byte, the slot below. */
static const uint32_t plexus_handover_open = 1;   /* a new connection: the message's next descriptor */
static const uint32_t plexus_handover_closed = 2; /* the worker closed it (after shutdown): drop the copy */
/** Descriptors per message at most (below the kernel's SCM_MAX_FD). */
#define PLEXUS_HANDOVER_MAX_FDS 64u
static const uint32_t plexus_handover_max_fds = PLEXUS_HANDOVER_MAX_FDS;
static const uint32_t plexus_handover_slot_count = PLEXUS_HANDOVER_SLOTS;
static const uint32_t plexus_handover_plugin_count = PLEXUS_HANDOVER_PLUGINS;

static inline uint32_t plexus_handover_word(uint32_t kind, uint32_t slot) { return (kind << 24) | (slot & 0xFFFFFFu); }
static inline uint32_t plexus_handover_word_kind(uint32_t word) { return word >> 24; }
static inline uint32_t plexus_handover_word_slot(uint32_t word) { return word & 0xFFFFFFu; }

/** Stores slot `slot`'s state (a plain atomic store: no system call); slots past the table are ignored. */
static inline void plexus_slot_store(void *table, uint32_t slot, uint32_t state) {
    if (slot >= PLEXUS_HANDOVER_SLOTS) return;
    __atomic_store_n((uint32_t *)((char *)table + PLEXUS_HANDOVER_SLOTS_OFFSET) + slot, state, __ATOMIC_RELEASE);
}

/** Slot `slot`'s state; `plexus_slot_unsafe` for a slot past the table. */
static inline uint32_t plexus_slot_load(const void *table, uint32_t slot) {
    if (slot >= PLEXUS_HANDOVER_SLOTS) return plexus_slot_unsafe;
    return __atomic_load_n((const uint32_t *)((const char *)table + PLEXUS_HANDOVER_SLOTS_OFFSET) + slot, __ATOMIC_ACQUIRE);
}

/** Creates the table in a memfd (zeroed, `magic` and `slot_count` set); returns the descriptor
    (close-on-exec, its size sealed) or -errno. */
int plexus_handover_table_create(void);
/** Maps the table behind `fd` (checking its magic); NULL on failure. */
void *plexus_handover_table_map(int fd);
void plexus_handover_table_unmap(void *table);
/** Copies `name` into plugin entry `index` (truncated, NUL-terminated). */
void plexus_handover_table_set_plugin(void *table, uint32_t index, const char *name);
/** Plugin entry `index` ("" past the names written). */
const char *plexus_handover_table_plugin(const void *table, uint32_t index);

/** A close-on-exec, non-blocking SOCK_SEQPACKET socketpair; 0 or -errno. */
int plexus_handover_socketpair(int fds[2]);

/** Sends `count` words and `fd_count` descriptors in one message, without blocking; 0 or -errno. */
int plexus_handover_send(int channel, const uint32_t *words, size_t count, const int *fds, size_t fd_count);

/** Receives one message without blocking: its words (at most `capacity`) and descriptors
    (close-on-exec, at most PLEXUS_HANDOVER_MAX_FDS, count in `fd_count`). Returns the number of
    words, 0 at end of stream, -errno (-EAGAIN: nothing waiting). */
ssize_t plexus_handover_receive(int channel, uint32_t *words, size_t capacity, int *fds, size_t *fd_count);

/** posix_spawn of `path` (own process group, default signal dispositions) with `sources[i]`
    duplicated to `targets[i]` for each of `count` pairs. Returns the pid or -errno. */
pid_t plexus_spawn_with_fds(const char *path, char *const argv[], const int *sources, const int *targets, int count);

/** Raises the soft RLIMIT_NOFILE to the hard one; returns the soft limit now in force. */
long plexus_raise_open_file_limit(void);

#endif
