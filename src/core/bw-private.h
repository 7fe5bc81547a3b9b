/* bw-private.h: internals shared by the core's files; not part of the API. */
#ifndef BW_PRIVATE_H
#define BW_PRIVATE_H

#include "bw.h"
#include <gmime/gmime.h>
#include <glib/gi18n-lib.h>

/* GMime 3.2 defines no autoptr cleanups: add them once, here. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeObject, g_object_unref)

/* Set *detail (when non-NULL) to a printf-formatted message. */
void bw_set_detail(char **detail, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* ASCII case-insensitive search of `needle` in the first `hay_len` bytes of
 * `hay`; linear in hay_len * needle_len at worst, with a first-byte skip. */
const char *bw_memcasestr(const char *hay, size_t hay_len, const char *needle);

/* Copy of s with leading/trailing white space removed and inner runs of
 * white space (including folded line ends) collapsed to one space. */
char *bw_strdup_squeezed(const char *s, size_t len);

#endif /* BW_PRIVATE_H */
