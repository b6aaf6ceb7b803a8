#ifndef PLEXUS_SHIMS_H
#define PLEXUS_SHIMS_H

/** dlopen with RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE. */
void *plexus_dlopen_plugin(const char *path);
/** The last dlerror() text, never NULL. */
const char *plexus_dlerror_text(void);
/** Path of the object that contains `address`, or NULL (dladdr needs _GNU_SOURCE). */
const char *plexus_object_path(const void *address);
/** Ask the kernel to send `signal` to this process when its parent dies. */
int plexus_set_parent_death_signal(int signal);

#endif
