#define _GNU_SOURCE
#include "logring.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

int plexus_memfd_seal_size(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0 ? 0 : -errno;
}

int plexus_memfd_size_is_sealed(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return -errno;
    int wanted = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
    return (seals & wanted) == wanted;
}

int plexus_sealed_memfd(const char *name, uint64_t bytes) {
    if (bytes > (uint64_t)INT64_MAX) return -EINVAL;
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    if (ftruncate(fd, (off_t)bytes) != 0 || plexus_memfd_seal_size(fd) != 0) {
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
