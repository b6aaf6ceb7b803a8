#ifndef PLEXUS_CESPEAKNG_SHIM_H
#define PLEXUS_CESPEAKNG_SHIM_H
#include <espeak-ng/speak_lib.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

// Synthesis in a forked child (see SpeechSynthesizer.swift): espeak-ng 1.51 keeps wave-generator state in
// function-local statics (the pitch-flutter index, the glottal-cycle count, the gain control) and draws breath
// and Klatt noise from libc's rand(), none of which its API can reset, so in-process synthesis depends on every
// synthesis before it. A child forked from a parent that never synthesises starts from the same state each time.
// Only C runs in the child; it writes its samples to a pipe and leaves with _exit.

/// The child's pipe; file-scope so that the synthesis callback (a plain function) can reach it.
static int plexus_espeak_child_fd = -1;

static inline int plexus_espeak_write_samples(short *wav, int count, espeak_EVENT *events) {
    (void)events;
    if (wav == NULL || count <= 0) return 0;
    const char *bytes = (const char *)wav;
    size_t left = (size_t)count * sizeof(short);
    while (left > 0) {
        ssize_t written = write(plexus_espeak_child_fd, bytes, left);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return 1; // abort synthesis
        bytes += written;
        left -= (size_t)written;
    }
    return 0;
}

/// How long the synthesis child may write nothing before it is killed (milliseconds).
#define PLEXUS_ESPEAK_CHILD_IDLE_MS 30000

/// Exit statuses of the synthesis child.
enum {
    PLEXUS_ESPEAK_CHILD_OK = 0,
    PLEXUS_ESPEAK_CHILD_UNKNOWN_VOICE = 2,
    PLEXUS_ESPEAK_CHILD_SYNTH_FAILED = 3,
};

/// Speaks `text` with `voice`, `rate` (words per minute) and `pitch` (0-100) in a child forked from the calling
/// process and returns its samples in `*samples` (malloc'd, `*count` of them; free with free()).
/// Returns 0, or -errno when fork, pipe or read failed, or the child's exit status (2: unknown voice,
/// 3: espeak_Synth failed; 128 + signal number when it was killed).
static inline int plexus_espeak_synthesize_isolated(const char *voice, int rate, int pitch, const char *text,
                                                    short **samples, size_t *count) {
    *samples = NULL;
    *count = 0;
    int fds[2];
    // Close-on-exec from the start (a socket pair: SOCK_CLOEXEC needs no feature macro, pipe2 does),
    // so that a process another thread spawns meanwhile never holds the write end open.
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int error = errno;
        close(fds[0]);
        close(fds[1]);
        return -error;
    }
    if (pid == 0) {
        close(fds[0]);
        plexus_espeak_child_fd = fds[1];
        srand(1); // breath and Klatt noise: the same sequence in every child
        espeak_SetSynthCallback(plexus_espeak_write_samples);
        if (espeak_SetVoiceByName(voice) != EE_OK) _exit(PLEXUS_ESPEAK_CHILD_UNKNOWN_VOICE);
        espeak_SetParameter(espeakRATE, rate, 0);
        espeak_SetParameter(espeakPITCH, pitch, 0);
        espeak_ERROR status = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
        _exit(status == EE_OK ? PLEXUS_ESPEAK_CHILD_OK : PLEXUS_ESPEAK_CHILD_SYNTH_FAILED);
    }
    close(fds[1]);
    size_t capacity = 1 << 16, used = 0;
    char *buffer = malloc(capacity);
    int readError = buffer == NULL ? ENOMEM : 0;
    while (readError == 0) {
        if (used == capacity) {
            char *grown = realloc(buffer, capacity * 2);
            if (grown == NULL) { readError = ENOMEM; break; }
            buffer = grown;
            capacity *= 2;
        }
        // A child that writes nothing for PLEXUS_ESPEAK_CHILD_IDLE_MS is killed (it can only hang,
        // e.g. on a lock another thread held at the fork): the synthesis fails instead of waiting forever.
        struct pollfd ready = { .fd = fds[0], .events = POLLIN };
        int polled = poll(&ready, 1, PLEXUS_ESPEAK_CHILD_IDLE_MS);
        if (polled < 0 && errno == EINTR) continue;
        if (polled < 0) { readError = errno; break; }
        if (polled == 0) { kill(pid, SIGKILL); readError = ETIMEDOUT; break; }
        ssize_t got = read(fds[0], buffer + used, capacity - used);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) { readError = errno; break; }
        if (got == 0) break;
        used += (size_t)got;
    }
    close(fds[0]); // a child still writing gets EPIPE and stops
    int status = 0, waited;
    while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
    int result;
    if (readError != 0) result = -readError;
    // Reaped by someone else (SIGCHLD ignored): the samples are all there is to judge by.
    else if (waited < 0) result = used > 0 ? 0 : -ECHILD;
    else if (WIFEXITED(status)) result = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) result = 128 + WTERMSIG(status);
    else result = 255;
    if (result != 0) {
        free(buffer);
        return result;
    }
    *samples = (short *)buffer;
    *count = used / sizeof(short);
    return 0;
}
#endif
