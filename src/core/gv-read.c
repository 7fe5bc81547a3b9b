/* gv-read.c: reading the members of a serialised GVariant in place (see
 * gv-read.h). */
#include "config.h"
#include "gv-read.h"
#include <string.h>

/* The width of a framing offset in a container of n bytes. */
static gsize
offset_size(gsize n)
{
    if (n > G_MAXUINT32)
        return 8;
    if (n > G_MAXUINT16)
        return 4;
    if (n > G_MAXUINT8)
        return 2;
    return n > 0 ? 1 : 0;
}

/* A little-endian framing offset of `size` bytes (offset_size's widths:
 * one load each, not a loop over the bytes). */
static gsize
read_le(const guchar *p, gsize size)
{
    switch (size) {
    case 1:
        return p[0];
    case 2:
        return (gsize)p[0] | (gsize)p[1] << 8;
    case 4: {
        guint32 v;
        memcpy(&v, p, sizeof v);
        return GUINT32_FROM_LE(v);
    }
    case 8: {
        guint64 v;
        memcpy(&v, p, sizeof v);
        return (gsize)GUINT64_FROM_LE(v);
    }
    default: {
        guint64 v = 0;
        for (gsize i = size; i-- > 0;)
            v = (v << 8) | p[i];
        return (gsize)v;
    }
    }
}

static gsize
align_up(gsize pos, gsize align)
{
    return (pos + align - 1) & ~(align - 1);
}

static bw_gv_span_t
span(const bw_gv_span_t v, gsize start, gsize end)
{
    bw_gv_span_t s = { NULL, 0 };
    if (end > start) {
        s.p = v.p + start;
        s.n = end - start;
    }
    return s;
}

bool
bw_gv_tuple(bw_gv_span_t v, const bw_gv_member_t *m, guint nm, bw_gv_span_t *out)
{
    return bw_gv_tuple_upto(v, m, nm, nm, out);
}

bool
bw_gv_tuple_upto(bw_gv_span_t v, const bw_gv_member_t *m, guint nm, guint upto,
                 bw_gv_span_t *out)
{
    if (nm == 0 || nm > 16 || upto == 0 || upto > nm || (v.n > 0 && v.p == NULL))
        return false;
    /* a framing offset for every variable-size member but the last
     * member, stored from the end backwards */
    gsize frames = 0;
    for (guint k = 0; k + 1 < nm; k++)
        if (m[k].fixed == 0)
            frames++;
    gsize osz = offset_size(v.n);
    if (frames > 0 && (osz == 0 || frames > v.n / osz))
        return false;
    gsize limit = v.n - frames * osz;   /* where the framing offsets start */
    gsize pos = 0, frame = 0;
    for (guint k = 0; k < upto; k++) {
        gsize a = m[k].align;
        if (a == 0 || a > 8 || (a & (a - 1)) != 0)   /* 1, 2, 4 or 8 */
            return false;
        pos = align_up(pos, a);
        gsize end;
        if (m[k].fixed > 0) {
            end = pos + m[k].fixed;
        } else if (k + 1 == nm) {
            end = limit;
        } else {
            frame++;
            end = read_le(v.p + v.n - frame * osz, osz);
        }
        if (pos > limit || end < pos || end > limit)
            return false;
        out[k] = span(v, pos, end);
        pos = end;
    }
    /* a tuple whose last member is of fixed size ends with it */
    if (upto == nm && m[nm - 1].fixed > 0 && pos != limit)
        return false;
    return true;
}

bool
bw_gv_array_init(bw_gv_array_t *a, bw_gv_span_t v, guint align)
{
    memset(a, 0, sizeof *a);
    if (align != 1 && align != 2 && align != 4 && align != 8)
        return false;
    a->v = v;
    a->mask = align;
    if (v.n == 0)
        return true;   /* no element */
    if (v.p == NULL)
        return false;
    a->osz = offset_size(v.n);
    gsize last_end = read_le(v.p + v.n - a->osz, a->osz);
    if (last_end > v.n || (v.n - last_end) % a->osz != 0)
        return false;
    a->table = last_end;
    a->count = (v.n - last_end) / a->osz;
    return true;
}

int
bw_gv_array_next(bw_gv_array_t *a, bw_gv_span_t *out)
{
    if (a->i >= a->count)
        return 0;
    gsize start = a->i == 0 ? 0 : align_up(a->prev_end, a->mask);
    gsize end = read_le(a->v.p + a->table + a->i * a->osz, a->osz);
    if (start > end || end > a->table)
        return -1;
    *out = span(a->v, start, end);
    a->prev_end = end;
    a->i++;
    return 1;
}

/* ------------------------------------------------------------ writing
 * (GLib's gvs_calculate_total_size, gvs_variable_sized_array_serialise
 * and gvs_tuple_serialise, for these cases) */

/* The size of a container of `body` bytes followed by `offsets` framing
 * offsets of the width that size asks. */
static gsize
total_size(gsize body, gsize offsets)
{
    if (body + offsets <= G_MAXUINT8)
        return body + offsets;
    if (body + 2 * offsets <= G_MAXUINT16)
        return body + 2 * offsets;
    if (body + 4 * offsets <= G_MAXUINT32)
        return body + 4 * offsets;
    return body + 8 * offsets;
}

static void
write_le(guchar *p, gsize v, gsize size)
{
    for (gsize i = 0; i < size; i++, v >>= 8)
        p[i] = (guchar)(v & 0xff);
}

gsize
bw_gv_array_size(const bw_gv_span_t *el, gsize n, guint align)
{
    gsize body = 0;
    for (gsize i = 0; i < n; i++)
        body = align_up(body, align) + el[i].n;
    return total_size(body, n);
}

void
bw_gv_array_write(guchar *out, gsize size, const bw_gv_span_t *el, gsize n, guint align)
{
    gsize osz = offset_size(size);
    guchar *frame = out + size - osz * n;
    gsize off = 0;
    for (gsize i = 0; i < n; i++) {
        while (off & (align - 1))
            out[off++] = '\0';
        if (el[i].n > 0)
            memcpy(out + off, el[i].p, el[i].n);
        off += el[i].n;
        write_le(frame, off, osz);
        frame += osz;
    }
}

gsize
bw_gv_tuple_size(const bw_gv_member_t *m, guint nm, const bw_gv_span_t *v)
{
    gsize body = 0, frames = 0;
    for (guint k = 0; k < nm; k++) {
        body = align_up(body, m[k].align) + v[k].n;
        if (m[k].fixed == 0 && k + 1 < nm)
            frames++;
    }
    return total_size(body, frames);
}

void
bw_gv_tuple_write(guchar *out, gsize size, const bw_gv_member_t *m, guint nm,
                  const bw_gv_span_t *v)
{
    gsize osz = offset_size(size);
    gsize end = size, off = 0;
    for (guint k = 0; k < nm; k++) {
        while (off & (m[k].align - 1u))
            out[off++] = '\0';
        if (v[k].n > 0 && v[k].p != NULL)
            memcpy(out + off, v[k].p, v[k].n);
        off += v[k].n;
        if (m[k].fixed == 0 && k + 1 < nm) {
            end -= osz;
            write_le(out + end, off, osz);
        }
    }
    while (off < end)
        out[off++] = '\0';
}

gsize
bw_gv_tuple_member_at(const bw_gv_member_t *m, guint k, const bw_gv_span_t *v)
{
    gsize off = 0;
    for (guint i = 0; i < k; i++)
        off = align_up(off, m[i].align) + v[i].n;
    return align_up(off, m[k].align);
}
