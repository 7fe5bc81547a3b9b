/* vendor-fallback.c: TEMPORARY stand-ins for vendor.c (the non-standard
 * notice tables, owned by the vendor engineer) so that the parser links
 * before vendor.c lands.  They recognise nothing.  Delete this file and its
 * Makefile.am line as soon as src/core/vendor.c is in BW_CORE_PARSE. */
#include "bw-private.h"

bool
bw_vendor_parse(const bw_view_t *view, bw_report_t *report, size_t *original_offset)
{
    (void)view;
    (void)report;
    *original_offset = (size_t)-1;
    return false;
}

void
bw_vendor_enrich(const bw_view_t *view, bw_report_t *report)
{
    (void)view;
    (void)report;
}
