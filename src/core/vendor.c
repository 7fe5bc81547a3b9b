/* vendor.c: non-standard failure notices (qmail, Exim, Exchange, Gmail...).
 *
 * The knowledge of each family lives in vendor-table.c; this file only reads
 * it.  The order of work is the one the issue asks for:
 *   1. one pass of an Aho-Corasick automaton over the human-readable text
 *      finds every marker of every family at once (linear time);
 *   2. the quoted original is located first, and no marker after its start
 *      counts as evidence, so a bounce quoted inside a forwarded message or
 *      a notice's own copy of the original cannot trigger a detector;
 *   3. the family is decided from the headers (From, Subject, X-...) and the
 *      markers of the notice part only;
 *   4. then the notice is read line by line between the family's start
 *      marker and the original: lines that name an address start a
 *      recipient's block, the lines after it are its diagnostic.
 * Every scanner is bounded by the text length (BW_MAX_SCAN_BYTES) and by
 * explicit caps on lines, recipients and block sizes. */
#include "bw-vendor.h"
#include "bw-matcher-private.h"
#include "bw-parse.h"
#include "bw-signals-private.h"
#include <string.h>

#define MAX_LINES 20000          /* lines of a notice examined */
#define MAX_BLOCK 8192           /* bytes of text kept per recipient */
#define MAX_TO_LINES 200         /* quoted header lines searched for To: */

/* ------------------------------------------------------------ the automaton */

enum { MK_BODY, MK_START, MK_END, MK_ORIGINAL };

typedef struct {
    int family;     /* index in bw_families, -1 for the shared lists */
    int kind;       /* MK_* */
} marker_meta_t;

static bw_matcher_t *marker_matcher;
static marker_meta_t *marker_meta;
static size_t marker_count;
/* Each family's markers are contiguous: [fam_lo[f], fam_hi[f]). */
static size_t *fam_lo, *fam_hi;
/* The recipient phrases (bw_rcpt_prefixes and every family's rcpt list) in
 * one automaton; prefix_family[id] is the family, -1 for the shared ones. */
static bw_matcher_t *prefix_matcher;
static int *prefix_family;

static void
collect(GPtrArray *pats, GArray *meta, const char *const *list, int family, int kind)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        g_ptr_array_add(pats, (gpointer)list[i]);
        marker_meta_t m = {family, kind};
        g_array_append_val(meta, m);
    }
}

static void
markers_init(void)
{
    static gsize once = 0;
    if (!g_once_init_enter(&once))
        return;
    GPtrArray *pats = g_ptr_array_new();
    GArray *meta = g_array_new(FALSE, FALSE, sizeof(marker_meta_t));
    fam_lo = g_new0(size_t, bw_families_count);
    fam_hi = g_new0(size_t, bw_families_count);
    for (size_t f = 0; f < bw_families_count; f++) {
        fam_lo[f] = pats->len;
        collect(pats, meta, bw_families[f].body, (int)f, MK_BODY);
        collect(pats, meta, bw_families[f].start, (int)f, MK_START);
        collect(pats, meta, bw_families[f].end, (int)f, MK_END);
        fam_hi[f] = pats->len;
    }
    collect(pats, meta, bw_original_markers, -1, MK_ORIGINAL);
    marker_count = pats->len;
    marker_matcher = bw_matcher_new((const char *const *)pats->pdata, pats->len);
    marker_meta = (marker_meta_t *)g_array_free(meta, FALSE);
    g_ptr_array_set_size(pats, 0);
    GArray *pf = g_array_new(FALSE, FALSE, sizeof(int));
    for (size_t f = 0; f <= bw_families_count; f++) {
        const char *const *list = f < bw_families_count ? bw_families[f].rcpt : bw_rcpt_prefixes;
        int fi = f < bw_families_count ? (int)f : -1;
        for (size_t k = 0; list != NULL && list[k] != NULL; k++) {
            g_ptr_array_add(pats, (gpointer)list[k]);
            g_array_append_val(pf, fi);
        }
    }
    prefix_matcher = bw_matcher_new((const char *const *)pats->pdata, pats->len);
    prefix_family = (int *)g_array_free(pf, FALSE);
    g_ptr_array_free(pats, TRUE);
    g_once_init_leave(&once, 1);
}

void
bw_matchers_build_all(void)
{
    markers_init();
    bw_generic_automata_init();
    bw_autoreply_matchers_init();
    (void)bw_reason_from_text_weighted(" ", 1, NULL);
    (void)bw_original_find_marker(" ", 1);
    (void)bw_sig_matcher();
}

typedef struct {
    size_t *first_start;   /* per marker: first occurrence, SIZE_MAX = none */
    size_t *first_end;
    size_t *ids;           /* the markers found, each once */
    size_t n;
} hits_t;

static bool
record_hit(size_t id, size_t start, size_t end, void *data)
{
    hits_t *h = data;
    if (h->first_start[id] == SIZE_MAX) {
        h->first_start[id] = start;
        h->first_end[id] = end;
        h->ids[h->n++] = id;
    }
    return true;
}

bool (*bw_vendor_row_off)(const char *family) = NULL;

/* ------------------------------------------------------------ header checks */

static bool
any_in(const char *value, const char *const *list)
{
    if (value == NULL || list == NULL)
        return false;
    size_t n = strnlen(value, 2048);
    for (size_t i = 0; list[i] != NULL; i++)
        if (bw_memcasestr(value, n, list[i]) != NULL)
            return true;
    return false;
}

/* The bytes of a header value (its first 2048, ASCII letters folded), for
 * pick_family's checks of every family's phrases against the same From
 * and Subject: a phrase with a byte the value lacks is not searched. */
typedef struct {
    const char *value;
    size_t n;
    guint64 bits[4];
} byteset_t;

static void
byteset_init(byteset_t *b, const char *value)
{
    memset(b, 0, sizeof *b);
    b->value = value;
    if (value == NULL)
        return;
    b->n = strnlen(value, 2048);
    for (size_t i = 0; i < b->n; i++) {
        unsigned char c = (unsigned char)bw_ascii_lower(value[i]);
        b->bits[c >> 6] |= (guint64)1 << (c & 63);
    }
}

