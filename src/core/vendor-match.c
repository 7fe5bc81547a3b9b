/* vendor-match.c: an Aho-Corasick matcher over fixed strings.
 *
 * The vendor detectors and the reason tables look for hundreds of phrases in
 * text written by strangers.  One automaton scans a text once, in time linear
 * in its length plus the number of matches, whatever the patterns: no
 * backtracking, so no input can make it slow.  Case folding (ASCII) and the
 * collapsing of white space runs happen on the fly, so a phrase wrapped over
 * two lines of a notice still matches and no normalised copy is made.
 *
 * The scan follows a dense transition table (one load per byte of text)
 * instead of walking sibling lists and failure links: the bytes that occur
 * in no pattern share one class, so a row has as many entries as the
 * patterns have distinct bytes (at most ~110 for the tables, 16-bit
 * states: ~2.4 MB for the largest automaton).  The phrase tables' automata
 * are built by make (matcher-gen.c, matcher-prebuilt.c): bw_matcher_new
 * hands those out as constant data; any other list is built here. */
#include "bw-vendor.h"
#include "bw-matcher-private.h"
#include <string.h>

/* Fills the transition table from the trie and its failure links: a
 * state's move on a byte is its child on it, else its failure state's move
 * (computed before it: failure states are shallower, rows are filled in
 * breadth-first order). */
static void build_table(bw_matcher_t *m, const guint32 *order, guint32 norder);

#define NODE(m, i) (&g_array_index((m)->node_store, ac_node_t, (i)))

