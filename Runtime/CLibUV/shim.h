#ifndef PLEXUS_CLIBUV_SHIM_H
#define PLEXUS_CLIBUV_SHIM_H
#include <uv.h>
#endif
