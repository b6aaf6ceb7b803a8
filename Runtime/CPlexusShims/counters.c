#include "counters.h"

#include <string.h>

plexus_counter_slot *plexus_counter_claim(plexus_counter_region *region, const char *series) {
    size_t length = strlen(series);
    if (length >= PLEXUS_COUNTER_SERIES_BYTES) return NULL;
    uint32_t index = __atomic_fetch_add(&region->count, 1, __ATOMIC_ACQ_REL);
    if (index >= region->capacity) return NULL;
    plexus_counter_slot *slot = &region->slots[index];
    memcpy(slot->series, series, length + 1);
    __atomic_store_n(&slot->used, 1, __ATOMIC_RELEASE);
    return slot;
}

void plexus_counter_add_single_writer(plexus_counter_slot *slot, double amount) {
    uint64_t *bits = (uint64_t *)&slot->value;
    uint64_t old = __atomic_load_n(bits, __ATOMIC_RELAXED);
    double value;
    memcpy(&value, &old, sizeof value);
    value += amount;
    uint64_t new_bits;
    memcpy(&new_bits, &value, sizeof new_bits);
    __atomic_store_n(bits, new_bits, __ATOMIC_RELEASE);
}

void plexus_counter_add(plexus_counter_slot *slot, double amount) {
    uint64_t *bits = (uint64_t *)&slot->value;
    uint64_t old = __atomic_load_n(bits, __ATOMIC_RELAXED);
    for (;;) {
        double value;
        memcpy(&value, &old, sizeof value);
        value += amount;
        uint64_t new_bits;
        memcpy(&new_bits, &value, sizeof new_bits);
        if (__atomic_compare_exchange_n(bits, &old, new_bits, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) return;
    }
}

double plexus_counter_value(const plexus_counter_slot *slot) {
    uint64_t bits = __atomic_load_n((const uint64_t *)&slot->value, __ATOMIC_ACQUIRE);
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

int plexus_counter_used(const plexus_counter_region *region, uint32_t index) {
    if (index >= region->capacity) return 0;
    return __atomic_load_n(&region->slots[index].used, __ATOMIC_ACQUIRE) == 1;
}

plexus_counter_slot *plexus_counter_at(plexus_counter_region *region, uint32_t index) {
    return &region->slots[index];
}
