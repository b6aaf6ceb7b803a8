#define _GNU_SOURCE
#include "logring.h"
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

int plexus_log_ring_memfd(uint64_t bytes) {
    int fd = memfd_create("plexus-access-log", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)bytes) != 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

uint64_t plexus_log_ring_load(const uint64_t *counter) {
    return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

void plexus_log_ring_store(uint64_t *counter, uint64_t value) {
    __atomic_store_n(counter, value, __ATOMIC_RELEASE);
}
