/* report-view.c: the header view of the message being read (bw_view_header):
 * one pass over the header block into an index, then each name decoded
 * once.  Apart from the report model (report.c), which the parse front
 * links without GMime. */
#include "bw-parse.h"
#include <string.h>

/* ------------------------------------------------------------ the view */

/* FNV-1a over the ASCII lower case of a field name (bw_view_header
 * computes the same inline). */
static guint32
name_hash(const char *name, size_t len)
{
    guint32 h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        h = (h ^ c) * 16777619u;
    }
    return h != 0 ? h : 1;
}

/* The slot of a name: its own, or the empty one where it would go. */
static bw_view_field_t *
field_slot(const bw_view_index_t *ix, const char *name, size_t len, guint32 h)
{
    size_t i = h & ix->fields_mask;
    for (;;) {
        bw_view_field_t *f = &ix->fields[i];
        if (f->hash == 0)
            return f;
        if (f->hash == h && f->name_len == len && bw_ascii_ncase_eq(ix->hdr + f->line, name, len))
            return f;
        i = (i + 1) & ix->fields_mask;
    }
}

static const char absent[] = "";

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
    /* length, hash and the check for a character no field name holds, in
     * one pass (the detectors ask for ~50 names a message) */
    size_t len = 0;
    guint32 h = 2166136261u;
    bool plain = true;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++, len++) {
        unsigned char c = *p;
        plain &= c != ':' && c != ' ' && c != '\t';
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        h = (h ^ c) * 16777619u;
    }
    if (len == 0 || !plain)
        return scan_lookup(ix, name, 0);
    bw_view_field_t *f = field_slot(ix, name, len, h != 0 ? h : 1);
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
    ix->fields = g_new0(bw_view_field_t, 64);
    ix->fields_mask = 63;
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
                bw_view_field_t *f = field_slot(ix, line, nl, h);
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
        g_free(ix->fields[i].value);
    g_clear_pointer(&ix->fields, g_free);
    if (ix->overflow != NULL) {
        g_hash_table_foreach(ix->overflow, overflow_value_free, NULL);
        g_clear_pointer(&ix->overflow, g_hash_table_unref);
    }
}
