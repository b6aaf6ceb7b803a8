#define _GNU_SOURCE
#include "handover.h"
#include "logring.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

extern char **environ;

typedef struct table_header {
    uint32_t magic;
    uint32_t slot_count;
    uint32_t plugin_count;
    uint32_t reserved;
} table_header;

static void *map_table(int fd) {
    void *memory = mmap(NULL, PLEXUS_HANDOVER_TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return memory == MAP_FAILED ? NULL : memory;
}

int plexus_handover_table_create(void) {
    int fd = memfd_create("plexus-connections", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -errno;
    void *table = NULL;
    // Sealed at its size: a worker cannot shrink the table under the master's mapping.
    if (ftruncate(fd, PLEXUS_HANDOVER_TABLE_BYTES) != 0 || plexus_memfd_seal_size(fd) != 0 || (table = map_table(fd)) == NULL) {
        int error = errno;
        close(fd);
        return -error;
    }
    table_header *header = table;
    header->slot_count = PLEXUS_HANDOVER_SLOTS;
    header->magic = PLEXUS_HANDOVER_MAGIC;
    munmap(table, PLEXUS_HANDOVER_TABLE_BYTES);
    return fd;
}

void *plexus_handover_table_map(int fd) {
    void *table = map_table(fd);
    if (table == NULL) return NULL;
    const table_header *header = table;
    if (header->magic != PLEXUS_HANDOVER_MAGIC || header->slot_count != PLEXUS_HANDOVER_SLOTS) {
        munmap(table, PLEXUS_HANDOVER_TABLE_BYTES);
        errno = EINVAL;
        return NULL;
    }
    return table;
}

void plexus_handover_table_unmap(void *table) {
    if (table) munmap(table, PLEXUS_HANDOVER_TABLE_BYTES);
}

void plexus_handover_table_set_plugin(void *table, uint32_t index, const char *name) {
    if (index >= PLEXUS_HANDOVER_PLUGINS) return;
    char *entry = (char *)table + PLEXUS_HANDOVER_NAMES_OFFSET + (size_t)index * PLEXUS_HANDOVER_NAME_BYTES;
    size_t length = name ? strlen(name) : 0;
    if (length >= PLEXUS_HANDOVER_NAME_BYTES) length = PLEXUS_HANDOVER_NAME_BYTES - 1;
    if (length) memcpy(entry, name, length);
    entry[length] = 0;
    table_header *header = table;
    if (index + 1 > header->plugin_count) __atomic_store_n(&header->plugin_count, index + 1, __ATOMIC_RELEASE);
}

const char *plexus_handover_table_plugin(const void *table, uint32_t index) {
    const table_header *header = table;
    if (index >= PLEXUS_HANDOVER_PLUGINS || index >= __atomic_load_n(&header->plugin_count, __ATOMIC_ACQUIRE)) return "";
    const char *entry = (const char *)table + PLEXUS_HANDOVER_NAMES_OFFSET + (size_t)index * PLEXUS_HANDOVER_NAME_BYTES;
    return memchr(entry, 0, PLEXUS_HANDOVER_NAME_BYTES) ? entry : "";
}

int plexus_handover_socketpair(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) == 0 ? 0 : -errno;
}

int plexus_handover_send(int channel, const uint32_t *words, size_t count, const int *fds, size_t fd_count) {
    if (fd_count > PLEXUS_HANDOVER_MAX_FDS) return -EINVAL;
    struct iovec vector = {(void *)words, count * sizeof(uint32_t)};
    union {
        char buffer[CMSG_SPACE(PLEXUS_HANDOVER_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    if (fd_count > 0) {
        memset(&control, 0, sizeof control);
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE(fd_count * sizeof(int));
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(fd_count * sizeof(int));
        memcpy(CMSG_DATA(header), fds, fd_count * sizeof(int));
    }
    ssize_t sent;
    do {
        sent = sendmsg(channel, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent < 0 ? -errno : 0;
}

ssize_t plexus_handover_receive(int channel, uint32_t *words, size_t capacity, int *fds, size_t *fd_count) {
    struct iovec vector = {words, capacity * sizeof(uint32_t)};
    union {
        char buffer[CMSG_SPACE(PLEXUS_HANDOVER_MAX_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control.buffer;
    message.msg_controllen = sizeof control.buffer;
    *fd_count = 0;
    ssize_t received;
    do {
        received = recvmsg(channel, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (received < 0 && errno == EINTR);
    if (received < 0) return -errno;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const int *passed = (const int *)CMSG_DATA(header);
        for (size_t index = 0; index < count; index++) {
            if (*fd_count < PLEXUS_HANDOVER_MAX_FDS) fds[(*fd_count)++] = passed[index];
            else close(passed[index]);
        }
    }
    if (received == 0 && *fd_count == 0) return 0;
    return received / (ssize_t)sizeof(uint32_t);
}

pid_t plexus_spawn_with_fds(const char *path, char *const argv[], const int *sources, const int *targets, int count) {
    /* Copies above every target first, so that no dup2 overwrites a source still to come. */
    int lifted[8];
    if (count > 8) return -EINVAL;
    for (int index = 0; index < count; index++) {
        lifted[index] = fcntl(sources[index], F_DUPFD_CLOEXEC, 64);
        if (lifted[index] < 0) {
            int error = errno;
            while (index-- > 0) close(lifted[index]);
            return -error;
        }
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    for (int index = 0; index < count; index++) posix_spawn_file_actions_adddup2(&actions, lifted[index], targets[index]);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    /* SIGUSR1 (reopen the access log) stays blocked until the worker has its handler: a
       forwarded one is held instead of killing a worker still starting. */
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR1);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setsigmask(&attributes, &blocked);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = 0;
    int status = posix_spawn(&pid, path, &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    for (int index = 0; index < count; index++) close(lifted[index]);
    return status == 0 ? pid : -status;
}

long plexus_raise_open_file_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
        getrlimit(RLIMIT_NOFILE, &limit);
    }
    return (long)limit.rlim_cur;
}
