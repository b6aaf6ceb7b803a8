#ifndef PLEXUS_CFFI_SHIM_H
#define PLEXUS_CFFI_SHIM_H
#include <ffi.h>
#include <errno.h>

/* libffi's built-in type descriptors are mutable globals; these accessors hand Swift their
 * addresses without touching shared mutable state from Swift code. */
static inline ffi_type *plexus_ffi_void(void) { return &ffi_type_void; }
static inline ffi_type *plexus_ffi_uint8(void) { return &ffi_type_uint8; }
static inline ffi_type *plexus_ffi_sint8(void) { return &ffi_type_sint8; }
static inline ffi_type *plexus_ffi_uint16(void) { return &ffi_type_uint16; }
static inline ffi_type *plexus_ffi_sint16(void) { return &ffi_type_sint16; }
static inline ffi_type *plexus_ffi_uint32(void) { return &ffi_type_uint32; }
static inline ffi_type *plexus_ffi_sint32(void) { return &ffi_type_sint32; }
static inline ffi_type *plexus_ffi_uint64(void) { return &ffi_type_uint64; }
static inline ffi_type *plexus_ffi_sint64(void) { return &ffi_type_sint64; }
static inline ffi_type *plexus_ffi_float(void) { return &ffi_type_float; }
static inline ffi_type *plexus_ffi_double(void) { return &ffi_type_double; }
static inline ffi_type *plexus_ffi_pointer(void) { return &ffi_type_pointer; }

/* errno of the calling thread, cleared before a native call and read right after it. */
static inline int plexus_ffi_errno(void) { return errno; }
static inline void plexus_ffi_clear_errno(void) { errno = 0; }

#endif
