#define _GNU_SOURCE
#include "shims.h"
#include <dlfcn.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

extern char **environ;

void *plexus_dlopen_plugin(const char *path) {
    return dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
}

const char *plexus_dlerror_text(void) {
    const char *text = dlerror();
    return text ? text : "unknown dynamic loader error";
}

const char *plexus_object_path(const void *address) {
    Dl_info info;
    if (dladdr(address, &info) == 0) return NULL;
    return info.dli_fname;
}

int plexus_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
}

static void copy_text(char *target, size_t capacity, const char *text) {
    size_t length = text ? strlen(text) : 0;
    if (length >= capacity) length = capacity - 1;
    if (length) memcpy(target, text, length);
    target[length] = 0;
}

void plexus_blame_set(plexus_blame_record *record, const char *plugin, const char *file, const char *what) {
    __atomic_store_n(&record->active, 0, __ATOMIC_RELEASE);
    copy_text(record->plugin, sizeof record->plugin, plugin);
    copy_text(record->file, sizeof record->file, file);
    copy_text(record->what, sizeof record->what, what);
    __atomic_add_fetch(&record->calls, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&record->active, 1, __ATOMIC_RELEASE);
}

void plexus_blame_reactivate(plexus_blame_record *record) {
    /* The loop thread is the only writer of these fields: no read-modify-write needed. */
    __atomic_store_n(&record->calls, __atomic_load_n(&record->calls, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&record->active, 1, __ATOMIC_RELEASE);
}

void plexus_blame_clear(plexus_blame_record *record) {
    __atomic_store_n(&record->active, 0, __ATOMIC_RELEASE);
}

void plexus_blame_beat(plexus_blame_record *record) {
    __atomic_add_fetch(&record->heartbeat, 1, __ATOMIC_RELEASE);
}

uint64_t plexus_blame_heartbeat(const plexus_blame_record *record) {
    return __atomic_load_n(&record->heartbeat, __ATOMIC_ACQUIRE);
}

void plexus_blame_set_ready(plexus_blame_record *record, uint32_t state, const char *problems) {
    copy_text(record->problems, sizeof record->problems, problems);
    __atomic_store_n(&record->ready, state, __ATOMIC_RELEASE);
}

uint32_t plexus_blame_ready(const plexus_blame_record *record) {
    return __atomic_load_n(&record->ready, __ATOMIC_ACQUIRE);
}

static uint32_t current_thread_id(void) {
    return (uint32_t)syscall(SYS_gettid);
}

void plexus_blame_set_loop_thread(plexus_blame_record *record) {
    __atomic_store_n(&record->loop_thread, current_thread_id(), __ATOMIC_RELEASE);
}

/* The calling thread's slot (-1: none) and how deep its marks nest. */
static __thread int thread_slot = -1;
static __thread int thread_depth;

int plexus_blame_thread_enter(plexus_blame_record *record, const char *plugin, const char *file, const char *what) {
    thread_depth++;
    if (thread_slot < 0) {
        uint32_t me = current_thread_id();
        for (int index = 0; index < PLEXUS_BLAME_THREAD_SLOTS; index++) {
            uint32_t free_slot = 0;
            if (__atomic_compare_exchange_n(&record->threads[index].thread, &free_slot, me, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
                thread_slot = index;
                break;
            }
        }
        if (thread_slot < 0) return -1;
    }
    plexus_blame_slot *slot = &record->threads[thread_slot];
    __atomic_store_n(&slot->active, 0, __ATOMIC_RELEASE);
    copy_text(slot->plugin, sizeof slot->plugin, plugin);
    copy_text(slot->file, sizeof slot->file, file);
    copy_text(slot->what, sizeof slot->what, what);
    __atomic_store_n(&slot->active, 1, __ATOMIC_RELEASE);
    return 0;
}

void plexus_blame_thread_leave(plexus_blame_record *record) {
    if (thread_depth > 0) thread_depth--;
    if (thread_depth > 0 || thread_slot < 0) return;
    plexus_blame_slot *slot = &record->threads[thread_slot];
    __atomic_store_n(&slot->active, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&slot->thread, 0, __ATOMIC_RELEASE);
    thread_slot = -1;
}

static volatile sig_atomic_t hup_count;

static void count_hup(int number) {
    (void)number;
    hup_count = hup_count + 1;
}

int plexus_hup_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = count_hup;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(SIGHUP, &action, NULL);
}

int plexus_hup_take(void) {
    return __atomic_exchange_n(&hup_count, 0, __ATOMIC_SEQ_CST);
}

static volatile sig_atomic_t usr1_count;

static void count_usr1(int number) {
    (void)number;
    usr1_count = usr1_count + 1;
}

int plexus_usr1_install(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = count_usr1;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    return sigaction(SIGUSR1, &action, NULL);
}

int plexus_usr1_take(void) {
    return __atomic_exchange_n(&usr1_count, 0, __ATOMIC_SEQ_CST);
}

static volatile sig_atomic_t signal_count;
static volatile sig_atomic_t signal_last;

static void count_signal(int number) {
    signal_last = number;
    signal_count = signal_count + 1;
}

int plexus_signal_count_install(int number) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = count_signal;
    sigemptyset(&action.sa_mask);
    return sigaction(number, &action, NULL);
}

int plexus_signal_count_take(int *last) {
    sigset_t block, previous;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &previous);
    int count = signal_count;
    signal_count = 0;
    if (last) *last = signal_last;
    sigprocmask(SIG_SETMASK, &previous, NULL);
    return count;
}

