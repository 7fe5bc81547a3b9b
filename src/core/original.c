/* original.c: what a report tells about the message it is about.
 *
 * Sources, best first: an attached message/rfc822 or message/global (the
 * whole original), a text/rfc822-headers or message/global-headers part
 * (headers only: a normal case), or headers quoted in the notice's text
 * after the server's marker.  Header blocks are read by a linear field
 * reader (RFC 2047 words through bw_header_decode, dates and address lists
 * through GMime's utilities). */
#include "bw-parse.h"
#include "bw-vendor.h"
#include <string.h>

#define MAX_RECEIVED BW_KEEP_RECEIVED
#define MAX_TO BW_KEEP_TO
#define MAX_URL_DOMAINS BW_KEEP_URL_DOMAINS
#define MAX_QUOTED_HEADER_BYTES (64u * 1024u)

bool
bw_original_is_empty(const bw_original_t *o)
{
    return o == NULL || (o->message_id == NULL && o->from == NULL && o->subject == NULL &&
                         o->date == NULL && o->return_path == NULL && o->to->len == 0 &&
                         o->received->len == 0);
}

static void
add_url_domains(bw_original_t *o, const char *text, size_t len)
{
    size_t pos = 0;
    while (pos < len && o->url_domains->len < MAX_URL_DOMAINS) {
        const char *h = bw_casestr(text + pos, len - pos, "http");
        if (h == NULL)
            break;
        size_t i = (size_t)(h - text) + 4;
        pos = i;
        if (i < len && (text[i] == 's' || text[i] == 'S'))
            i++;
        if (len - i < 3 || text[i] != ':' || text[i + 1] != '/' || text[i + 2] != '/')
            continue;
        i += 3;
        size_t b = i;
        while (i < len && i - b < 253 && (g_ascii_isalnum(text[i]) || text[i] == '.' || text[i] == '-'))
            i++;
        pos = i;
        size_t e = i;
        while (e > b && text[e - 1] == '.')
            e--;
        if (e == b || memchr(text + b, '.', e - b) == NULL)
            continue;
        char *host = g_ascii_strdown(text + b, (gssize)(e - b));
        bool dup = false;
        for (guint k = 0; k < o->url_domains->len && !dup; k++)
            dup = strcmp(g_ptr_array_index(o->url_domains, k), host) == 0;
        if (dup)
            g_free(host);
        else
            g_ptr_array_add(o->url_domains, host);
    }
}

static void
fill_addresses(GPtrArray *out, InternetAddressList *list, unsigned depth)
{
    if (list == NULL || depth > 2)
        return;
    int n = internet_address_list_length(list);
    for (int i = 0; i < n && out->len < MAX_TO; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
            char *a = bw_address_normalize(addr);
            if (a != NULL)
                g_ptr_array_add(out, a);
        } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            fill_addresses(out, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), depth + 1);
        }
    }
}

#define IS_NAMED(name, name_len, n) \
    ((name_len) == sizeof(n) - 1 && bw_ascii_ncase_eq((name), n, sizeof(n) - 1))

/* The fields from_header_block reads. */
static bool
qfield_wanted(const char *name, size_t len)
{
    switch (g_ascii_tolower(name[0])) {
    case 'm': return IS_NAMED(name, len, "Message-ID");
    case 'f': return IS_NAMED(name, len, "From");
    case 't': return IS_NAMED(name, len, "To");
    case 's': return IS_NAMED(name, len, "Subject");
    case 'd': return IS_NAMED(name, len, "Date") || IS_NAMED(name, len, "DKIM-Signature");
    case 'r': return IS_NAMED(name, len, "Return-Path") || IS_NAMED(name, len, "Received");
    case 'i': return IS_NAMED(name, len, "In-Reply-To");
    case 'x': return IS_NAMED(name, len, "X-Mailer");
    case 'u': return IS_NAMED(name, len, "User-Agent");
    default: return false;
    }
}

/* Reads one unfolded field that qfield_wanted names into the original:
 * its value `v` (NUL-terminated) of `vlen` bytes. */