/* any_in(b->value, list), the same answer. */
static bool
any_in_set(const byteset_t *b, const char *const *list)
{
    if (b->value == NULL || list == NULL)
        return false;
    for (size_t i = 0; list[i] != NULL; i++) {
        const char *p = list[i];
        bool may = true;
        for (; may && *p != '\0'; p++) {
            unsigned char c = (unsigned char)bw_ascii_lower(*p);
            may = (b->bits[c >> 6] >> (c & 63)) & 1;
        }
        if (may && bw_memcasestr(b->value, b->n, list[i]) != NULL)
            return true;
    }
    return false;
}

static bool
headers_match(const bw_view_t *v, const char *const *list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        const char *colon = strchr(list[i], ':');
        if (colon == NULL) {
            if (bw_view_header(v, list[i]) != NULL)
                return true;
            continue;
        }
        char name[64];
        size_t nl = (size_t)(colon - list[i]);
        if (nl >= sizeof name)
            continue;
        memcpy(name, list[i], nl);
        name[nl] = '\0';
        const char *want = colon + 1;
        while (*want == ' ')
            want++;
        const char *val = bw_view_header(v, name);
        if (val != NULL && bw_memcasestr(val, strnlen(val, 2048), want) != NULL)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ recipients */

typedef struct {
    char *address;
    GString *block;      /* the lines about this recipient */
    bool has_code;       /* the block holds a failure code already */
} rblock_t;

typedef struct {
    GPtrArray *blocks;   /* rblock_t* */
    GString *preamble;   /* text before the first recipient line */
} rlist_t;

static void
rblock_free(gpointer p)
{
    rblock_t *b = p;
    g_free(b->address);
    g_string_free(b->block, TRUE);
    g_free(b);
}

static rblock_t *
rlist_find(rlist_t *l, const char *address)
{
    for (guint i = 0; i < l->blocks->len; i++) {
        rblock_t *b = g_ptr_array_index(l->blocks, i);
        if (strcmp(b->address, address) == 0)
            return b;
    }
    return NULL;
}

static rblock_t *
rlist_add(rlist_t *l, char *address /* taken */)
{
    rblock_t *b = rlist_find(l, address);
    if (b != NULL) {
        g_free(address);
        return b;
    }
    if (l->blocks->len >= BW_MAX_RECIPIENTS) {
        g_free(address);
        return NULL;
    }
    b = g_new0(rblock_t, 1);
    b->address = address;
    b->block = g_string_new(NULL);
    g_ptr_array_add(l->blocks, b);
    return b;
}

static void
block_append(GString *g, const char *s, size_t n)
{
    if (g->len >= MAX_BLOCK)
        return;
    g_string_append_len(g, s, (gssize)MIN(n, MAX_BLOCK - g->len));
    g_string_append_c(g, '\n');
}

/* The address a line starts with, after quote marks, bullets, and a reply
 * or status code ("554 <user@host>... Host unknown" in transcripts). */
static char *
line_first_address(const char *s, size_t n, size_t *after)
{
    size_t i = 0;
    while (i < n && i < 80 && (s[i] == ' ' || s[i] == '\t' || s[i] == '>' || s[i] == '|'
                               || s[i] == '-' || s[i] == '*'))
        i++;
    /* a success reply names the sender or a recipient that was accepted
     * ("250 <a@b>, Sender ok" in a transcript) */
    if (i + 3 < n && s[i] == '2' && g_ascii_isdigit(s[i + 1]) && g_ascii_isdigit(s[i + 2])
        && (s[i + 3] == ' ' || s[i + 3] == '-'))
        return NULL;
    /* an optional reply code and status code */
    for (int k = 0; k < 2 && i < n; k++) {
        size_t l = 0;
        if (i + 3 < n && g_ascii_isdigit(s[i]) && g_ascii_isdigit(s[i + 1])
            && g_ascii_isdigit(s[i + 2]) && (s[i + 3] == ' ' || s[i + 3] == '-'))
            l = 3;
        else
            l = bw_status_code_at(s, n, i);
        if (l == 0)
            break;
        size_t j = i + l;
        while (j < n && (s[j] == ' ' || s[j] == '-'))
            j++;
        if (j < n && s[j] != '<')
            return NULL;   /* "550 5.1.1 user@x" is prose, only "<...>" counts */
        i = j;
    }
    size_t used = 0;
    char *a = bw_address_at(s + i, n - i, &used);
    if (a == NULL)
        return NULL;
    i += used;
    /* "user@host <real@host>: ...": the bracketed one is the address the
     * server worked on (Exim's "malformed address"), like a display name. */
    size_t j = i;
    while (j < n && s[j] == ' ')
        j++;
    if (j < n && s[j] == '<') {
        size_t used2 = 0;
        char *b = bw_address_at(s + j, n - j, &used2);
        if (b != NULL) {
            g_free(a);
            a = b;
            i = j + used2;
        }
    }
    if (after != NULL)
        *after = i;
    return a;
}

/* Where recipient phrases end in a text, found in one pass. */
typedef struct {
    GArray *ends;        /* size_t: offsets just after a phrase */
    int family;          /* the family whose own phrases count, or -1 */
    const char *text;    /* the text scanned */
} prefix_hits_t;

#define MAX_PREFIX_HITS 10000

static bool
record_prefix(size_t id, size_t start, size_t end, void *data)
{
    prefix_hits_t *h = data;
    if (prefix_family[id] != -1 && prefix_family[id] != h->family)
        return true;
    /* A phrase is a phrase of one line: "Your message\n\n  To: a@b" is a
     * header list, not "message to: a@b". */
    if (memchr(h->text + start, '\n', end - start) != NULL)
        return true;
    g_array_append_val(h->ends, end);
    return h->ends->len < MAX_PREFIX_HITS;
}

/* The address right after a recipient phrase of the line [b, e)
 * ("RCPT TO:<a@b>"); *k walks the sorted phrase ends. */
static char *
line_prefixed_address(const char *text, size_t b, size_t e, const GArray *ends, guint *k,
                      size_t *after)
{
    while (*k < ends->len && g_array_index(ends, size_t, *k) <= b)
        (*k)++;
    for (; *k < ends->len && g_array_index(ends, size_t, *k) <= e; (*k)++) {
        size_t i = g_array_index(ends, size_t, *k);
        while (i < e && (text[i] == ' ' || text[i] == '\t'))
            i++;
        size_t used = 0;
        char *a = bw_address_at(text + i, e - i, &used);
        if (a != NULL) {
            *after = i - b + used;
            return a;
        }
    }
    return NULL;
}

static bool
line_has_failure_code(const char *s, size_t n)
{
    char *st = bw_status_code_find(s, n);
    char *rc = st == NULL ? bw_reply_code_find(s, n) : NULL;
    bool failure = (st != NULL && st[0] != '2') || (rc != NULL && rc[0] != '2');
    g_free(st);
    g_free(rc);
    return failure;
}

static bool
line_is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return false;
    return true;
}

