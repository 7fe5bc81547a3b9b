/* gv-read.h: reading the members of a serialised GVariant in place.
 *
 * g_variant_get_child_value() costs ~1,200 instructions a child (a new
 * GVariant, its type info, GLib's framing checks): the snapshot's sent
 * messages and entries took ~8,500 of them in a hook run at 160k messages.
 * These read the same framing (GVariant's serialisation: framing offsets
 * at a container's end, little-endian, of the width its size asks;
 * members aligned from the container's start) and give the bytes of a
 * member where they lie.
 *
 * Strict: on bytes in normal form (what g_variant_store() writes) they
 * give exactly the spans GLib's accessors give; anything else (an offset
 * out of range or out of order, a fixed-size member of the wrong size,
 * a frame table that does not divide) makes them fail, and the caller
 * reads through GLib instead.  They never read outside the bytes given. */
#ifndef BW_GV_READ_H
#define BW_GV_READ_H
#include <glib.h>
#include <stdbool.h>

typedef struct {
    const guchar *p;   /* NULL when n is 0 */
    gsize n;
} bw_gv_span_t;

/* A member of a tuple type: its alignment (1, 2, 4 or 8) and, for a
 * fixed-size type, its size (0: variable-size). */
typedef struct {
    guint8 align;
    guint8 fixed;
} bw_gv_member_t;

/* The spans of the `nm` members of a tuple (nm <= 16) serialised in `v`. */
bool bw_gv_tuple(bw_gv_span_t v, const bw_gv_member_t *m, guint nm, bw_gv_span_t *out);
/* The same for its first `upto` members only (out[0..upto)), read alike:
 * the members after them are not looked at. */
bool bw_gv_tuple_upto(bw_gv_span_t v, const bw_gv_member_t *m, guint nm, guint upto,
                      bw_gv_span_t *out);

/* The elements of an array of variable-size elements, each aligned to
 * `align`, one after the other. */
typedef struct {
    bw_gv_span_t v;
    gsize osz, table, count, i, prev_end;
    gsize mask;
} bw_gv_array_t;

bool bw_gv_array_init(bw_gv_array_t *a, bw_gv_span_t v, guint align);
/* 1: *out is the next element; 0: none left; -1: damaged. */
int bw_gv_array_next(bw_gv_array_t *a, bw_gv_span_t *out);

/* Writing, as g_variant_store() writes: the serialised size, then the
 * bytes (`size` of them) of an array of variable-size elements, each
 * aligned to `align` and given serialised... */
gsize bw_gv_array_size(const bw_gv_span_t *el, gsize n, guint align);
void bw_gv_array_write(guchar *out, gsize size, const bw_gv_span_t *el, gsize n, guint align);
/* ... and of a tuple of `nm` members (a fixed-size one given as exactly
 * its bytes), not all of fixed size.  A member given with n bytes at NULL
 * is left for the caller to write there (bw_gv_tuple_member_at): its bytes
 * are not touched. */
gsize bw_gv_tuple_size(const bw_gv_member_t *m, guint nm, const bw_gv_span_t *v);
void bw_gv_tuple_write(guchar *out, gsize size, const bw_gv_member_t *m, guint nm,
                       const bw_gv_span_t *v);
/* Where member k of such a tuple starts. */
gsize bw_gv_tuple_member_at(const bw_gv_member_t *m, guint k, const bw_gv_span_t *v);

#endif