static inline bool
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* ASCII lower case without a function call per byte (the scan's hot path). */
static inline unsigned char
lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Folds a two-byte UTF-8 upper-case letter of Latin-1 (U+00C0-U+00DE) or
 * Cyrillic (U+0400-U+042F) to lower case in place; other pairs are left
 * alone.  Enough for the French, German, Spanish, Portuguese and Russian
 * phrases of the tables; CJK has no case. */
static inline void
fold_pair(unsigned char *a, unsigned char *b)
{
    if (*a == 0xC3 && *b >= 0x80 && *b <= 0x9E && *b != 0x97) {
        *b += 0x20;                             /* À..Þ -> à..þ */
    } else if (*a == 0xD0 && *b >= 0x90 && *b <= 0x9F) {
        *b += 0x20;                             /* А..П -> а..п */
    } else if (*a == 0xD0 && *b >= 0xA0 && *b <= 0xAF) {
        *a = 0xD1;                              /* Р..Я -> р..я */
        *b -= 0x20;
    } else if (*a == 0xD0 && *b >= 0x80 && *b <= 0x8F) {
        *a = 0xD1;                              /* Ѐ..Џ -> ѐ..џ */
        *b += 0x10;
    }
}

static guint32
child_of(const bw_matcher_t *m, guint32 state, guint8 c)
{
    if (state == 0)
        return m->root_next[c];
    for (guint32 k = NODE(m, state)->first_child; k != 0; k = NODE(m, k)->next_sibling)
        if (NODE(m, k)->byte == c)
            return k;
    return 0;
}

void (*bw_matcher_built_hook)(const bw_matcher_t *m, guint64 key);

guint64
bw_matcher_key(const char *const *patterns, size_t n)
{
    guint64 h = G_GUINT64_CONSTANT(0xcbf29ce484222325);
    const guint64 prime = G_GUINT64_CONSTANT(0x100000001b3);
    for (size_t k = 0; k < sizeof n; k++) {
        h ^= (guint8)(n >> (8 * k));
        h *= prime;
    }
    for (size_t id = 0; id < n; id++) {
        const char *p = patterns[id];
        if (p == NULL) {
            h ^= 0xFF;
            h *= prime;
            continue;
        }
        do {
            h ^= (guint8)*p;
            h *= prime;
        } while (*p++ != '\0');
    }
    return h;
}

void (*bw_matcher_served_hook)(const bw_matcher_t *m, const char *const *patterns, size_t n);

bw_matcher_t *
bw_matcher_new(const char *const *patterns, size_t n)
{
    /* The phrase tables' automata were built by make (matcher-gen.c):
     * constant data the process maps on demand, nothing to build. */
    const bw_matcher_t *prebuilt = bw_matcher_prebuilt_find(bw_matcher_key(patterns, n), n);
    if (prebuilt != NULL) {
        if (bw_matcher_served_hook != NULL)
            bw_matcher_served_hook(prebuilt, patterns, n);
        return (bw_matcher_t *)prebuilt;   /* never written: see bw_matcher_free */
    }
    return bw_matcher_build(patterns, n);
}

bw_matcher_t *
bw_matcher_build(const char *const *patterns, size_t n)
{
    bw_matcher_t *m = g_new0(bw_matcher_t, 1);
    m->node_store = g_array_new(FALSE, TRUE, sizeof(ac_node_t));
    ac_node_t root = {0, 0, 0, 0, -1, 0};
    g_array_append_val(m->node_store, root);
    m->npatterns = n;
    gint32 *out_next = g_new(gint32, n > 0 ? n : 1);
    guint16 *plen = g_new0(guint16, n > 0 ? n : 1);
    bool *anchored = g_new0(bool, n > 0 ? n : 1);
    m->out_next = out_next;
    m->plen = plen;
    m->anchored = anchored;

    for (size_t id = 0; id < n; id++) {
        out_next[id] = -1;
        const char *p = patterns[id];
        if (p == NULL)
            continue;
        if (*p == '^') {
            anchored[id] = true;
            p++;
        }
        /* Normalise exactly as the scanner does. */
        char buf[BW_MATCH_MAX_PATTERN + 2];
        size_t blen = 0;
        bool space = false, too_long = false;
        for (; *p != '\0'; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == 0xE2 && (unsigned char)p[1] == 0x80 && ((unsigned char)p[2] == 0x98
                                                            || (unsigned char)p[2] == 0x99)) {
                c = '\'';   /* typographic apostrophes, as the scanner reads them */
                p += 2;
            } else if ((c == 0xC3 || c == 0xD0) && p[1] != '\0') {
                unsigned char a = c, b = (unsigned char)p[1];
                fold_pair(&a, &b);
                if (blen + 2 > BW_MATCH_MAX_PATTERN) {
                    too_long = true;
                    break;
                }
                buf[blen++] = (char)a;
                buf[blen++] = (char)b;
                space = false;
                p++;
                continue;
            }
            if (is_space(c)) {
                if (space)
                    continue;
                space = true;
                c = ' ';
            } else {
                space = false;
                c = lower(c);
            }
            if (blen >= BW_MATCH_MAX_PATTERN) {
                too_long = true;
                break;
            }
            buf[blen++] = (char)c;
        }
        if (too_long || blen == 0)
            continue;
        plen[id] = (guint16)blen;
        guint32 state = 0;
        for (size_t i = 0; i < blen; i++) {
            guint8 c = (guint8)buf[i];
            guint32 next = child_of(m, state, c);
            if (next == 0) {
                ac_node_t node = {0, 0, 0, 0, -1, c};
                next = m->node_store->len;
                g_array_append_val(m->node_store, node);
                if (state == 0) {
                    m->root_next[c] = next;
                } else {
                    NODE(m, next)->next_sibling = NODE(m, state)->first_child;
                    NODE(m, state)->first_child = next;
                }
            }
            state = next;
        }
        /* Chain the id in front of the node's outputs. */
        out_next[id] = NODE(m, state)->out;
        NODE(m, state)->out = (gint32)id;
    }

    /* Breadth-first: failure and dictionary links.  The order array is
     * its own queue (a node is appended when its parent is taken, so
     * order[head..norder) are the nodes still to visit): no allocation
     * per node. */
    guint32 *order = g_new(guint32, m->node_store->len);
    guint32 norder = 0, head = 1;
    order[norder++] = 0;
    for (unsigned c = 0; c < 256; c++)
        if (m->root_next[c] != 0) {
            NODE(m, m->root_next[c])->fail = 0;
            order[norder++] = m->root_next[c];
        }
    while (head < norder) {
        guint32 v = order[head++];
        for (guint32 u = NODE(m, v)->first_child; u != 0; u = NODE(m, u)->next_sibling) {
            guint8 c = NODE(m, u)->byte;
            guint32 f = NODE(m, v)->fail;
            guint32 t;
            while ((t = child_of(m, f, c)) == 0 && f != 0)
                f = NODE(m, f)->fail;
            if (t == u)
                t = 0;
            NODE(m, u)->fail = t;
            NODE(m, u)->dict = NODE(m, t)->out >= 0 ? t : NODE(m, t)->dict;
            order[norder++] = u;
        }
    }
    build_table(m, order, norder);
    g_free(order);
    m->nodes = (const ac_node_t *)(void *)m->node_store->data;
    m->nnodes = m->node_store->len;
    if (bw_matcher_built_hook != NULL)
        bw_matcher_built_hook(m, bw_matcher_key(patterns, n));
    return m;
}