/* Splits text[from, to) into recipient blocks.  A block runs from its
 * address line to the next address line, or to the first blank line after
 * the server's code: the prose that follows ("No action is required on your
 * part...") is about the notice, not the recipient. */
static void
read_recipients(const char *text, size_t from, size_t to, const bw_family_t *fam,
                bool line_rcpts, rlist_t *out)
{
    prefix_hits_t hits = {g_array_new(FALSE, FALSE, sizeof(size_t)),
                          fam != NULL ? (int)(fam - bw_families) : -1, text + from};
    bw_matcher_scan(prefix_matcher, text + from, to - from, record_prefix, &hits);
    for (guint h = 0; h < hits.ends->len; h++)
        g_array_index(hits.ends, size_t, h) += from;
    guint hk = 0;
    rblock_t *cur = NULL;
    bool closed = false;
    size_t pos = from, lines = 0;
    while (pos < to && lines < MAX_LINES) {
        const char *nl = memchr(text + pos, '\n', to - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : to;
        const char *line = text + pos;
        size_t n = end - pos;
        lines++;
        size_t after = 0;
        char *addr = line_prefixed_address(text, pos, end, hits.ends, &hk, &after);
        /* "You are not a member of this mailing list <a@b>": the words
         * before a recipient phrase are the reason, keep the whole line */
        if (addr != NULL)
            after = 0;
        if (addr == NULL && line_rcpts)
            addr = line_first_address(line, n, &after);
        if (addr != NULL) {
            rblock_t *b = rlist_add(out, addr);
            if (b != NULL) {
                cur = b;
                /* the rest of the line is the first words about it */
                size_t k = after;
                while (k < n && (line[k] == '>' || line[k] == ':' || line[k] == '"'
                                 || line[k] == ' ' || line[k] == '\t'))
                    k++;
                if (k < n) {
                    block_append(cur->block, line + k, n - k);
                    cur->has_code = cur->has_code || line_has_failure_code(line + k, n - k);
                }
            }
            closed = false;
        } else if (cur != NULL && !closed) {
            if (line_is_blank(line, n) && cur->has_code) {
                closed = true;
            } else {
                block_append(cur->block, line, n);
                cur->has_code = cur->has_code || line_has_failure_code(line, n);
            }
        } else if (cur == NULL) {
            block_append(out->preamble, line, n);
        }
        pos = end + 1;
    }
    g_array_unref(hits.ends);
}

/* Finds the first header field `name` (with its colon, e.g. "to:") among the
 * quoted header lines of text[from..len) (lines may carry "> " quoting),
 * with at most `max_cont` folded continuation lines.  On success sets
 * *line_out to the start of the field name and *vend_out to the end of its
 * value (exclusive) and returns true.  Bounded by MAX_TO_LINES lines. */
static bool
quoted_field(const char *text, size_t from, size_t len, const char *name, int max_cont,
             size_t *line_out, size_t *vend_out)
{
    size_t name_len = strlen(name);
    size_t pos = from, lines = 0;
    while (pos < len && lines < MAX_TO_LINES) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : len;
        lines++;
        const char *line = text + pos;
        size_t n = end - pos;
        while (n > 0 && (*line == ' ' || *line == '>')) {
            line++;
            n--;
        }
        if (n > name_len && g_ascii_strncasecmp(line, name, name_len) == 0) {
            size_t vend = end;
            for (int k = 0; k < max_cont && vend + 1 < len
                            && (text[vend + 1] == ' ' || text[vend + 1] == '\t'); k++) {
                const char *n2 = memchr(text + vend + 1, '\n', len - vend - 1);
                vend = n2 != NULL ? (size_t)(n2 - text) : len;
            }
            *line_out = (size_t)(line - text);
            *vend_out = vend;
            return true;
        }
        pos = end + 1;
    }
    return false;
}

/* The quoted original's To: addresses, from header lines of the text. */
static void
quoted_to(const char *text, size_t from, size_t len, GPtrArray *out)
{
    size_t line, vend;
    if (!quoted_field(text, from, len, "to:", 50, &line, &vend))
        return;
    /* The value with its folded continuation lines, split on commas; each
     * piece one address. */
    size_t vstart = line + 3;
    g_autofree char *val = g_strndup(text + vstart, MIN(vend - vstart, 8192));
    g_auto(GStrv) parts = g_strsplit(val, ",", 64);
    for (size_t k = 0; parts[k] != NULL; k++) {
        char *a = bw_address_normalize(parts[k]);
        if (a != NULL)
            g_ptr_array_add(out, a);
    }
}

/* The envelope recipient a receiving server wrote in the original's first
 * Received header ("... for <a@b>; date"): who the message was for when its
 * To says nothing ("undisclosed-recipients:;").  Only the first Received
 * counts. */
static void
received_for(const char *text, size_t from, size_t len, GPtrArray *out)
{
    size_t lo, vend;
    if (!quoted_field(text, from, len, "received:", 20, &lo, &vend))
        return;
    const char *line = text + lo;
    /* "for <a@b>" after any white space (often a tab on a continuation
     * line) */
    const char *f = line;
    size_t rest = vend - lo;
    while ((f = bw_memcasestr(f, rest, "for <")) != NULL
           && !(f > line && (f[-1] == ' ' || f[-1] == '\t' || f[-1] == '\n'))) {
        f += 5;
        rest = vend - (size_t)(f - text);
    }
    if (f != NULL) {
        size_t used = 0;
        size_t fo = (size_t)(f - text) + 4;
        char *a = bw_address_at(text + fo, vend - fo, &used);
        if (a != NULL)
            g_ptr_array_add(out, a);
    }
}

