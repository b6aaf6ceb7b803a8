#ifndef PLEXUS_CLIBXML2_SHIM_H
#define PLEXUS_CLIBXML2_SHIM_H
/* Debian's libxml2 (libxml2-dev): the streaming reader (xmlTextReader) that DocDiff's .docx
   reader walks word/document.xml with. Include path from pkg-config libxml-2.0.
   Debian builds libxml2 with ICU, and libxml/encoding.h then includes ICU's headers, whose
   enum UErrorCode clashes with Foundation's own copy of ICU (_FoundationICU) in any Swift file
   that sees both. Nothing here uses the ICU parts of encoding.h (they only add fields at the end
   of xmlCharEncodingHandler, which Swift never touches), so they are left out. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#endif
