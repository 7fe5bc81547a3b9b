/* report-view.c: the header view of the message being read (bw_view_header):
 * one pass over the header block into an index, then each name decoded
 * once.  Apart from the report model (report.c), which the parse front
 * links without GMime. */
#include "bw-parse.h"
#include <string.h>

/* ------------------------------------------------------------ the view */

/* A hash of a field name that two names equal but for ASCII case share:
 * eight bytes at a time, each byte OR 0x20 (an upper-case letter's lower
 * case; a few non-letters pair up too, which only makes them share a
 * hash: field_slot compares the names themselves).  A byte-by-byte
 * lower-casing hash cost ~11 instructions a byte, for ~22,000 lookups and
 * ~14,000 header lines over the 407 bounces. */
static guint32
name_hash(const char *name, size_t len)
{
    const guint64 fold = G_GUINT64_CONSTANT(0x2020202020202020);
    const guint64 prime = G_GUINT64_CONSTANT(0x100000001b3);
    const unsigned char *p = (const unsigned char *)name;
    guint64 h = (guint64)len * G_GUINT64_CONSTANT(0x9E3779B97F4A7C15);
    if (len >= 8) {
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            guint64 w;
            memcpy(&w, p + i, 8);
            h = (h ^ (w | fold)) * prime;
        }
        if (i < len) {
            /* the last eight bytes, overlapping the words above */
            guint64 w;
            memcpy(&w, p + len - 8, 8);
            h = (h ^ (w | fold)) * prime;
        }
    } else if (len >= 4) {
        guint32 a, b;
        memcpy(&a, p, 4);
        memcpy(&b, p + len - 4, 4);
        h = (h ^ (((guint64)b << 32 | a) | fold)) * prime;
    } else if (len > 0) {
        guint64 w = (guint64)p[0] | (guint64)p[len / 2] << 8 | (guint64)p[len - 1] << 16;
        h = (h ^ (w | fold)) * prime;
    }
    h ^= h >> 33;
    h *= G_GUINT64_CONSTANT(0xff51afd7ed558ccd);
    h ^= h >> 33;
    guint32 r = (guint32)h;
    return r != 0 ? r : 1;
}

/* The slot of a name: its own, or the empty one where it would go; NULL
 * when more than `max_other` other names of its hash and length are
 * compared with it (whole) on the way. */
static bw_view_field_t *
field_probe(const bw_view_index_t *ix, const char *name, size_t len, guint32 h,
            unsigned max_other)
{
    size_t i = h & ix->fields_mask;
    unsigned other = 0;
    for (;;) {
        bw_view_field_t *f = &ix->fields[i];
        if (f->hash == 0)
            return f;
        if (f->hash == h && f->name_len == len) {
            if (bw_ascii_ncase_eq(ix->hdr + f->line, name, len))
                return f;
            if (++other > max_other)
                return NULL;
        }
        i = (i + 1) & ix->fields_mask;
    }
}

/* A looked-up name's slot (the index holds at most
 * BW_VIEW_INDEX_MAX_SAME_HASH + 1 names of one hash: bw_view_index_init). */
static bw_view_field_t *
field_slot(const bw_view_index_t *ix, const char *name, size_t len, guint32 h)
{
    return field_probe(ix, name, len, h, G_MAXUINT);
}

static const char absent[] = "";

/* (slots are found by masking a hash) */
G_STATIC_ASSERT((BW_VIEW_INDEX_INLINE & (BW_VIEW_INDEX_INLINE - 1)) == 0);

/* A name the table does not answer for, looked for by a scan from
 * `from` and remembered: a name past the table of a header block with too
 * many names (from the first line the table could not hold: no earlier
 * line has it), or one no field name can be (white space or a colon in
 * it: from the top, as bw_hdr_get reads it). */
static const char *
scan_lookup(bw_view_index_t *ix, const char *name, size_t from)
{
    char key[80];
    size_t n = strnlen(name, sizeof key - 1);
    for (size_t i = 0; i < n; i++)
        key[i] = g_ascii_tolower(name[i]);
    key[n] = '\0';
    if (ix->overflow == NULL)
        ix->overflow = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *hit = g_hash_table_lookup(ix->overflow, key);
    if (hit == NULL) {
        char *value = bw_hdr_get(ix->hdr + from, ix->hdr_len - from, name);
        hit = value != NULL ? value : absent;
        g_hash_table_insert(ix->overflow, g_strdup(key), (gpointer)hit);
    }
    return hit == absent ? NULL : hit;
}