static void
rfc822_to(GMimeObject *part, GPtrArray *out)
{
    if (part != NULL && GMIME_IS_PART(part)) {
        /* text/rfc822-headers: the header block as text */
        GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(part));
        if (w == NULL)
            return;
        g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
        if (g_mime_data_wrapper_write_to_stream(w, mem) < 0)
            return;
        GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
        if (bytes != NULL && bytes->len > 0)
            quoted_to((const char *)bytes->data, 0, MIN(bytes->len, 64u * 1024u), out);
        return;
    }
    if (part == NULL || !GMIME_IS_MESSAGE_PART(part))
        return;
    GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
    if (m == NULL)
        return;
    InternetAddressList *to = g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO);
    int n = to != NULL ? internet_address_list_length(to) : 0;
    for (int i = 0; i < n && i < BW_MAX_RECIPIENTS; i++) {
        InternetAddress *ia = internet_address_list_get_address(to, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            char *norm = bw_address_normalize(a);
            if (norm != NULL)
                g_ptr_array_add(out, norm);
        }
    }
}

/* Last resort for terse notices ("User's mailbox is full: <a@b>"): the
 * addresses in angle brackets in the notice, except the report's own
 * sender and receiver and the usual role accounts (a contact address). */
static void
angle_addresses(const bw_view_t *v, const char *text, size_t from, size_t to, GPtrArray *out)
{
    g_autofree char *self_from = bw_address_normalize(v->from);
    g_autofree char *self_to = bw_address_normalize(bw_view_header(v, "To"));
    for (size_t i = from; i < to && out->len < 16; i++) {
        if (text[i] != '<')
            continue;
        size_t used = 0;
        char *a = bw_address_at(text + i, to - i, &used);
        if (a == NULL)
            continue;
        i += used;
        bool skip = g_strcmp0(a, self_from) == 0 || g_strcmp0(a, self_to) == 0
            || g_str_has_prefix(a, "postmaster@") || g_str_has_prefix(a, "mailer-daemon@")
            || g_str_has_prefix(a, "support@") || g_str_has_prefix(a, "abuse@")
            || g_str_has_prefix(a, "help@");
        for (guint k = 0; k < out->len && !skip; k++)
            skip = strcmp(g_ptr_array_index(out, k), a) == 0;
        if (skip)
            g_free(a);
        else
            g_ptr_array_add(out, a);
    }
}

/* ------------------------------------------------------------ Amazon SES */

static char *
json_str(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name))
        return NULL;
    JsonNode *n = json_object_get_member(o, name);
    if (n == NULL || JSON_NODE_TYPE(n) != JSON_NODE_VALUE
        || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    const char *s = json_node_get_string(n);
    return s != NULL && *s != '\0' ? g_strdup(s) : NULL;
}

static JsonObject *
json_obj(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name))
        return NULL;
    JsonNode *n = json_object_get_member(o, name);
    return n != NULL && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
