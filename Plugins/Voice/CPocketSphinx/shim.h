#ifndef PLEXUS_CPOCKETSPHINX_SHIM_H
#define PLEXUS_CPOCKETSPHINX_SHIM_H
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#endif