/* A table entry: the state, flagged when some pattern ends there. */
static guint16
with_output(const bw_matcher_t *m, guint32 state)
{
    const ac_node_t *n = NODE(m, state);
    return (guint16)(state | (n->out >= 0 || n->dict != 0 ? DELTA_OUTPUT : 0));
}

static void
build_table(bw_matcher_t *m, const guint32 *order, guint32 norder)
{
    guint32 nstates = m->node_store->len;
    if (nstates > DELTA_STATE || norder != nstates)
        return;     /* (DELTA_STATE itself is no state: see DELTA_ESCAPE) */
    guint8 class_byte[256];             /* the byte of each class but 0 */
    m->nclasses = 1;
    for (guint32 i = 1; i < nstates; i++) {
        guint8 b = NODE(m, i)->byte;
        if (m->byte_class[b] == 0) {
            class_byte[m->nclasses] = b;
            m->byte_class[b] = (guint8)m->nclasses++;
        }
    }
    if (m->nclasses > 254)
        return;     /* no classes left for the run's blank and the escape:
                       the scan walks the trie */
    /* the run's blank and the escape class, last (see run_class) */
    const guint32 blank = m->nclasses++;
    const guint32 esc = m->nclasses++;
    guint32 nc = m->nclasses;
    guint16 *delta = g_new0(guint16, (gsize)nstates * nc);
    m->delta = delta;
    /* Upper-case ASCII reads as its lower case (the scan folds nothing
     * on its fast path). */
    for (unsigned c = 'A'; c <= 'Z'; c++)
        m->byte_class[c] = m->byte_class[c + 32];
    /* the bytes the scan feeds as they are (bw_matcher_runs_as_is) go
     * through its fast path; any other leaves it */
    for (unsigned c = 0; c < 256; c++)
        m->run_class[c] = bw_matcher_runs_as_is((unsigned char)c) ? m->byte_class[c] : (guint8)esc;
    m->run_class[' '] = (guint8)blank;
    for (guint32 k = 1; k < blank; k++)
        delta[k] = with_output(m, m->root_next[class_byte[k]]);
    /* every row copies it from its failure state's, the root's first, and
     * no child is reached on it */
    delta[esc] = DELTA_ESCAPE;
    /* A space on the run: the move on ' ' where the byte before was no
     * blank, which the state tells: a state reached on a blank is one
     * whose byte is ' ', and leaves the run on it (the scan skips a blank
     * after a blank), or the root when no pattern starts with a blank
     * (else the root's child on ' ' is such a state), whose move on ' ' is
     * the root itself: a second blank read there changes nothing, as the
     * one skipped. */
    delta[blank] = delta[m->byte_class[' ']];
    for (guint32 o = 1; o < norder; o++) {
        guint32 u = order[o];
        guint16 *row = delta + (gsize)u * nc;
        const guint16 *fail_row = delta + (gsize)NODE(m, u)->fail * nc;
        memcpy(row, fail_row, nc * sizeof *row);
        for (guint32 k = NODE(m, u)->first_child; k != 0; k = NODE(m, k)->next_sibling)
            row[m->byte_class[NODE(m, k)->byte]] = with_output(m, k);
        row[blank] = NODE(m, u)->byte == ' ' ? DELTA_ESCAPE : row[m->byte_class[' ']];
    }
}

void
bw_matcher_free(bw_matcher_t *m)
{
    if (m == NULL || m->prebuilt)
        return;     /* a prebuilt automaton is constant data, never freed */
    g_array_unref(m->node_store);
    g_free((gpointer)m->out_next);
    g_free((gpointer)m->plen);
    g_free((gpointer)m->anchored);
    g_free((gpointer)m->delta);
    g_free(m);
}

/* Where a match starts in the real text: the normalised bytes map to the
 * text's offsets by a difference that grows where bytes are skipped (a
 * run of white space read as one, a typographic apostrophe read as one
 * byte).  The scan records each place the difference changes, not every
 * byte's offset (a store per byte of the hot loop); a match looks back
 * through the last of them.  Places have distinct normalised indices, and
 * fewer than BW_MATCH_MAX_PATTERN lie inside a pattern, so a ring of
 * BREAKS keeps the one a match needs. */
#define BREAKS 512
G_STATIC_ASSERT(BREAKS > 2 * BW_MATCH_MAX_PATTERN);

typedef struct {
    size_t at[BREAKS];           /* the normalised index from which... */
    size_t diff[BREAKS];         /* ...the text offset is index + diff */
    size_t n;                    /* recorded so far */
    size_t cur;                  /* the difference in force */
} breaks_t;