json_arr(JsonObject *o, const char *name)
{
    if (o == NULL || !json_object_has_member(o, name))
        return NULL;
    JsonNode *n = json_object_get_member(o, name);
    return n != NULL && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* The JSON text may be handed to json-glib: within the caps and strict
 * (bw_caps_check_json).  Past a cap, the message is refused. */
static bool
ses_json_readable(const char *text, size_t len)
{
    char *why = NULL;
    bw_status_t st = bw_caps_check_json(text, len, &why);
    if (st == BW_E_REFUSED)
        bw_refuse(why);
    else
        g_free(why);
    return st == BW_OK;
}

/* An SNS notification: the JSON object, then "--" and an unsubscribe
 * footer.  Returns true when it was a bounce, complaint or delivery. */
static bool
parse_ses_json(const bw_view_t *v, bw_report_t *report)
{
    const char *t = v->text;
    size_t len = MIN(v->text_len, BW_MAX_SCAN_BYTES);
    const char *open = memchr(t, '{', len);
    if (open == NULL)
        return false;
    size_t b = (size_t)(open - t), e = len;
    while (e > b && t[e - 1] != '}')
        e--;
    if (e <= b)
        return false;
    /* json-glib recurses once per nesting level: a bomb of nested '['
     * would overflow the stack.  Only strict JSON within the caps is read;
     * a bomb refuses the message. */
    if (!ses_json_readable(t + b, e - b))
        return false;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, t + b, (gssize)(e - b), NULL))
        return false;
    JsonNode *root = json_parser_get_root(parser);
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root))
        return false;
    JsonObject *o = json_node_get_object(root);
    /* An SNS envelope may wrap the SES notification in "Message". */
    g_autoptr(JsonParser) inner = NULL;
    g_autofree char *wrapped = json_str(o, "Message");
    if (wrapped != NULL && ses_json_readable(wrapped, strlen(wrapped))) {
        inner = json_parser_new();
        if (json_parser_load_from_data(inner, wrapped, -1, NULL)
            && json_parser_get_root(inner) != NULL
            && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(inner)))
            o = json_node_get_object(json_parser_get_root(inner));
    }
    g_autofree char *type = json_str(o, "notificationType");
    if (type == NULL)
        type = json_str(o, "eventType");
    if (type == NULL)
        return false;

    if (g_ascii_strcasecmp(type, "Bounce") == 0) {
        JsonObject *bo = json_obj(o, "bounce");
        JsonArray *arr = json_arr(bo, "bouncedRecipients");
        g_autofree char *mta = json_str(bo, "reportingMTA");
        g_autofree char *btype = json_str(bo, "bounceType");
        guint n = arr != NULL ? json_array_get_length(arr) : 0;
        for (guint i = 0; i < n && i < BW_MAX_RECIPIENTS; i++) {
            JsonNode *en = json_array_get_element(arr, i);
            if (!JSON_NODE_HOLDS_OBJECT(en))
                continue;
            JsonObject *ro = json_node_get_object(en);
            g_autofree char *addr = json_str(ro, "emailAddress");
            char *norm = bw_address_normalize(addr);
            if (norm == NULL)
                continue;
            bw_recipient_t *r = bw_recipient_new();
            r->address = norm;
            r->action = json_str(ro, "action");
            r->status = json_str(ro, "status");
            char *diag = json_str(ro, "diagnosticCode");
            if (diag != NULL) {
                const char *d = diag;
                if (g_ascii_strncasecmp(d, "smtp;", 5) == 0)
                    d += 5;
                r->diagnostic = bw_strdup_squeezed(d, strlen(d));
                g_free(diag);
                r->reply_code = bw_reply_code_find(r->diagnostic, strlen(r->diagnostic));
            }
            if (r->action == NULL)
                r->action = g_strdup(btype != NULL && g_ascii_strcasecmp(btype, "Transient") == 0
                                         ? "delayed" : "failed");
            if (mta != NULL) {
                const char *m = strchr(mta, ';');
                m = m != NULL ? m + 1 : mta;
                while (*m == ' ')
                    m++;
                r->remote_mta = g_strdup(m);
            }
            g_ptr_array_add(report->recipients, r);
        }
        report->kind = BW_KIND_BOUNCE;
    } else if (g_ascii_strcasecmp(type, "Complaint") == 0) {
        JsonObject *co = json_obj(o, "complaint");
        JsonArray *arr = json_arr(co, "complainedRecipients");
        guint n = arr != NULL ? json_array_get_length(arr) : 0;
        for (guint i = 0; i < n && i < BW_MAX_RECIPIENTS; i++) {
            JsonNode *en = json_array_get_element(arr, i);
            if (!JSON_NODE_HOLDS_OBJECT(en))
                continue;
            g_autofree char *addr = json_str(json_node_get_object(en), "emailAddress");
            char *norm = bw_address_normalize(addr);
            if (norm == NULL)
                continue;
            bw_recipient_t *r = bw_recipient_new();
            r->address = norm;
            g_ptr_array_add(report->recipients, r);
        }
        if (report->feedback_type == NULL) {
            report->feedback_type = json_str(co, "complaintFeedbackType");
            if (report->feedback_type == NULL)
                report->feedback_type = g_strdup("abuse");
        }
        report->kind = BW_KIND_FEEDBACK;
    } else if (g_ascii_strcasecmp(type, "Delivery") == 0) {
        JsonObject *dobj = json_obj(o, "delivery");
        JsonArray *arr = json_arr(dobj, "recipients");
        g_autofree char *resp = json_str(dobj, "smtpResponse");
        g_autofree char *mta = json_str(dobj, "remoteMtaIp");
        guint n = arr != NULL ? json_array_get_length(arr) : 0;
        for (guint i = 0; i < n && i < BW_MAX_RECIPIENTS; i++) {
            JsonNode *en = json_array_get_element(arr, i);
            if (JSON_NODE_TYPE(en) != JSON_NODE_VALUE
                || json_node_get_value_type(en) != G_TYPE_STRING)
                continue;
            char *norm = bw_address_normalize(json_node_get_string(en));
            if (norm == NULL)
                continue;
            bw_recipient_t *r = bw_recipient_new();
            r->address = norm;
            r->action = g_strdup("delivered");
            if (resp != NULL) {
                r->diagnostic = g_strdup(resp);
                r->reply_code = bw_reply_code_find(resp, strlen(resp));
                r->status = bw_status_code_find(resp, strlen(resp));
            }
            r->remote_mta = g_strdup(mta);
            g_ptr_array_add(report->recipients, r);
        }
        report->kind = BW_KIND_BOUNCE;
    } else {
        return false;
    }

    /* The notification carries the original's headers as JSON. */
    JsonObject *mail = json_obj(o, "mail");
    JsonObject *ch = json_obj(mail, "commonHeaders");
    if (report->original == NULL && (mail != NULL || ch != NULL)) {
        bw_original_t *orig = bw_original_new();
        char *mid = json_str(ch, "messageId");
        if (mid == NULL)
            mid = json_str(mail, "messageId");
        orig->message_id = bw_msgid_normalize(mid);
        g_free(mid);
        orig->subject = json_str(ch, "subject");
        JsonArray *from = json_arr(ch, "from");
        if (from != NULL && json_array_get_length(from) > 0
            && JSON_NODE_TYPE(json_array_get_element(from, 0)) == JSON_NODE_VALUE)
            orig->from = bw_address_normalize(json_array_get_string_element(from, 0));
        if (orig->from == NULL) {
            g_autofree char *src = json_str(mail, "source");
            orig->from = bw_address_normalize(src);
        }
        JsonArray *to = json_arr(ch, "to");
        guint nt = to != NULL ? json_array_get_length(to) : 0;
        for (guint i = 0; i < nt && orig->to->len < BW_KEEP_TO; i++) {
            JsonNode *en = json_array_get_element(to, i);
            if (JSON_NODE_TYPE(en) != JSON_NODE_VALUE
                || json_node_get_value_type(en) != G_TYPE_STRING)
                continue;
            char *a = bw_address_normalize(json_node_get_string(en));
            if (a != NULL)
                g_ptr_array_add(orig->to, a);
        }
        report->original = orig;
    }
    return report->recipients->len > 0;
}

/* ------------------------------------------------------------ the decision */

typedef struct {
    const char *text;
    size_t len;
    size_t *first_start, *first_end;
    /* The markers found (a few of the ~1,300): what the decision reads of
     * them is read from these, not from every marker's slot. */
    size_t *hit_ids;
    size_t nhits;
    size_t limit;          /* where the quoted original starts (or len) */
    size_t limit_body;     /* where the quoted headers themselves start */
    bool has_original;
    bool caller_limit;     /* the limit is the caller's (view->notice_len) */
} scan_t;