static void
qfield_take(bw_original_t *o, const char *name, size_t name_len, const char *v, size_t vlen)
{
#define IS(n) IS_NAMED(name, name_len, n)
    if (IS("Message-ID")) {
        if (o->message_id == NULL)
            o->message_id = bw_msgid_normalize(v);
    } else if (IS("From")) {
        if (o->from == NULL)
            o->from = bw_address_normalize(v);
    } else if (IS("To")) {
        if (o->to->len == 0 && bw_caps_address_field(v, vlen)) {
            if (!bw_simple_address_add(v, o->to)) {
                InternetAddressList *list = internet_address_list_parse(NULL, v);
                fill_addresses(o->to, list, 0);
                if (list != NULL)
                    g_object_unref(list);
            }
            if (o->to->len == 0) {
                char *a = bw_address_normalize(v);
                if (a != NULL)
                    g_ptr_array_add(o->to, a);
            }
        }
    } else if (IS("Subject")) {
        if (o->subject == NULL)
            o->subject = bw_header_decode(v, vlen);
    } else if (IS("Date")) {
        if (o->date == NULL) {
            gint64 t = 0;
            int off = 0;
            if (bw_caps_decode_date_unix(v, &t, &off)) {
                o->date_unix = t;
                o->date = bw_time_format(t, off);
            }
        }
    } else if (IS("Return-Path")) {
        if (o->return_path == NULL)
            o->return_path = bw_address_normalize(v);
    } else if (IS("In-Reply-To")) {
        if (o->in_reply_to == NULL)
            o->in_reply_to = bw_msgid_normalize(v);
    } else if (IS("X-Mailer") || IS("User-Agent")) {
        if (o->x_mailer == NULL || IS("X-Mailer")) {
            g_free(o->x_mailer);
            o->x_mailer = bw_strdup_squeezed(v, vlen);
        }
    } else if (IS("Received")) {
        if (o->received->len < MAX_RECEIVED)
            g_ptr_array_add(o->received, bw_strdup_squeezed(v, vlen));
    } else if (IS("DKIM-Signature")) {
        if (o->dkim_domain == NULL)
            o->dkim_domain = bw_dkim_domain(v);
    }
#undef IS
}

/* Reads a block of header lines (headers-only parts, quoted copies) into
 * the fields the verdict needs.  A plain linear reader: building a GMime
 * message for a few header lines cost more than the rest of the parse.
 * Each field is read as soon as its last continuation line is: its value
 * is unfolded in one buffer that the next field reuses (a GString per
 * field cost an allocation and a copy for each of thousands of lines
 * nobody reads, and an array of the block's fields, read after the block,
 * an allocation and a copy per line). */
static bw_original_t *
from_header_block(const char *text, size_t len)
{
    while (len > 0 && (*text == '\n' || *text == ' ' || *text == '\t' || *text == '\r')) {
        text++;
        len--;
    }
    if (len == 0)
        return NULL;
    if (len > MAX_QUOTED_HEADER_BYTES)
        len = MAX_QUOTED_HEADER_BYTES;
    bw_original_t *o = bw_original_new();
    o->headers_only = true;
    GString *value = g_string_sized_new(MIN(len, 4096) + 1);
    /* the field being read: its name, whether it is wanted (its value is
     * then in `value`) */
    const char *name = NULL;
    size_t name_len = 0, nfields = 0;
    bool keep = false;
    size_t pos = 0;
    while (pos < len && nfields < 1000) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        if (ll == 0)
            break;                      /* end of the header block */
        if ((line[0] == ' ' || line[0] == '\t') && nfields > 0) {
            if (keep && value->len < 8192)
                g_string_append_len(value, line, (gssize)ll);
            continue;
        }
        const char *colon = memchr(line, ':', ll);
        if (colon == NULL || colon == line)
            continue;
        if (keep)
            qfield_take(o, name, name_len, value->str, value->len);
        name = line;
        name_len = (size_t)(colon - line);
        nfields++;
        keep = qfield_wanted(name, name_len);
        if (keep) {
            g_string_truncate(value, 0);
            g_string_append_len(value, colon + 1, (gssize)(ll - name_len - 1));
        }
    }
    if (keep)
        qfield_take(o, name, name_len, value->str, value->len);
    g_string_free(value, TRUE);
    if (bw_original_is_empty(o)) {
        bw_original_free(o);
        return NULL;
    }
    return o;
}