/* The normalised byte `k` is read at text offset `i`. */
static inline void
breaks_note(breaks_t *b, size_t k, size_t i)
{
    if (i != k + b->cur) {
        b->cur = i - k;
        b->at[b->n % BREAKS] = k;
        b->diff[b->n % BREAKS] = b->cur;
        b->n++;
    }
}

/* The text offset of normalised byte `k` (one of the last patterns'). */
static size_t
breaks_offset(const breaks_t *b, size_t k)
{
    for (size_t j = b->n; j-- > 0 && j + BREAKS >= b->n;)
        if (b->at[j % BREAKS] <= k)
            return k + b->diff[j % BREAKS];
    return k;
}

static bool
at_line_start(const char *text, size_t start)
{
    /* Allow indentation and "> " quote marks (a forwarded notice); bounded
     * look-back. */
    size_t k = start, steps = 0;
    while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t' || text[k - 1] == '>')
           && steps < 64) {
        k--;
        steps++;
    }
    return k == 0 || text[k - 1] == '\n' || text[k - 1] == '\r';
}

/* The hot loop of bw_matcher_scan, on its own so that the compiler keeps
 * the tables in registers (inside the scan, with everything else live,
 * it reloaded them from the stack for every byte): feeds printable ASCII
 * and single blanks (as ' ') from p, whose byte is c (printable ASCII),
 * while they come.  Returns the byte where a pattern ends (*hit set),
 * else the byte after the last one fed (one the caller reads, or the
 * end).  Every byte from p on is fed until then, so "the last byte fed
 * was a blank" is the byte before the one read, and no flag is kept per
 * byte; a state without DELTA_OUTPUT is the table's entry itself. */
static G_GNUC_NO_INLINE const unsigned char *
scan_run(const guint16 *delta, const guint8 *byte_class, const guint8 *run_class, gsize nclasses,
         const unsigned char *p, const unsigned char *end, unsigned char c, guint32 *state_io,
         bool *space_io, bool *hit)
{
    gsize state = *state_io;
    gsize e = delta[state * nclasses + byte_class[c]];
    for (;;) {
        if (G_UNLIKELY(e & DELTA_OUTPUT))
            break;
        /* printable ASCII ('!' to DEL) and the spaces between words, the
         * bulk of any notice: any other byte (and a space after a blank)
         * is the escape class, whose entry is DELTA_ESCAPE, so one
         * test per byte leaves on a match or on such a byte.  Only the
         * row of the state is kept; the state is read back from it on
         * the way out. */
        const guint16 *row = delta + e * nclasses;
        unsigned int x;
        for (;;) {
            /* four bytes a round while four remain: one end test for
             * four bytes instead of one each (the same entries read, in
             * the same order, as the byte-at-a-time loop below) */
            if (end - p > 4) {
                x = row[run_class[p[1]]];
                if (G_UNLIKELY(x & DELTA_OUTPUT)) {
                    p += 1;
                    break;
                }
                row = delta + (gsize)x * nclasses;
                x = row[run_class[p[2]]];
                if (G_UNLIKELY(x & DELTA_OUTPUT)) {
                    p += 2;
                    break;
                }
                row = delta + (gsize)x * nclasses;
                x = row[run_class[p[3]]];
                if (G_UNLIKELY(x & DELTA_OUTPUT)) {
                    p += 3;
                    break;
                }
                row = delta + (gsize)x * nclasses;
                p += 4;
                x = row[run_class[*p]];
                if (G_UNLIKELY(x & DELTA_OUTPUT))
                    break;
                row = delta + (gsize)x * nclasses;
                continue;
            }
            if (++p >= end) {
                *space_io = is_space(p[-1]);
                *state_io = (guint32)((gsize)(row - delta) / nclasses);
                return p;
            }
            x = row[run_class[*p]];
            if (G_UNLIKELY(x & DELTA_OUTPUT))
                break;
            row = delta + (gsize)x * nclasses;
        }
        e = x;
        if (e != DELTA_ESCAPE)
            goto out;
        if (!is_space(*p) || is_space(p[-1])) {
            *space_io = is_space(p[-1]);
            *state_io = (guint32)((gsize)(row - delta) / nclasses);
            return p;           /* the caller reads it */
        }
        /* the first blank of a run (a tab, a line break) reads as ' ' */
        e = row[byte_class[' ']];
    }
out:
    *hit = true;
    *space_io = is_space(*p);
    *state_io = (guint32)(e & DELTA_STATE);
    return p;
}