static void
scan_text(const bw_view_t *v, scan_t *sc)
{
    markers_init();
    sc->text = v->text != NULL ? v->text : "";
    sc->len = v->text != NULL ? MIN(v->text_len, BW_MAX_SCAN_BYTES) : 0;
    sc->first_start = g_new(size_t, marker_count);
    sc->first_end = g_new(size_t, marker_count);
    for (size_t i = 0; i < marker_count; i++)
        sc->first_start[i] = sc->first_end[i] = SIZE_MAX;
    sc->hit_ids = g_new(size_t, marker_count);
    hits_t h = {sc->first_start, sc->first_end, sc->hit_ids, 0};
    bw_matcher_scan(marker_matcher, sc->text, sc->len, record_hit, &h);
    sc->nhits = h.n;
    sc->limit = sc->len;
    sc->limit_body = sc->len;
    sc->has_original = false;
    sc->caller_limit = false;
    /* the first generic marker; of two at the same place, the one listed
     * first */
    size_t chosen = SIZE_MAX;
    for (size_t k = 0; k < sc->nhits; k++) {
        size_t i = sc->hit_ids[k];
        if (marker_meta[i].kind == MK_ORIGINAL
            && (sc->first_start[i] < sc->limit
                || (sc->first_start[i] == sc->limit && i < chosen))) {
            chosen = i;
            sc->limit = sc->first_start[i];
            sc->limit_body = sc->first_end[i];
            sc->has_original = true;
        }
    }
    /* the caller's notion of where the original starts (separators no
     * row lists, "> " quoted headers) */
    if (v->notice_len > 0 && v->notice_len < sc->limit) {
        sc->limit = v->notice_len;
        const char *nl = memchr(sc->text + sc->limit, '\n', sc->len - sc->limit);
        sc->limit_body = nl != NULL ? (size_t)(nl - sc->text) : sc->len;
        sc->has_original = true;
        sc->caller_limit = true;
    }
}

static void
scan_clear(scan_t *sc)
{
    g_free(sc->first_start);
    g_free(sc->hit_ids);
    g_free(sc->first_end);
}

/* Where the quoted headers start after a marker: a header-line marker
 * ("Received: from") is itself the first header; a separator line
 * ("--- Below this line...") is followed by them on the next line. */
static size_t
headers_offset(const scan_t *sc, size_t mstart, size_t mend)
{
    const char *t = sc->text;
    const char *colon = memchr(t + mstart, ':', mend - mstart);
    /* the start of the marker's line, behind indentation and quote marks */
    size_t ls = mstart, steps = 0;
    while (ls > 0 && (t[ls - 1] == ' ' || t[ls - 1] == '\t' || t[ls - 1] == '>') && steps < 64) {
        ls--;
        steps++;
    }
    bool header_line = colon != NULL && (size_t)(colon - t) + 1 >= mend - 6
        && (ls == 0 || t[ls - 1] == '\n');
    if (header_line)
        return ls;
    const char *nl = memchr(t + mend, '\n', sc->len - mend);
    size_t off = nl != NULL ? (size_t)(nl - t) + 1 : sc->len;
    /* skip blank lines between the separator and the headers */
    while (off < sc->len && (t[off] == '\n' || t[off] == ' ' || t[off] == '\t')) {
        const char *n2 = memchr(t + off, '\n', sc->len - off);
        size_t lineend = n2 != NULL ? (size_t)(n2 - t) : sc->len;
        bool blank = true;
        for (size_t k = off; k < lineend; k++)
            if (t[k] != ' ' && t[k] != '\t')
                blank = false;
        if (!blank)
            break;
        off = lineend + 1;
    }
    return off < sc->len ? off : (size_t)-1;
}

/* Does the report look automated at all?  A family recognised by its body
 * alone must also pass this, so a person's mail that happens to contain
 * "Message details:" or "was not delivered to:" is not a bounce. */
/* Headers only machines write on a report. */
static bool
automated(const bw_view_t *v)
{
    const char *as = bw_view_header(v, "Auto-Submitted");
    if (as != NULL && g_ascii_strncasecmp(as, "no", 2) != 0)
        return true;
    if (bw_view_header(v, "X-Failed-Recipients") != NULL)
        return true;
    const char *rp = bw_view_header(v, "Return-Path");
    if (rp != NULL && strstr(rp, "<>") != NULL)
        return true;
    return v->from == NULL || strchr(v->from, '@') == NULL;
}

static bool
bounce_hint(const bw_view_t *v)
{
    return bw_generic_sender_level(v->from) > 0 || bw_generic_subject_is_failure(v->subject)
        || automated(v);
}

/* The local part of an address in a header value ("Taro <taro@x>" ->
 * "taro"), or NULL. */
static char *
local_part(const char *value)
{
    char *a = bw_address_normalize(value);
    char *at = a != NULL ? strchr(a, '@') : NULL;
    if (at != NULL)
        *at = '\0';
    return a;
}

/* A person's reply about a bounce ("Re: Undeliverable: budget" from a
 * colleague, quoting the notice) is a conversation, not a report; so is a
 * person forwarding a notice to someone else ("Fwd: ..." to a helpdesk,
 * with their own words).  Mail servers do not answer with "Re:" except
 * from their own daemon addresses (some web mailers title bounces "Re:
 * subject").  A person forwarding a notice to their own other mailbox
 * (same local part) only moves it: that is a relay, and the notice is
 * read. */
static bool
human_reply(const bw_view_t *v)
{
    /* The first prefix says what the message is: a reply, or a forward. */
    unsigned reply = 0, forward = 0;
    g_autofree char *after_reply = bw_subject_strip(v->subject, BW_SUBJECT_REPLY, &reply);
    g_autofree char *after_forward = reply ? NULL
        : bw_subject_strip(v->subject, BW_SUBJECT_FORWARD, &forward);
    if (!reply && !forward)
        return false;
    if (v->from == NULL || strchr(v->from, '@') == NULL || bw_generic_sender_level(v->from) != 0)
        return false;
    if (forward) {
        g_autofree char *from = local_part(v->from);
        g_autofree char *to = local_part(bw_view_header(v, "To"));
        if (from != NULL && to != NULL && strcmp(from, to) == 0)
            return false;
    }
    return true;
}

