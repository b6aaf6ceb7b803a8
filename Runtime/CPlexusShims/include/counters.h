#ifndef PLEXUS_COUNTERS_H
#define PLEXUS_COUNTERS_H

#include <stdint.h>

/** Bytes of a series' identity in a slot (name, help and labels, NUL-terminated). */
#define PLEXUS_COUNTER_SERIES_BYTES 496

/** One counter series of a worker, in the supervisor's per-generation counter region (a memfd
    the master maps and passes to the worker, MAP_SHARED, its size sealed). The worker adds to
    `value` as it counts; the master reads it after the worker ended, however it ended, so no
    count is lost to a crash. */
typedef struct plexus_counter_slot {
    /** 1 once `series` is written (release store). */
    uint32_t used;
    uint32_t reserved;
    /** The count (a double, added to atomically). */
    double value;
    char series[PLEXUS_COUNTER_SERIES_BYTES];
} plexus_counter_slot;

typedef struct plexus_counter_region {
    uint32_t magic;
    /** Slots in `slots`. */
    uint32_t capacity;
    /** Slots claimed so far. */
    uint32_t count;
    uint32_t reserved;
    plexus_counter_slot slots[];
} plexus_counter_region;

/** Claims the next free slot for `series`; NULL when the region is full or `series` too long. */
plexus_counter_slot *plexus_counter_claim(plexus_counter_region *region, const char *series);
/** Adds `amount` to the slot's value atomically. */
void plexus_counter_add(plexus_counter_slot *slot, double amount);
/** Adds `amount` to a slot only the calling thread ever writes (a load and a store, no
    read-modify-write: the master still reads a whole value). */
void plexus_counter_add_single_writer(plexus_counter_slot *slot, double amount);
/** The slot's value (atomic load). */
double plexus_counter_value(const plexus_counter_slot *slot);
/** Slot `index` (below `capacity`). */
plexus_counter_slot *plexus_counter_at(plexus_counter_region *region, uint32_t index);
/** Whether slot `index` is claimed and written. */
int plexus_counter_used(const plexus_counter_region *region, uint32_t index);

#endif
