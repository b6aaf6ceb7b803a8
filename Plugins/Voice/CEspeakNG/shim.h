#ifndef PLEXUS_CESPEAKNG_SHIM_H
#define PLEXUS_CESPEAKNG_SHIM_H
#include <espeak-ng/speak_lib.h>
#endif