static int
pick_family(const bw_view_t *v, const scan_t *sc)
{
    if (human_reply(v))
        return -1;
    int best = -1, best_score = 0;
    bool hint = bounce_hint(v);
    byteset_t from_bytes, subject_bytes;
    byteset_init(&from_bytes, v->from);
    byteset_init(&subject_bytes, v->subject);
    /* the families with a body marker before the original */
    g_autofree bool *has_body = g_new0(bool, bw_families_count);
    for (size_t k = 0; k < sc->nhits; k++) {
        size_t i = sc->hit_ids[k];
        if (marker_meta[i].kind == MK_BODY && sc->first_start[i] < sc->limit)
            has_body[marker_meta[i].family] = true;
    }
    for (size_t f = 0; f < bw_families_count; f++) {
        const bw_family_t *fam = &bw_families[f];
        if (bw_vendor_row_off != NULL && bw_vendor_row_off(fam->name))
            continue;
        bool body = has_body[f];
        /* The headers are read only where they can make the family the
         * best: a family with body markers scores nothing without them,
         * and none scores more than 2 without them or 4 with them (most
         * families, most messages: From, Subject and the header lists
         * were searched for each of the 50 families of every message). */
        if (fam->body != NULL && !body)
            continue;
        if ((fam->body == NULL ? 2 : 4) <= best_score)
            continue;
        /* A provider's domain in From is evidence only from its daemons:
         * its users write from the same domain. */
        bool hdr = (hint && any_in_set(&from_bytes, fam->from)) || any_in_set(&subject_bytes, fam->subject)
            || headers_match(v, fam->headers);
        int score;
        if (fam->body == NULL)
            score = hdr ? 2 : 0;
        else if (fam->flags & BW_FAM_NEEDS_HEADER)
            score = hdr && body ? 4 : 0;   /* a hotmail.com user is not a bounce */
        else
            score = body ? (hdr ? 4 : (hint ? 3 : 0)) : 0;
        if (score > best_score) {
            best_score = score;
            best = (int)f;
        }
    }
    return best;
}

static size_t
family_start(const scan_t *sc, int f)
{
    size_t best = SIZE_MAX, best_end = 0;
    for (size_t i = fam_lo[f]; i < fam_hi[f]; i++)
        if (marker_meta[i].kind == MK_START
            && sc->first_start[i] < sc->limit && sc->first_start[i] < best) {
            best = sc->first_start[i];
            best_end = sc->first_end[i];
        }
    return best == SIZE_MAX ? 0 : best_end;
}

static void
family_end(const scan_t *sc, int f, size_t *limit, size_t *hdr_start, size_t *hdr_end)
{
    for (size_t i = fam_lo[f]; i < fam_hi[f]; i++)
        if (marker_meta[i].kind == MK_END
            && sc->first_start[i] < *limit) {
            *limit = sc->first_start[i];
            *hdr_start = sc->first_start[i];
            *hdr_end = sc->first_end[i];
        }
}

static bool
looks_delayed(const bw_view_t *v, const scan_t *sc, size_t from, size_t to)
{
    static const char *const subj[] = {"delay", "warning", "still being retried", "temporary",
                                       NULL};
    static const char *const body[] = {"this is a warning only", "will be retried",
                                       "warning message only",
                                       "will continue trying", "have yet to be delivered",
                                       "has been delayed", "technical details of temporary failure",
                                       "still trying", "not yet been delivered", NULL};
    if (any_in(v->subject, subj))
        return true;
    for (size_t i = 0; body[i] != NULL; i++)
        if (bw_memcasestr(sc->text + from, to - from, body[i]) != NULL)
            return true;
    return false;
}