bw_original_t *
bw_original_from_headers(const char *text, size_t len)
{
    return from_header_block(text, len);
}

void
bw_original_take_body(bw_original_t *o, char *text, size_t len)
{
    if (text == NULL || len == 0) {
        g_free(text);
        o->headers_only = true;
        return;
    }
    g_free(o->body_text);
    o->body_text = text;
    o->headers_only = false;
    add_url_domains(o, text, len);
}

/* ------------------------------------------------------------ quoted headers */

static const char *const header_names[] = {
    "received", "return-path", "message-id", "from", "to", "subject", "date", "cc",
    "dkim-signature", "mime-version", "content-type", "content-transfer-encoding",
    "reply-to", "sender", "in-reply-to", "references", "delivered-to", "x-mailer",
    "user-agent", "authentication-results", "arc-seal", "x-", "list-", "thread-",
    "importance", "x-original-to", "envelope-to", "precedence", "errors-to",
};

/* Length of the "Name:" prefix when the line starts with a header field
 * that could belong to a mail header (a known name, or X-...), else 0. */
static size_t
header_line(const char *line, size_t ll)
{
    size_t i = 0;
    while (i < ll && i < 80 && (g_ascii_isalnum(line[i]) || line[i] == '-' || line[i] == '_'))
        i++;
    if (i == 0 || i >= ll || line[i] != ':')
        return 0;
    for (unsigned k = 0; k < G_N_ELEMENTS(header_names); k++) {
        size_t nl = strlen(header_names[k]);
        bool prefix = header_names[k][nl - 1] == '-';
        if ((prefix ? i > nl : i == nl) && bw_ascii_ncase_eq(line, header_names[k], nl))
            return i + 1;
    }
    return 0;
}

/* Length of a summary label ("Sent date", "MAIL FROM", "Size (in bytes)"
 * are not header names) ending at a ':' at the start of the line: up to
 * three words, short.  Notices list the original's details so (Apache
 * James, carriers' gateways); such a line is a field of its own, not a
 * continuation of the field before it.  0 when the line is not one. */
static size_t
summary_label(const char *line, size_t ll)
{
    size_t i = 0;
    unsigned words = 1;
    while (i < ll && i < 24) {
        char c = line[i];
        if (c == ':')
            return i > 0 && line[i - 1] != ' ' ? i : 0;
        if (c == ' ') {
            if (i == 0 || line[i - 1] == ' ' || ++words > 3)
                return 0;
        } else if (!g_ascii_isalpha(c) && c != '-' && c != '(' && c != ')') {
            return 0;
        }
        i++;
    }
    return 0;
}

/* Quote prefix of a line: leading blanks and '>' marks. */
static size_t
quote_prefix(const char *line, size_t ll)
{
    size_t i = 0;
    while (i < ll && i < 16 && (line[i] == ' ' || line[i] == '\t' || line[i] == '>'))
        i++;
    return i;
}