pid_t plexus_spawn_with_fd(const char *path, char *const argv[], int listen_fd, int target_fd) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    if (listen_fd != target_fd) posix_spawn_file_actions_adddup2(&actions, listen_fd, target_fd);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = 0;
    int status = posix_spawn(&pid, path, &actions, &attributes, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return status == 0 ? pid : -status;
}

/* ---- Crash flag: tell the master at once, then let the previous handler (the Swift runtime's
   backtracer, or the default action) run. ---- */

static plexus_blame_record *crash_record;
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
#define CRASH_SIGNAL_COUNT (sizeof crash_signals / sizeof crash_signals[0])
static struct sigaction crash_previous[CRASH_SIGNAL_COUNT];

/* The instruction that faulted (or called raise/abort), from the signal's saved context. */
static uint64_t crash_address(void *context) {
    if (context == NULL) return 0;
    const ucontext_t *saved = (const ucontext_t *)context;
#if defined(__x86_64__)
    return (uint64_t)saved->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uint64_t)saved->uc_mcontext.pc;
#else
    (void)saved;
    return 0;
#endif
}

/* Parses the hex number at *text, advancing it. */
static uint64_t parse_hex(const char **text) {
    uint64_t value = 0;
    for (;; (*text)++) {
        char c = **text;
        if (c >= '0' && c <= '9') value = value * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f') value = value * 16 + (uint64_t)(c - 'a' + 10);
        else return value;
    }
}

/* Copies the path of the /proc/self/maps line whose range holds `address` into `out` (only
   async-signal-safe calls: open, read, close). */
static void locate_mapping(uint64_t address, char *out, size_t capacity) {
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buffer[4096], line[1024];
    size_t length = 0;
    ssize_t got;
    while ((got = read(fd, buffer, sizeof buffer)) > 0) {
        for (ssize_t index = 0; index < got; index++) {
            if (buffer[index] != '\n') {
                if (length < sizeof line - 1) line[length++] = buffer[index];
                continue;
            }
            line[length] = 0;
            length = 0;
            const char *cursor = line;
            uint64_t start = parse_hex(&cursor);
            if (*cursor != '-') continue;
            cursor++;
            uint64_t end = parse_hex(&cursor);
            if (address < start || address >= end) continue;
            const char *path = line;
            while (*path && *path != '/') path++;
            copy_text(out, capacity, path);
            close(fd);
            return;
        }
    }
    close(fd);
}

/* The loop thread of a worker whose other thread crashed stops here: it must not accept or read
   another request while the backtrace is written, since the master hands the worker's
   connections to the next worker as soon as it sees the flag. */
static int freeze_signal;

static void freeze_loop(int number) {
    (void)number;
    for (;;) pause();
}

static void crash_flag(int number, siginfo_t *info, void *context) {
    (void)info;
    if (crash_record) {
        uint32_t loop = __atomic_load_n(&crash_record->loop_thread, __ATOMIC_ACQUIRE);
        if (freeze_signal != 0 && loop != 0 && loop != current_thread_id()) {
            syscall(SYS_tgkill, getpid(), (pid_t)loop, freeze_signal);
        }
        /* The first thread to crash is the one to blame. */
        if (__atomic_load_n(&crash_record->reserved, __ATOMIC_SEQ_CST) == 0) {
            __atomic_store_n(&crash_record->crashed_thread, current_thread_id(), __ATOMIC_SEQ_CST);
            uint64_t address = crash_address(context);
            locate_mapping(address, crash_record->crashed_path, sizeof crash_record->crashed_path);
            __atomic_store_n(&crash_record->crashed_address, address, __ATOMIC_SEQ_CST);
        }
        __atomic_store_n(&crash_record->reserved, (uint32_t)number, __ATOMIC_SEQ_CST);
    }
    /* Put the previous handler back and let it see the signal as a real signal: a faulting
       instruction faults again when this handler returns; a raised signal (abort) is raised
       again and delivered once this handler returns. */
    for (size_t index = 0; index < CRASH_SIGNAL_COUNT; index++) {
        if (crash_signals[index] != number) continue;
        sigaction(number, &crash_previous[index], NULL);
        if (info == NULL || info->si_code <= 0) raise(number);
        return;
    }
}

int plexus_crash_flag_install(plexus_blame_record *record) {
    crash_record = record;
    struct sigaction freeze;
    memset(&freeze, 0, sizeof freeze);
    freeze.sa_handler = freeze_loop;
    sigemptyset(&freeze.sa_mask);
    if (sigaction(SIGRTMIN + 5, &freeze, NULL) == 0) freeze_signal = SIGRTMIN + 5;
    for (size_t index = 0; index < CRASH_SIGNAL_COUNT; index++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        if (sigaction(crash_signals[index], NULL, &crash_previous[index]) != 0) return -1;
        action.sa_sigaction = crash_flag;
        action.sa_flags = SA_SIGINFO | (crash_previous[index].sa_flags & SA_ONSTACK);
        sigemptyset(&action.sa_mask);
        if (sigaction(crash_signals[index], &action, NULL) != 0) return -1;
    }
    return 0;
}

uint32_t plexus_crash_signal(const plexus_blame_record *record) {
    return __atomic_load_n(&record->reserved, __ATOMIC_SEQ_CST);
}