bool
bw_vendor_parse(const bw_view_t *view, bw_report_t *report, size_t *original_offset)
{
    if (original_offset != NULL)
        *original_offset = (size_t)-1;
    if (view == NULL || report == NULL)
        return false;

    scan_t sc;
    scan_text(view, &sc);
    int f = pick_family(view, &sc);
    if (f < 0) {
        scan_clear(&sc);
        return false;
    }
    const bw_family_t *fam = &bw_families[f];

    if (fam->flags & BW_FAM_SES_JSON) {
        bool ok = parse_ses_json(view, report);
        scan_clear(&sc);
        if (ok) {
            report->family = fam->name;
            report->bounce = true;
        }
        return ok;
    }

    size_t limit = sc.limit, hs = SIZE_MAX, he = SIZE_MAX;
    family_end(&sc, f, &limit, &hs, &he);
    if (hs == SIZE_MAX && sc.has_original) {
        /* the generic marker that set sc.limit */
        for (size_t i = 0; i < marker_count; i++)
            if (marker_meta[i].kind == MK_ORIGINAL && sc.first_start[i] == sc.limit) {
                hs = sc.first_start[i];
                he = sc.first_end[i];
                break;
            }
        if (hs == SIZE_MAX && sc.caller_limit) {
            hs = sc.limit;
            he = sc.limit_body;
        }
    }
    size_t start = family_start(&sc, f);
    if (start > limit)
        start = 0;

    rlist_t rl = {g_ptr_array_new_with_free_func(rblock_free), g_string_new(NULL)};
    bool line_rcpts = !(fam->flags & BW_FAM_NO_LINE_RCPT);
    read_recipients(sc.text, start, limit, fam, line_rcpts, &rl);
    if (rl.blocks->len == 0 && start > 0)
        read_recipients(sc.text, 0, start, fam, line_rcpts, &rl);

    /* X-Failed-Recipients (Exim, Gmail...) names the failed recipients
     * exactly: when present it is the set, the text gives the details. */
    GPtrArray *addresses = g_ptr_array_new_with_free_func(g_free);
    const char *xfr = bw_view_header(view, "X-Failed-Recipients");
    if (xfr == NULL && rl.blocks->len == 0)
        xfr = bw_view_header(view, "X-Bounced-Address");   /* qmail patches: one of them */
    if (xfr != NULL) {
        g_auto(GStrv) parts = g_strsplit(xfr, ",", BW_MAX_RECIPIENTS);
        for (size_t k = 0; parts[k] != NULL; k++) {
            char *a = bw_address_normalize(parts[k]);
            if (a != NULL)
                g_ptr_array_add(addresses, a);
        }
    }
    if (addresses->len == 0)
        for (guint i = 0; i < rl.blocks->len; i++)
            g_ptr_array_add(addresses,
                            g_strdup(((rblock_t *)g_ptr_array_index(rl.blocks, i))->address));
    if (addresses->len == 0)
        angle_addresses(view, sc.text, start, limit, addresses);
    if (addresses->len == 0) {
        /* The notice names nobody: the original's To is who it was for,
         * else the envelope recipient of its first Received header. */
        size_t qs = hs != SIZE_MAX ? hs : sc.limit;
        if (sc.has_original || hs != SIZE_MAX)
            quoted_to(sc.text, qs, sc.len, addresses);
        if (addresses->len == 0)
            rfc822_to(view->rfc822_part, addresses);
        if (addresses->len == 0 && (sc.has_original || hs != SIZE_MAX))
            received_for(sc.text, qs, sc.len, addresses);
        if (addresses->len == 0 && view->rfc822_part != NULL
            && GMIME_IS_MESSAGE_PART(view->rfc822_part)) {
            GMimeMessage *m = g_mime_message_part_get_message(
                GMIME_MESSAGE_PART(view->rfc822_part));
            const char *rcv = m != NULL ? g_mime_object_get_header(GMIME_OBJECT(m), "Received")
                                        : NULL;
            if (rcv != NULL) {
                g_autofree char *line = g_strconcat("Received: ", rcv, NULL);
                received_for(line, 0, strlen(line), addresses);
            }
        }
    }

    bool delayed = looks_delayed(view, &sc, start, limit);
    bool ok = true;
    for (guint i = 0; ok && i < addresses->len && report->recipients->len < BW_MAX_RECIPIENTS;
         i++) {
        const char *a = g_ptr_array_index(addresses, i);
        bool dup = false;
        for (guint k = 0; k < report->recipients->len && !dup; k++)
            dup = g_strcmp0(((bw_recipient_t *)g_ptr_array_index(report->recipients, k))->address,
                            a) == 0;
        if (dup)
            continue;
        bw_recipient_t *r = bw_recipient_new();
        r->address = g_strdup(a);
        rblock_t *b = rlist_find(&rl, a);
        const char *blk = b != NULL ? b->block->str : NULL;
        size_t blen = b != NULL ? b->block->len : 0;
        /* A block without a single code or known phrase ("kijitora@x:" then
         * nothing) leans on the text before the list (MailMarshal puts the
         * reason first); a lone recipient may use the whole notice. */
        size_t cb, ce;
        bool thin = blen == 0 || !bw_diagnostic_paragraph(blk, blen, &cb, &ce);
        if (thin && (rl.preamble->len > 0 || start > 0)) {
            /* the block, then what the notice says before the list */
            GString *g = g_string_new(blk);
            g_string_append_len(g, sc.text, (gssize)MIN(start, MAX_BLOCK));
            g_string_append_c(g, '\n');
            g_string_append(g, rl.preamble->str);
            bw_diagnostic_fill(r, g->str, g->len, delayed);
            g_string_free(g, TRUE);
        } else if (blen > 0) {
            bw_diagnostic_fill(r, blk, blen, delayed);
        } else {
            bw_diagnostic_fill(r, sc.text + start, limit - start, delayed);
        }
        bw_diagnostic_infer_status(r, fam->fallback);
        g_ptr_array_add(report->recipients, r);
    }

    if (ok) {
        report->family = fam->name;
        report->kind = BW_KIND_BOUNCE;
        report->bounce = true;
        if (original_offset != NULL && hs != SIZE_MAX)
            *original_offset = headers_offset(&sc, hs, he);
    }
    g_ptr_array_unref(addresses);
    g_ptr_array_unref(rl.blocks);
    g_string_free(rl.preamble, TRUE);
    scan_clear(&sc);
    return ok;
}

/* ------------------------------------------------------------ DSN enrichment */

void
bw_vendor_enrich(const bw_view_t *view, bw_report_t *report)
{
    if (view == NULL || report == NULL || report->recipients == NULL
        || report->recipients->len == 0 || view->text == NULL || view->text_len == 0)
        return;
    bool needed = false;
    for (guint i = 0; i < report->recipients->len; i++) {
        bw_recipient_t *r = g_ptr_array_index(report->recipients, i);
        if (r->status == NULL || r->diagnostic == NULL || r->reply_code == NULL
            || (r->status != NULL && (strcmp(r->status + 1, ".0.0") == 0)))
            needed = true;
    }
    if (!needed)
        return;
    scan_t sc;
    scan_text(view, &sc);
    rlist_t rl = {g_ptr_array_new_with_free_func(rblock_free), g_string_new(NULL)};
    read_recipients(sc.text, 0, sc.limit, NULL, true, &rl);
    for (guint i = 0; i < report->recipients->len; i++) {
        bw_recipient_t *r = g_ptr_array_index(report->recipients, i);
        rblock_t *b = r->address != NULL ? rlist_find(&rl, r->address) : NULL;
        const char *blk;
        size_t blen;
        if (b != NULL && b->block->len > 0) {
            blk = b->block->str;
            blen = b->block->len;
        } else if (report->recipients->len == 1 && rl.blocks->len <= 1) {
            /* One recipient: the whole human part is about it. */
            blk = sc.text;
            blen = sc.limit;
        } else {
            continue;
        }
        bw_recipient_t tmp = {0};
        bw_diagnostic_fill(&tmp, blk, blen, false);
        if (r->diagnostic == NULL) {
            r->diagnostic = tmp.diagnostic;
            tmp.diagnostic = NULL;
        }
        if (r->reply_code == NULL) {
            r->reply_code = tmp.reply_code;
            tmp.reply_code = NULL;
        }
        if (r->remote_mta == NULL) {
            r->remote_mta = tmp.remote_mta;
            tmp.remote_mta = NULL;
        }
        /* A text code is more precise than a DSN's missing or x.0.0 one. */
        if (tmp.status != NULL
            && (r->status == NULL
                || (strcmp(r->status + 1, ".0.0") == 0 && strcmp(tmp.status + 1, ".0.0") != 0
                    && tmp.status[0] == r->status[0]))) {
            g_free(r->status);
            r->status = tmp.status;
            tmp.status = NULL;
        }
        g_free(tmp.diagnostic);
        g_free(tmp.reply_code);
        g_free(tmp.remote_mta);
        g_free(tmp.status);
        g_free(tmp.action);
        g_free(tmp.address);
        g_free(tmp.original_address);
    }
    g_ptr_array_unref(rl.blocks);
    g_string_free(rl.preamble, TRUE);
    scan_clear(&sc);
}
