#ifndef PLEXUS_CLIBZIP_SHIM_H
#define PLEXUS_CLIBZIP_SHIM_H
/* Debian's libzip (libzip-dev): opens a .docx upload from memory (a buffer source), checks its
   central directory against its local headers, and inflates one entry chunk by chunk. */
#include <zip.h>
#endif