bw_original_t *
bw_original_from_text(const char *text, size_t len, size_t from)
{
    if (text == NULL || from >= len)
        return NULL;
    /* Find the first header line from `from` on: the block must start with
     * a real header name, and hold at least two header lines or one of the
     * identifying ones, so prose with a colon is not taken. */
    size_t pos = from;
    unsigned scanned = 0;
    while (pos < len && scanned++ < 400) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        size_t q = quote_prefix(line, ll);
        if (header_line(line + q, ll - q) > 0) {
            /* Collect the block, stripping the quote prefix. */
            GString *block = g_string_new(NULL);
            size_t p = pos;
            unsigned headers = 0, loose = 0;
            bool identifying = false;
            while (p < len && block->len < MAX_QUOTED_HEADER_BYTES) {
                const char *l = text + p;
                const char *n2 = memchr(l, '\n', len - p);
                size_t l2 = n2 ? (size_t)(n2 - l) : len - p;
                size_t q2 = quote_prefix(l, l2);
                size_t strip = q2 < q ? q2 : q;
                const char *body = l + strip;
                size_t bl = l2 - strip;
                bool blank = q2 == l2;
                if (blank)
                    break;
                size_t hn = header_line(l + q2, l2 - q2);
                if (hn > 0 && q2 <= q + 1) {
                    /* a new field (re-anchored at the quote prefix) */
                    body = l + q2;
                    bl = l2 - q2;
                    headers++;
                    if (bw_ascii_ncase_eq(body, "message-id", 10) ||
                        bw_ascii_ncase_eq(body, "received", 8) ||
                        bw_ascii_ncase_eq(body, "from", 4) ||
                        bw_ascii_ncase_eq(body, "subject", 7))
                        identifying = true;
                } else if (q2 > q || body[0] == ' ' || body[0] == '\t') {
                    /* a continuation line */
                    if (body[0] != ' ' && body[0] != '\t')
                        g_string_append_c(block, ' ');
                } else {
                    /* An unknown but well-formed field is a field; any
                     * other line is taken as a continuation that lost its
                     * leading white space (notices rewrap the headers they
                     * quote), up to a few in a row: then it is prose. */
                    size_t i = 0;
                    while (i < bl && i < 80 && (g_ascii_isalnum(body[i]) || body[i] == '-'))
                        i++;
                    if (i == 0 || i >= bl || body[i] != ':')
                        i = summary_label(body, bl);
                    if (i == 0 || i >= bl || body[i] != ':') {
                        if (++loose > 12)
                            break;
                        g_string_append_c(block, ' ');
                    } else {
                        loose = 0;
                    }
                }
                if (hn > 0)
                    loose = 0;
                g_string_append_len(block, body, (gssize)bl);
                g_string_append_c(block, '\n');
                p += l2 + (n2 ? 1 : 0);
            }
            bw_original_t *o = NULL;
            if (headers >= 2 || identifying)
                o = from_header_block(block->str, block->len);
            g_string_free(block, TRUE);
            if (o != NULL)
                return o;
            /* Not a usable block: go on after it. */
            pos = p > pos ? p : pos + ll + 1;
            continue;
        }
        pos += ll + (nl ? 1 : 0);
    }
    return NULL;
}

/* Markers before a quoted copy of the original, as servers write them. */
static const char *const markers[] = {
    "this is a copy of the message",           /* Exim */
    "below this line is a copy of the message", /* qmail */
    "original message follows",
    "original message headers",
    "original message header",
    "headers of the original message",
    "header of the original message",
    "---- original message",
    "----original message",
    "-----original message-----",
    "--- begin original message",
    "start of returned message",
    "returned message follows",
    "undelivered message headers",
    "your message reads",
    "the headers of your message",
    "message headers follow",
    "copy of the original message",
    "original message:",
    "content-type: message/rfc822",
    "content-type: text/rfc822-headers",
    "元のメッセージ",
    "送信したメッセージ",
};

/* One pass for all markers (Aho-Corasick, vendor-match.c), built once. */
static bw_matcher_t *marker_matcher;

static bool
first_marker(size_t id, size_t start, size_t end, void *data)
{
    (void)id;
    (void)end;
    *(size_t *)data = start;
    return false;       /* the first occurrence is the one wanted */
}

size_t
bw_original_find_marker(const char *text, size_t len)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        marker_matcher = bw_matcher_new(markers, G_N_ELEMENTS(markers));
        g_once_init_leave(&once, 1);
    }
    size_t best = (size_t)-1;
    bw_matcher_scan(marker_matcher, text, len, first_marker, &best);
    return best;
}