const char *
bw_view_header(const bw_view_t *v, const char *name)
{
    if (v == NULL || name == NULL)
        return NULL;
    if (v->message != NULL)
        return g_mime_object_get_header(GMIME_OBJECT(v->message), name);
    bw_view_index_t *ix = (bw_view_index_t *)v->priv;
    if (ix == NULL)
        return NULL;
    /* the length, and whether a character no field name holds (a colon, a
     * blank) is in it, in one call (the detectors ask for ~50 names a
     * message) */
    size_t len = strcspn(name, ": \t");
    if (len == 0 || name[len] != '\0')
        return scan_lookup(ix, name, 0);
    bw_view_field_t *f = field_slot(ix, name, len, name_hash(name, len));
    if (f->hash == 0)
        return ix->overflow_from != (size_t)-1 ? scan_lookup(ix, name, ix->overflow_from) : NULL;
    if (!f->decoded) {
        /* the first line with this name starts the search: the value is
         * the one a scan from the top finds */
        f->value = bw_hdr_get(ix->hdr + f->line, ix->hdr_len - f->line, name);
        f->decoded = true;
    }
    return f->value;
}

bool
bw_view_index_start(const bw_view_index_t *ix, const char *name, size_t *from)
{
    size_t len = strlen(name);
    *from = 0;
    if (len == 0 || strpbrk(name, ": \t") != NULL)
        return true;   /* searched from the top, as bw_view_header does */
    const bw_view_field_t *f = field_slot(ix, name, len, name_hash(name, len));
    if (f->hash != 0) {
        *from = f->line;
        return true;
    }
    if (ix->overflow_from != (size_t)-1) {
        *from = ix->overflow_from;
        return true;
    }
    return false;
}

/* Doubles the table (names are only added while it is at most half full,
 * so a lookup always meets an empty slot). */
static void
fields_grow(bw_view_index_t *ix)
{
    size_t old_slots = ix->fields_mask + 1;
    bw_view_field_t *old = ix->fields;
    ix->fields = g_new0(bw_view_field_t, old_slots * 2);
    ix->fields_mask = old_slots * 2 - 1;
    for (size_t i = 0; i < old_slots; i++) {
        if (old[i].hash == 0)
            continue;
        size_t j = old[i].hash & ix->fields_mask;
        while (ix->fields[j].hash != 0)
            j = (j + 1) & ix->fields_mask;
        ix->fields[j] = old[i];
    }
    if (old != ix->inline_fields)
        g_free(old);
}

/* One pass over the header block: the first line of each field name.  A
 * field name is what comes before the line's first colon, less trailing
 * blanks (bw_hdr_find's reading: the name, blanks, a colon); lines that
 * start with a blank continue the previous field. */
void
bw_view_index_init(bw_view_index_t *ix, const char *hdr, size_t hdr_len)
{
    ix->hdr = hdr;
    ix->hdr_len = hdr_len;
    memset(ix->inline_fields, 0, sizeof ix->inline_fields);
    ix->fields = ix->inline_fields;
    ix->fields_mask = BW_VIEW_INDEX_INLINE - 1;
    ix->nfields = 0;
    ix->overflow_from = (size_t)-1;
    ix->overflow = NULL;
    ix->senders_known = false;
    size_t pos = 0;
    while (pos < hdr_len) {
        const char *line = hdr + pos;
        const char *eol = memchr(line, '\n', hdr_len - pos);
        size_t ll = eol ? (size_t)(eol - line) : hdr_len - pos;
        const char *colon = ll > 0 && line[0] != ' ' && line[0] != '\t' ? memchr(line, ':', ll) : NULL;
        if (colon != NULL) {
            size_t nl = (size_t)(colon - line);
            while (nl > 0 && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
                nl--;
            if (nl > 0 && nl <= G_MAXUINT32) {
                guint32 h = name_hash(line, nl);
                /* (more than BW_VIEW_INDEX_MAX_SAME_HASH other names of
                 * its hash: a hostile block can give thousands of names
                 * one hash, and each new one cost a comparison with every
                 * earlier one.  As past the table's size, every name of an
                 * earlier line is in it, and the others are looked for
                 * from this line) */
                bw_view_field_t *f = field_probe(ix, line, nl, h, BW_VIEW_INDEX_MAX_SAME_HASH);
                if (f == NULL) {
                    ix->overflow_from = pos;
                    break;
                }
                if (f->hash == 0) {
                    if (ix->nfields >= BW_VIEW_INDEX_MAX_NAMES) {
                        ix->overflow_from = pos;
                        break;
                    }
                    f->hash = h;
                    f->name_len = (guint32)nl;
                    f->line = pos;
                    if (++ix->nfields * 2 > ix->fields_mask + 1)
                        fields_grow(ix);
                }
            }
        }
        pos += ll + 1;
    }
}

static void
overflow_value_free(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    (void)data;
    if (value != absent)
        g_free(value);
}

void
bw_view_index_clear(bw_view_index_t *ix)
{
    for (size_t i = 0; ix->fields != NULL && i <= ix->fields_mask; i++)
        if (ix->fields[i].value != NULL)
            g_free(ix->fields[i].value);
    if (ix->fields != ix->inline_fields)
        g_free(ix->fields);
    ix->fields = NULL;
    if (ix->overflow != NULL) {
        g_hash_table_foreach(ix->overflow, overflow_value_free, NULL);
        g_clear_pointer(&ix->overflow, g_hash_table_unref);
    }
}
