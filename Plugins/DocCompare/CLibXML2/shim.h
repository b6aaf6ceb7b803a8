#ifndef PLEXUS_CLIBXML2_SHIM_H
#define PLEXUS_CLIBXML2_SHIM_H
/* Debian's libxml2 (libxml2-dev): the streaming reader (xmlTextReader) that DocDiff's .docx
   reader walks word/document.xml with. Include path from pkg-config libxml-2.0. */
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#endif
