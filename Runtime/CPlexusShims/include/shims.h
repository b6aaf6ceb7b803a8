#ifndef PLEXUS_SHIMS_H
#define PLEXUS_SHIMS_H

/** dlopen with RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE. */
void *plexus_dlopen_plugin(const char *path);
/** The last dlerror() text, never NULL. */
const char *plexus_dlerror_text(void);
/** Path of the object that contains `address`, or NULL (dladdr needs _GNU_SOURCE). */
const char *plexus_object_path(const void *address);
/** Ask the kernel to send `signal` to this process when its parent dies. */
int plexus_set_parent_death_signal(int signal);

#include <stdint.h>
#include <sys/types.h>
#include "counters.h"
#include "logring.h"
/* The supervisor's connection handover (also reached through the module's umbrella directory;
   included here so that a build that already has the module notices the header). */
#include "handover.h"

/** How many threads besides the loop thread can be marked at once (libuv's pool has 4 by default). */
#define PLEXUS_BLAME_THREAD_SLOTS 32

/** One thread's mark in the shared record: which plugin code a pool thread runs now. */
typedef struct plexus_blame_slot {
    /** The kernel thread id holding the slot, 0 when free. */
    uint32_t thread;
    uint32_t active;
    char plugin[128];
    char file[128];
    char what[128];
} plexus_blame_slot;

/** The supervisor's shared record (an mmap'd file, MAP_SHARED): which plugin code the worker
    runs right now, and a heartbeat bumped by the worker's loop. */
typedef struct plexus_blame_record {
    uint32_t magic;
    uint32_t active;
    uint64_t heartbeat;
    uint64_t calls;
    char plugin[128];
    char file[128];
    char what[256];
    /** Set by the worker once started: 1 ready and serving, 2 not ready (`problems` says why). */
    uint32_t ready;
    /** The fatal signal the worker's crash handler caught (0: none), set before the backtrace is written. */
    uint32_t reserved;
    char problems[512];
    /** The kernel thread id of the loop thread, which the fields `active` to `what` describe. */
    uint32_t loop_thread;
    /** The kernel thread id that took the fatal signal (0: none or unknown), set with `reserved`. */
    uint32_t crashed_thread;
    /** Marks of the other threads (the thread pool's off-loop work). */
    plexus_blame_slot threads[PLEXUS_BLAME_THREAD_SLOTS];
    /** The instruction address of the fatal signal (0: unknown), set with `crashed_thread`. */
    uint64_t crashed_address;
    /** The path of the mapping that holds `crashed_address` (empty: none or unknown), read from
        /proc/self/maps by the crash handler while the process still has its mappings. */
    char crashed_path[512];
} plexus_blame_record;

/** Records the calling thread as the loop thread. */
void plexus_blame_set_loop_thread(plexus_blame_record *record);
/** Marks the calling (non-loop) thread as running `plugin`'s `what` until the matching
    `plexus_blame_thread_leave`; calls nest. Returns 0, or -1 when every slot is taken. */
int plexus_blame_thread_enter(plexus_blame_record *record, const char *plugin, const char *file, const char *what);
/** Ends the calling thread's innermost mark; the slot is freed when the outermost one ends. */
void plexus_blame_thread_leave(plexus_blame_record *record);

/** Publishes the worker's readiness (`state` 1 ready, 2 not ready) with `problems`. */
void plexus_blame_set_ready(plexus_blame_record *record, uint32_t state, const char *problems);
uint32_t plexus_blame_ready(const plexus_blame_record *record);

void plexus_blame_set(plexus_blame_record *record, const char *plugin, const char *file, const char *what);
/** Marks the record active again with the texts it already holds (the loop thread's mark repeated). */
void plexus_blame_reactivate(plexus_blame_record *record);
void plexus_blame_clear(plexus_blame_record *record);
void plexus_blame_beat(plexus_blame_record *record);
uint64_t plexus_blame_heartbeat(const plexus_blame_record *record);

/** Installs handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT and SIGTRAP that store the signal in
    `record->reserved` (so the master restarts at once) and then run the handler installed before
    (the Swift runtime's backtracer) or the default action. */
int plexus_crash_flag_install(plexus_blame_record *record);
/** The signal stored by the crash handler, 0 if none. */
uint32_t plexus_crash_signal(const plexus_blame_record *record);

/** Installs a handler for `signal` that only counts deliveries (async-signal-safe). */
int plexus_signal_count_install(int signal);
/** Deliveries of counted signals not taken yet; `last` gets the last signal number. */
int plexus_signal_count_take(int *last);

/** Installs a handler that counts SIGHUP deliveries apart from the other counted signals. */
int plexus_hup_install(void);
/** SIGHUP deliveries not taken yet. */
int plexus_hup_take(void);

/** Installs a handler that counts SIGUSR1 deliveries (the master forwards them to its workers). */
int plexus_usr1_install(void);
/** SIGUSR1 deliveries not taken yet. */
int plexus_usr1_take(void);

/** posix_spawn of `path` with `listen_fd` duplicated to `target_fd`, in its own process group. Returns the pid or -errno. */
pid_t plexus_spawn_with_fd(const char *path, char *const argv[], int listen_fd, int target_fd);

#endif