void
bw_matcher_scan(const bw_matcher_t *m, const char *text, size_t len,
                bw_match_fn fn, void *data)
{
    if (m == NULL || text == NULL)
        return;
    breaks_t br;
    br.n = 0;
    br.cur = 0;
    size_t emitted = 0;          /* normalised bytes produced so far */
    guint32 state = 0;
    /* Locals, so the compiler keeps them in registers across the callback
     * (the hot loop; see vendor-match.c's header comment). */
    const ac_node_t *nodes = m->nodes;
    const guint32 *root_next = m->root_next;
    const guint16 *delta = m->delta;
    const guint8 *byte_class = m->byte_class;
    const guint8 *run_class = m->run_class;
    const gsize nclasses = m->nclasses;
    bool prev_space = false;
    unsigned char pending = 0;   /* second byte of a folded pair */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        size_t skip = 0;             /* extra bytes consumed by this one */
        if (pending == 0 && bw_matcher_runs_as_is(c)) {
            /* printable ASCII, the bulk of any notice, and the bytes of
             * other scripts: the fast path (the table folds the case
             * itself) */
            prev_space = false;
            if (delta != NULL) {
                /* the whole run of such bytes, in this inner loop: each
                 * byte as above, without the outer tests */
                breaks_note(&br, emitted, i);
                /* one byte read, one byte fed: the normalised index is
                 * the offset plus `shift` in there */
                const size_t shift = emitted - i;
                bool space = false, hit = false;
                const unsigned char *q = scan_run(delta, byte_class, run_class, nclasses,
                                                  (const unsigned char *)text + i,
                                                  (const unsigned char *)text + len, c, &state,
                                                  &space, &hit);
                /* the last byte fed: where it stopped on a match, else the
                 * one before */
                i = (size_t)(q - (const unsigned char *)text) - (hit ? 0 : 1);
                emitted = i + shift + 1;
                prev_space = space;
                if (hit)
                    goto matched;
                continue;
            }
            c = lower(c);
        } else if (pending != 0) {
            c = pending;
            pending = 0;
        } else if (c == '\0') {
            break;
        } else if (c == 0xE2 && i + 2 < len && (unsigned char)text[i + 1] == 0x80
                   && ((unsigned char)text[i + 2] == 0x98 || (unsigned char)text[i + 2] == 0x99)) {
            /* Exchange writes "couldn’t": read U+2018/U+2019 as an ASCII
             * apostrophe (the pattern bytes fed are one, at offset i) */
            c = '\'';
            prev_space = false;
            skip = 2;
        } else if ((c == 0xC3 || c == 0xD0) && i + 1 < len && text[i + 1] != '\0') {
            unsigned char b = (unsigned char)text[i + 1];
            fold_pair(&c, &b);
            pending = b;         /* fed at i + 1, in place of the raw byte */
            prev_space = false;
        } else if (is_space(c)) {
            if (prev_space) {
                /* the rest of the run too: each of its blanks would come
                 * back here and be skipped the same way */
                while (i + 1 < len && is_space((unsigned char)text[i + 1]))
                    i++;
                continue;
            }
            prev_space = true;
            c = ' ';
        } else {
            prev_space = false;
            c = lower(c);
        }
        breaks_note(&br, emitted, i);
        emitted++;
        i += skip;
        if (delta != NULL) {
            guint16 e = delta[(gsize)state * nclasses + byte_class[c]];
            state = e & DELTA_STATE;
            if (!(e & DELTA_OUTPUT))
                continue;
        } else {
            guint32 t = 0;
            for (;;) {
                if (state == 0) {
                    t = root_next[c];
                    break;
                }
                for (t = nodes[state].first_child; t != 0 && nodes[t].byte != c;
                     t = nodes[t].next_sibling)
                    ;
                if (t != 0)
                    break;
                state = nodes[state].fail;
            }
            state = t;
        }
        if (nodes[state].out < 0 && nodes[state].dict == 0)
            continue;   /* the common case: nothing ends here */
    matched:
        for (guint32 s = nodes[state].out >= 0 ? state : nodes[state].dict;
             s != 0; s = nodes[s].dict) {
            for (gint32 id = nodes[s].out; id >= 0; id = m->out_next[id]) {
                size_t start = breaks_offset(&br, emitted - m->plen[id]);
                if (m->anchored[id] && !at_line_start(text, start))
                    continue;
                if (!fn((size_t)id, start, i + 1, data))
                    return;
            }
        }
    }
}
