/* A plain C library (not a Plexus plugin) that native-plugin tests serve through a
 * `*.native.toml` manifest: scalars of every width, structs by value and by pointer with an
 * exported sizeof, strings returned with a free function or with a static lifetime, an error
 * convention with errno, a call that blocks, and one that crashes. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct point {
    int32_t x;
    int32_t y;
    double weight;
};

/* Lets a manifest's struct layout be checked against the compiler's. */
const size_t fixture_point_size = sizeof(struct point);

/* Five fields; a manifest that lists four is caught by this size. */
struct wide {
    int64_t a;
    int64_t b;
    int8_t c;
    double d;
    uint16_t e;
};
const size_t fixture_wide_size = sizeof(struct wide);

double fixture_point_norm(struct point p) {
    return sqrt((double)p.x * p.x + (double)p.y * p.y) * p.weight;
}

struct point fixture_point_scale(struct point p, int32_t factor) {
    struct point scaled = { p.x * factor, p.y * factor, p.weight * factor };
    return scaled;
}

void fixture_point_translate(struct point *p, int32_t dx, int32_t dy) {
    p->x += dx;
    p->y += dy;
}

int64_t fixture_wide_sum(struct wide w) {
    return w.a + w.b + w.c + (int64_t)w.d + w.e;
}

/* Every scalar width once: the sum, so a mis-sized argument shows in the result. */
int64_t fixture_mix(int8_t a, uint8_t b, int16_t c, uint16_t d, int32_t e, uint32_t f, int64_t g, uint64_t h, float x, bool flag) {
    return (int64_t)a + b + c + d + e + f + g + (int64_t)(h % 1000000) + (int64_t)(x * 4) + (flag ? 1000000000 : 0);
}

uint8_t fixture_u8_not(uint8_t value) { return (uint8_t)~value; }
int8_t fixture_i8_negate(int8_t value) { return (int8_t)-value; }
uint64_t fixture_u64_max(void) { return UINT64_MAX; }
int64_t fixture_i64_min(void) { return INT64_MIN; }
float fixture_float_half(float value) { return value / 2; }
bool fixture_is_even(int64_t value) { return value % 2 == 0; }

char *fixture_greet(const char *name) {
    size_t size = strlen(name) + 8;
    char *text = malloc(size);
    snprintf(text, size, "hello, %s", name);
    return text;
}

static int freed;
void fixture_free(char *text) {
    freed++;
    free(text);
}

/* How many strings fixture_free has freed (a test checks every returned string is freed). */
int32_t fixture_freed_count(void) { return freed; }

const char *fixture_version(void) { return "fixture 1.0"; }

/* Fails with -1 and errno = code when code is non-zero, else returns 7. */
int32_t fixture_fail_errno(int32_t code) {
    if (code != 0) {
        errno = code;
        return -1;
    }
    return 7;
}

/* Blocks for `ms` milliseconds (a route timeout is shorter). */
int32_t fixture_sleep(int32_t ms) {
    struct timespec pause = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&pause, NULL);
    return ms;
}

/* Writes through a null pointer when asked. */
int32_t fixture_crash(int32_t really) {
    if (really) {
        volatile int *nowhere = NULL;
        *nowhere = 42;
    }
    return 0;
}

/* Reverses bytes into an output buffer; returns the count written. */
int64_t fixture_reverse(const uint8_t *input, size_t length, uint8_t *output, size_t capacity) {
    size_t count = length < capacity ? length : capacity;
    for (size_t i = 0; i < count; i++) output[i] = input[length - 1 - i];
    return (int64_t)count;
}
