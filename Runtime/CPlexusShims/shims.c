#define _GNU_SOURCE
#include "shims.h"
#include <dlfcn.h>
#include <stddef.h>
#include <sys/prctl.h>

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
