/*
 * plexus_http.h — small HTTP helpers shared by the runtime and the SDK. Not part of the
 * plugin ABI: nothing here crosses the dlopen boundary (each side links its own copy).
 */
#ifndef PLEXUS_HTTP_H
#define PLEXUS_HTTP_H

#ifdef __cplusplus
extern "C" {
#endif

/** The standard reason phrase of an HTTP status code, or NULL for a code without one. */
const char *plexus_reason_phrase(int status);

#ifdef __cplusplus
}
#endif

#endif /* PLEXUS_HTTP_H */
