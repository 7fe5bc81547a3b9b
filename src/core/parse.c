/* parse.c: bw_parse_bytes / bw_parse_file: one report per message.
 *
 * The dispatcher: it reads the message's structure (message.c), builds the
 * view and calls the readers (dsn.c, arf.c, vendor.c, generic.c,
 * autoreply.c, original.c); they build on the report model (report.c) and
 * the helpers below them, and never call back here.
 *
 * The family of a report is decided before any of it is read, from its
 * structure, in a fixed order:
 *   1. a delivery-status part (RFC 3464 / RFC 6533)          -> dsn
 *   2. a feedback-report part (RFC 5965), or a complaint in a
 *      known non-ARF format (JMRP, Apple unsubscribe)        -> feedback
 *   3. delivery-status fields in a mislabelled part or in the
 *      notice's own text (broken DSNs)                       -> dsn
 *   4. the non-standard notices of known servers (vendor.c)  -> bounce
 *   5. virus notices, challenge-response, auto-replies       -> ...
 * Detectors only see the report's own words (bw_view_t.text is the first
 * text part outside any attached message, cut before a quoted original),
 * so text quoted from the original cannot trigger them. */
#include "bw-parse.h"
#include "bw-vendor.h"

/* Bytes of a headers-only part read at most. */
#define MAX_HEADERS_PART (64u * 1024u)
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Message-IDs of a References/In-Reply-To value: the <...> tokens. */
static void
add_msgids(GPtrArray *out, const char *v, size_t len, guint max)
{
    size_t i = 0;
    while (i < len && out->len < max) {
        const char *lt = memchr(v + i, '<', len - i);
        if (lt == NULL)
            break;
        const char *gt = memchr(lt, '>', len - (size_t)(lt - v));
        if (gt == NULL)
            break;
        g_autofree char *token = g_strndup(lt, (gsize)(gt - lt + 1));
        char *id = bw_msgid_normalize(token);
        if (id != NULL)
            g_ptr_array_add(out, id);
        i = (size_t)(gt - v) + 1;
    }
}

static void
fill_report_headers(bw_report_t *r, const bw_view_t *view)
{
    const bw_view_index_t *ix = view->priv;
    /* Each field is looked for from its first line (the index knows it),
     * not from the top of the block: the same value, found without
     * walking every line before it again and again. */
#define RAW(name) (bw_view_index_start(ix, name, &at) ? bw_hdr_get_raw(ix->hdr + at, ix->hdr_len - at, name) : NULL)
#define DECODED(name) (bw_view_index_start(ix, name, &at) ? bw_hdr_get(ix->hdr + at, ix->hdr_len - at, name) : NULL)
    size_t at = 0;
    g_autofree char *mid = RAW("Message-ID");
    r->message_id = bw_msgid_normalize(mid);
    /* decoded once, through the view the detectors ask too */
    r->from = bw_address_normalize(bw_view_header(view, "From"));
    r->subject = DECODED("Subject");
    g_autofree char *date = RAW("Date");
    if (date != NULL) {
        gint64 t = 0;
        int off = 0;
        if (bw_caps_decode_date_unix(date, &t, &off)) {
            r->date_unix = t;
            r->date = bw_time_format(t, off);
        }
    }
    g_autofree char *irt = RAW("In-Reply-To");
    r->in_reply_to = bw_msgid_normalize(irt);
    g_autofree char *refs = RAW("References");
    if (refs != NULL)
        add_msgids(r->references, refs, strlen(refs), BW_KEEP_REFERENCES);
    g_autofree char *to = RAW("To");
    if (to != NULL && bw_caps_address_field(to, strlen(to))) {
        if (!bw_simple_address_add(to, r->to)) {
            InternetAddressList *list = internet_address_list_parse(NULL, to);
            int n = list != NULL ? internet_address_list_length(list) : 0;
            for (int i = 0; i < n && r->to->len < BW_KEEP_TO; i++) {
                InternetAddress *ia = internet_address_list_get_address(list, i);
                if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
                    continue;
                char *a = bw_address_normalize(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
                if (a != NULL)
                    g_ptr_array_add(r->to, a);
            }
            if (list != NULL)
                g_object_unref(list);
        }
        if (r->to->len == 0) {
            char *a = bw_address_normalize(to);
            if (a != NULL)
                g_ptr_array_add(r->to, a);
        }
    }
    r->auto_submitted = RAW("Auto-Submitted");
#undef RAW
#undef DECODED
}

/* ------------------------------------------------------------ finishing */

/* Status, reason and class of every recipient, after any detector. */
static void
finish_recipients(bw_report_t *report)
{
    for (guint i = 0; i < report->recipients->len; i++) {
        bw_recipient_t *r = g_ptr_array_index(report->recipients, i);
        if (report->kind == BW_KIND_FEEDBACK) {
            r->reason = BW_REASON_FEEDBACK;
            continue;
        }
        if (report->kind == BW_KIND_AUTOREPLY) {
            r->reason = BW_REASON_VACATION;
            continue;
        }
        if (report->kind == BW_KIND_CHALLENGE) {
            /* Its words ("spam protection") describe the filter, not a
             * failure: no reason to infer. */
            r->reason = BW_REASON_UNKNOWN;
            continue;
        }
        if (report->kind == BW_KIND_VIRUS) {
            r->reason = BW_REASON_VIRUS;
            continue;
        }
        r->reason = bw_reason_decide(r->status, r->reply_code, r->diagnostic, r->action);
        if (r->status == NULL) {
            /* Infer the enhanced code from the reply code, else from the
             * action: a failure is class 5, a delay class 4. */
            const char *st = bw_status_from_reply_code(r->reply_code, r->reason);
            if (st == NULL && r->action != NULL) {
                if (strcmp(r->action, "failed") == 0)
                    st = bw_status_from_reason(r->reason, '5');
                else if (strcmp(r->action, "delayed") == 0)
                    st = bw_status_from_reason(r->reason, '4');
                else if (strcmp(r->action, "delivered") == 0)
                    st = "2.0.0";
            }
            if (st != NULL)
                r->status = g_strdup(st);
        }
        if (r->action == NULL && report->kind == BW_KIND_BOUNCE && r->status != NULL)
            r->action = g_strdup(r->status[0] == '4' ? "delayed" : r->status[0] == '2' ? "delivered" : "failed");
        /* a failure notice that gives nothing about this recipient (named
         * by X-Failed-Recipients only): it failed */
        if (r->action == NULL && report->kind == BW_KIND_BOUNCE)
            r->action = g_strdup("failed");
    }
}

/* An auto-reply carries no copy of the original, but its threading headers
 * and addressing say which message it answers. */
static bw_original_t *
original_from_reply(const bw_report_t *report)
{
    bw_original_t *o = bw_original_new();
    o->message_id = g_strdup(report->in_reply_to);
    if (o->message_id == NULL && report->references->len > 0)
        o->message_id = g_strdup(g_ptr_array_index(report->references, report->references->len - 1));
    if (report->to->len > 0)
        o->from = g_strdup(g_ptr_array_index(report->to, 0));
    o->subject = bw_subject_strip(report->subject,
                                  BW_SUBJECT_REPLY | BW_SUBJECT_FORWARD | BW_SUBJECT_AUTOREPLY, NULL);
    if (o->subject != NULL && *o->subject == '\0')
        g_clear_pointer(&o->subject, g_free);
    if (report->from != NULL)
        g_ptr_array_add(o->to, g_strdup(report->from));
    o->headers_only = true;
    if (o->message_id == NULL && o->from == NULL && o->subject == NULL) {
        bw_original_free(o);
        return NULL;
    }
    return o;
}

static bool
recipients_need_enrich(const bw_report_t *report)
{
    for (guint i = 0; i < report->recipients->len; i++) {
        const bw_recipient_t *r = g_ptr_array_index(report->recipients, i);
        if (r->status == NULL || r->diagnostic == NULL)
            return true;
    }
    return report->recipients->len == 0;
}

/* ------------------------------------------------------------ UTF-8 */

/* Every string a report carries is valid UTF-8 (bw.h): fields copied from
 * 8-bit parts (a Diagnostic-Code in Latin-1, an address with raw bytes)
 * are converted by guess, and what cannot be converted is replaced. */
static void
ensure_utf8(char **s)
{
    /* ISO-2022-JP is 7-bit, so valid UTF-8, yet unreadable: a Japanese
     * Diagnostic-Code copied raw from a delivery-status part (Domino, the
     * carriers) carries its escape sequences. */
    if (*s == NULL)
        return;
    /* (measured once; the ESC looked for with memchr: strstr cost more
     * than the validation, for ~6,800 strings over the 407 bounces) */
    size_t len = strlen(*s);
    if (bw_utf8_validate(*s, (gssize)len)) {
        const char *esc = memchr(*s, 0x1b, len);
        while (esc != NULL && esc[1] != '$')
            esc = memchr(esc + 1, 0x1b, len - (size_t)(esc + 1 - *s));
        if (esc == NULL)
            return;
    }
    size_t n = 0;
    char *u = bw_to_utf8(*s, len, NULL, &n);
    g_free(*s);
    *s = u;
}

static void
ensure_utf8_array(GPtrArray *a)
{
    for (guint i = 0; a != NULL && i < a->len; i++)
        ensure_utf8((char **)&a->pdata[i]);
}

static void
report_ensure_utf8(bw_report_t *r)
{
    for (guint i = 0; i < r->recipients->len; i++) {
        bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        ensure_utf8(&rc->address);
        ensure_utf8(&rc->original_address);
        ensure_utf8(&rc->action);
        ensure_utf8(&rc->status);
        ensure_utf8(&rc->reply_code);
        ensure_utf8(&rc->remote_mta);
        ensure_utf8(&rc->diagnostic);
    }
    ensure_utf8(&r->feedback_type);
    ensure_utf8(&r->message_id);
    ensure_utf8(&r->from);
    ensure_utf8(&r->subject);
    ensure_utf8(&r->in_reply_to);
    ensure_utf8(&r->auto_submitted);
    ensure_utf8_array(r->references);
    ensure_utf8_array(r->to);
    bw_original_t *o = r->original;
    if (o != NULL) {
        ensure_utf8(&o->message_id);
        ensure_utf8(&o->from);
        ensure_utf8(&o->subject);
        ensure_utf8(&o->return_path);
        ensure_utf8(&o->dkim_domain);
        ensure_utf8(&o->x_mailer);
        ensure_utf8(&o->in_reply_to);
        ensure_utf8(&o->body_text);
        ensure_utf8_array(o->to);
        ensure_utf8_array(o->received);
        ensure_utf8_array(o->url_domains);
    }
}

/* ------------------------------------------------------------ one message */

/* The From value names a mail daemon ("MAILER-DAEMON", bare or with a
 * domain; "postmaster@..."). */
static bool
sender_is_daemon(const char *from)
{
    size_t n = from != NULL ? strnlen(from, 1024) : 0;
    return n > 0 && (bw_casestr(from, n, "mailer-daemon") != NULL || bw_casestr(from, n, "postmaster") != NULL ||
                     bw_casestr(from, n, "mail-daemon") != NULL || bw_casestr(from, n, "mailerdaemon") != NULL);
}

static bool
is_list_mail(const bw_view_t *v)
{
    if (bw_view_header(v, "List-Id") != NULL || bw_view_header(v, "List-Unsubscribe") != NULL)
        return true;
    const char *p = bw_view_header(v, "Precedence");
    return p != NULL && (bw_casestr(p, strlen(p), "list") != NULL || bw_casestr(p, strlen(p), "bulk") != NULL);
}

/* When MIME structure fails (boundaries that do not match, seen in real
 * reports), the attached original is still there as text: find a line
 * "Content-Type: message/rfc822" (or text/rfc822-headers...) in the raw
 * body and read the header block after it. */
static bw_original_t *
original_from_raw(const char *raw, size_t len)
{
    const char *body = g_strstr_len(raw, (gssize)len, "\n\n");
    if (body == NULL)
        return NULL;
    size_t start = (size_t)(body - raw) + 2;
    size_t lim = len - start < 4 * BW_MAX_SCAN_BYTES ? len : start + 4 * BW_MAX_SCAN_BYTES;
    static const char *const types[] = { "message/rfc822", "text/rfc822-headers", "message/global",
                                         "message/partial" };
    size_t pos = start;
    for (unsigned hits = 0; hits < 8 && pos < lim; hits++) {
        const char *ct = bw_casestr(raw + pos, lim - pos, "content-type:");
        if (ct == NULL)
            break;
        size_t at = (size_t)(ct - raw);
        pos = at + 13;
        const char *eol = memchr(raw + pos, '\n', lim - pos);
        size_t ll = eol ? (size_t)(eol - (raw + pos)) : lim - pos;
        bool wanted = false;
        for (unsigned t = 0; t < G_N_ELEMENTS(types) && !wanted; t++)
            wanted = bw_casestr(raw + pos, ll, types[t]) != NULL;
        if (!wanted || (at > 0 && raw[at - 1] != '\n'))
            continue;
        /* Skip the part's own MIME header block to the blank line. */
        const char *blank = g_strstr_len(raw + pos, (gssize)(lim - pos), "\n\n");
        if (blank == NULL)
            break;
        size_t from = (size_t)(blank - raw) + 2;
        bw_original_t *o = bw_original_from_text(raw, lim, from);
        if (o != NULL)
            return o;
    }
    return NULL;
}

/* The parts the detectors read, chosen in document order. */
typedef struct {
    int text_plain, text_html;     /* first outside any attached message */
    int delivery_status;
    bool global_ds;
    int feedback;
    int original;                  /* message/rfc822 (whole) or a headers part */
    bool original_whole;           /* message/rfc822|global with its child parsed */
    int leaves[16];                /* other text/message leaves, for broken reports */
    unsigned n_leaves;
} sel_t;

static int
cmp_part_pos(gconstpointer a, gconstpointer b, gpointer data)
{
    const bw_mpart_t *parts = data;
    const char *x = parts[*(const int *)a].hdr, *y = parts[*(const int *)b].hdr;
    return x < y ? -1 : x > y;
}

static void
select_parts(const bw_mime_t *mime, sel_t *sel)
{
    memset(sel, 0, sizeof *sel);
    sel->text_plain = sel->text_html = sel->delivery_status = sel->feedback = sel->original = -1;
    guint n = mime->parts->len;
    const bw_mpart_t *parts = (const bw_mpart_t *)(void *)mime->parts->data;
    /* Parts were read breadth-first; their offsets give document order. */
    g_autofree int *order = g_new(int, n);
    for (guint i = 0; i < n; i++)
        order[i] = (int)i;
    g_qsort_with_data(order, (gint)n, sizeof(int), cmp_part_pos, (gpointer)parts);
    for (guint k = 0; k < n; k++) {
        int i = order[k];
        const bw_mpart_t *mp = &parts[i];
        if (mp->in_message)
            continue;       /* the original's own parts are not the report */
        if (bw_mpart_is(mp, "multipart", NULL))
            continue;
        if (bw_mpart_is(mp, "message", "rfc822") || bw_mpart_is(mp, "message", "global") ||
            bw_mpart_is(mp, "message", "news")) {
            if (sel->original < 0) {
                sel->original = i;
                sel->original_whole = mp->n_children > 0;
            }
        } else if (bw_mpart_is(mp, "message", "delivery-status") ||
                   bw_mpart_is(mp, "message", "global-delivery-status")) {
            if (sel->delivery_status < 0) {
                sel->delivery_status = i;
                sel->global_ds = bw_mpart_is(mp, "message", "global-delivery-status");
            }
        } else if (bw_mpart_is(mp, "message", "feedback-report")) {
            if (sel->feedback < 0)
                sel->feedback = i;
        } else if (bw_mpart_is(mp, "text", "rfc822-headers") || bw_mpart_is(mp, "message", "global-headers") ||
                   bw_mpart_is(mp, "text", "rfc822") || bw_mpart_is(mp, "message", "partial")) {
            if (sel->original < 0)
                sel->original = i;
        } else if (bw_mpart_is(mp, "text", "plain") && sel->text_plain < 0 && i != 0) {
            sel->text_plain = i;
        } else if (bw_mpart_is(mp, "text", "plain") && i == 0 && sel->text_plain < 0) {
            sel->text_plain = 0;    /* a single-part message */
        } else if (bw_mpart_is(mp, "text", "html") && sel->text_html < 0) {
            sel->text_html = i;
        } else if (bw_mpart_is(mp, "message", "disposition-notification") ||
                   bw_mpart_is(mp, "message", "global-disposition-notification")) {
            /* a read receipt (RFC 8098): its Final-Recipient is the
             * reader, no failed recipient */
        } else if ((bw_mpart_is(mp, "text", NULL) || bw_mpart_is(mp, "message", NULL)) &&
                   sel->n_leaves < G_N_ELEMENTS(sel->leaves)) {
            sel->leaves[sel->n_leaves++] = i;
        }
    }
}

/* Is part `i` inside part `ancestor`? */
static bool
descends_from(const bw_mpart_t *parts, int i, int ancestor)
{
    for (unsigned guard = 0; i >= 0 && guard <= BW_MAX_MIME_DEPTH + 1; guard++) {
        if (i == ancestor)
            return true;
        i = parts[i].parent;
    }
    return false;
}

/* The original from the selected part: an attached message (its header
 * block and its first text part) or a headers-only part. */
static bw_original_t *
original_from_selection(const bw_mime_t *mime, const sel_t *sel)
{
    if (sel->original < 0)
        return NULL;
    const bw_mpart_t *parts = (const bw_mpart_t *)(void *)mime->parts->data;
    const bw_mpart_t *op = &parts[sel->original];
    if (sel->original_whole) {
        /* the child that holds the attached message */
        int child = -1;
        for (guint i = (guint)sel->original + 1; i < mime->parts->len && child < 0; i++)
            if (parts[i].parent == sel->original)
                child = (int)i;
        if (child < 0)
            return NULL;
        const bw_mpart_t *cp = &parts[child];
        bw_original_t *o = bw_original_from_headers(cp->hdr, cp->hdr_len);
        if (o == NULL)
            return NULL;
        /* its body: the message itself when it is text, else its first
         * text/plain (else text/html) part, in document order */
        int body = -1, html = -1;
        if (bw_mpart_is(cp, "text", "plain"))
            body = child;
        else if (bw_mpart_is(cp, "text", "html"))
            html = child;
        for (guint i = (guint)child + 1; i < mime->parts->len && body < 0; i++) {
            if (!descends_from(parts, (int)i, child))
                continue;
            if (bw_mpart_is(&parts[i], "text", "plain") &&
                (body < 0 || parts[i].hdr < parts[body].hdr))
                body = (int)i;
            else if (bw_mpart_is(&parts[i], "text", "html") && html < 0)
                html = (int)i;
        }
        if (body < 0)
            body = html;
        if (body >= 0) {
            size_t len = 0;
            char *text = bw_mpart_text(&parts[body], BW_MAX_SCAN_BYTES, &len);
            bw_original_take_body(o, text, len);
        }
        return o;
    }
    size_t len = 0;
    g_autofree char *raw = bw_mpart_raw(op, MAX_HEADERS_PART, &len);
    if (raw == NULL)
        return NULL;
    return bw_original_from_headers(raw, len);
}

/* What GMime gets of an attached message's header block: its To and
 * Received fields, whole, at most MAX_HEADERS_PART bytes of them (what the
 * vendor tables read; a field that would pass that size is left out with
 * the ones after it).  Each field passes the caps first: GMime's address
 * parser recurses per group and decodes every encoded word.  NULL when
 * one does not (the message is refused). */
static GString *
gmime_fields(const char *hdr, size_t len)
{
    GString *out = g_string_new(NULL);
    size_t pos = 0;
    bw_field_t f;
    while (bw_header_next_field(hdr, len, &pos, &f)) {
        bool to = bw_field_is(&f, "To");
        if (!to && !bw_field_is(&f, "Received"))
            continue;
        if (out->len + f.field_len + 1 > MAX_HEADERS_PART)
            break;
        if (!(to ? bw_caps_address_field(f.value, f.value_len) : bw_caps_spend_encoded_words(f.value, f.value_len))) {
            g_string_free(out, TRUE);
            return NULL;
        }
        g_string_append_len(out, f.field, (gssize)f.field_len);
        if (out->str[out->len - 1] != '\n')
            g_string_append_c(out, '\n');
    }
    g_string_append_c(out, '\n');
    return out;
}

/* The vendor tables read the original's To through GMime
 * (bw_view_t.rfc822_part): give them a message built from its To and
 * Received fields (gmime_fields), or for a headers-only part a
 * text/rfc822-headers part holding its block (read as text). */
static GMimeObject *
gmime_original_headers(const bw_mime_t *mime, const sel_t *sel)
{
    if (sel->original < 0)
        return NULL;
    const bw_mpart_t *parts = (const bw_mpart_t *)(void *)mime->parts->data;
    if (!sel->original_whole) {
        size_t len = 0;
        g_autofree char *raw = bw_mpart_raw(&parts[sel->original], MAX_HEADERS_PART, &len);
        if (raw == NULL)
            return NULL;
        GMimePart *part = g_mime_part_new_with_type("text", "rfc822-headers");
        g_autoptr(GMimeStream) st = g_mime_stream_mem_new_with_buffer(raw, len);
        GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
        g_mime_part_set_content(part, w);
        g_object_unref(w);
        return GMIME_OBJECT(part);
    }
    for (guint i = (guint)sel->original + 1; i < mime->parts->len; i++) {
        if (parts[i].parent != sel->original)
            continue;
        g_autoptr(GString) fields = gmime_fields(parts[i].hdr, parts[i].hdr_len);
        if (fields == NULL)
            return NULL;
        g_autoptr(GMimeStream) st = g_mime_stream_mem_new_with_buffer(fields->str, fields->len);
        g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(st);
        g_autoptr(GMimeMessage) m = g_mime_parser_construct_message(parser, NULL);
        if (m == NULL)
            return NULL;
        return GMIME_OBJECT(g_mime_message_part_new_with_message("rfc822", m));
    }
    return NULL;
}

/* A report whose "original" is itself a report (a relay's notice about a
 * bounce it could not pass on, a gateway quoting a DSN) is read again at
 * most this many levels down, for the real original behind it. */
#define BW_NESTED_REPORT_DEPTH 2
/* Lines skipped between a marker and the quoted message's first header. */
#define NESTED_SKIP_LINES 8

static bw_report_t *parse_message(char *norm, size_t nlen, unsigned depth);

/* Where a quoted message starts at or after `from` in `text`: the first
 * line, among the next few, that is an mbox "From " line or a header field
 * ("Name: value").  (size_t)-1 when none. */
static size_t
quoted_message_start(const char *text, size_t len, size_t from)
{
    size_t pos = from;
    while (pos < len && text[pos] != '\n' && pos > 0 && text[pos - 1] != '\n')
        pos++;          /* from the next line start when inside a line */
    if (pos < len && text[pos] == '\n')
        pos++;
    for (unsigned n = 0; n < NESTED_SKIP_LINES && pos < len; n++) {
        const char *eol = memchr(text + pos, '\n', len - pos);
        size_t ll = eol ? (size_t)(eol - (text + pos)) : len - pos;
        if (ll > 5 && memcmp(text + pos, "From ", 5) == 0)
            return pos;
        size_t k = 0;
        while (k < ll && k < 76 && text[pos + k] > ' ' && text[pos + k] < 127 && text[pos + k] != ':')
            k++;
        if (k > 0 && k < ll && text[pos + k] == ':')
            return pos;
        pos += ll + 1;
    }
    return (size_t)-1;
}

/* Cheap test before reading a quoted message again: its own headers say a
 * report (multipart/report, or a daemon's From with a report's subject).
 * `hl` is the header block's length when known, else 0. */
static bool sender_is_daemon(const char *from);
static bool subject_is_reportish(const char *subject);
static bool
header_block_is_report(const char *p, size_t len, size_t hl)
{
    if (hl == 0) {
        size_t lim = len < MAX_HEADERS_PART ? len : MAX_HEADERS_PART;
        const char *blank = lim >= 2 ? bw_find_blank_line(p, lim) : NULL;
        hl = blank != NULL ? (size_t)(blank - p) + 1 : lim;
    }
    size_t vl = 0;
    const char *ct = bw_hdr_find(p, hl, "Content-Type", &vl);
    if (ct != NULL && bw_casestr(ct, vl, "multipart/report") != NULL)
        return true;
    g_autofree char *from = bw_hdr_get_raw(p, hl, "From");
    if (from == NULL || !sender_is_daemon(from))
        return false;
    g_autofree char *subject = bw_hdr_get(p, hl, "Subject");
    return subject_is_reportish(subject);
}

/* The report held in `inner` (a message's bytes), read one level down; NULL
 * when the depth bound is reached or it is not mail. */
static bw_report_t *
parse_inner(const char *inner, size_t len, size_t hdr_len, unsigned depth)
{
    if (depth >= BW_NESTED_REPORT_DEPTH || len == 0 || !header_block_is_report(inner, len, hdr_len))
        return NULL;
    if (bw_mbox_detect(inner, len)) {
        const char *nl = memchr(inner, '\n', len);
        if (nl == NULL)
            return NULL;
        len -= (size_t)(nl + 1 - inner);
        inner = nl + 1;
    }
    if (bw_message_check(inner, len, NULL) != BW_OK)
        return NULL;
    size_t nlen = 0;
    char *norm = bw_message_normalize(inner, len, &nlen);
    return parse_message(norm, nlen, depth + 1);
}

/* A gateway or a daemon (not a person) wrote the message: a daemon's From,
 * Auto-Submitted other than "no", or a null Return-Path. */
static bool
machine_sent(const bw_view_t *v)
{
    if (sender_is_daemon(v->from))
        return true;
    const char *as = bw_view_header(v, "Auto-Submitted");
    if (as != NULL && g_ascii_strncasecmp(as, "no", 2) != 0)
        return true;
    const char *rp = bw_view_header(v, "Return-Path");
    return rp != NULL && strstr(rp, "<>") != NULL;
}

/* The subject reads like a report's ("Undelivered", "Returned mail",
 * "配信エラー"...: the generic reader's failure subjects). */
static bool
subject_is_reportish(const char *subject)
{
    return bw_generic_subject_is_failure(subject);
}

/* Do two readings name a recipient in common? */
static bool
recipients_meet(const bw_report_t *a, const bw_report_t *b)
{
    for (guint i = 0; i < a->recipients->len; i++) {
        const bw_recipient_t *x = g_ptr_array_index(a->recipients, i);
        for (guint k = 0; k < b->recipients->len; k++) {
            const bw_recipient_t *y = g_ptr_array_index(b->recipients, k);
            if (x->address != NULL && g_strcmp0(x->address, y->address) == 0)
                return true;
        }
    }
    return false;
}

/* Does the notice's own text (before the returned original) name any of
 * the report's recipients?  A row that found them only in the original's
 * headers read its fallback. */
static bool
named_in(const bw_report_t *r, const char *text, size_t len)
{
    for (guint i = 0; i < r->recipients->len; i++) {
        const bw_recipient_t *x = g_ptr_array_index(r->recipients, i);
        if (x->address != NULL && text != NULL && bw_casestr(text, len, x->address) != NULL)
            return true;
    }
    return false;
}

/* Moves recipients from `sub` into `report` (which are replaced). */
static void
take_recipients(bw_report_t *report, bw_report_t *sub)
{
    g_ptr_array_set_size(report->recipients, 0);
    gsize n = 0;
    gpointer *taken = g_ptr_array_steal(sub->recipients, &n);
    for (gsize i = 0; i < n; i++)
        g_ptr_array_add(report->recipients, taken[i]);
    g_free(taken);
}

/* `inner` holds a copy of the bytes of the message the report carries as
 * its original.  When that message is itself a bounce, the real original
 * is its original, and its recipients are the failed ones when the outer
 * notice names nobody, or names only where the inner notice was sent
 * (a notice about a bounce lists the bounce's addressee, a daemon mailbox
 * or the forger's victim, not the failed recipient). */
static void
descend_nested(bw_report_t *report, const char *inner, size_t len, size_t hdr_len, unsigned depth)
{
    g_autoptr(bw_report_t) sub = parse_inner(inner, len, hdr_len, depth);
    if (sub == NULL || !sub->bounce || (sub->kind != BW_KIND_DSN && sub->kind != BW_KIND_BOUNCE))
        return;
    if (sub->original != NULL && !bw_original_is_empty(sub->original)) {
        bw_original_free(report->original);
        report->original = sub->original;
        sub->original = NULL;
    }
    if (sub->recipients->len == 0)
        return;
    bool replace = true;
    for (guint i = 0; i < report->recipients->len && replace; i++) {
        const bw_recipient_t *r = g_ptr_array_index(report->recipients, i);
        bool addressee = false;
        for (guint k = 0; k < sub->to->len && !addressee; k++)
            addressee = r->address != NULL && g_ascii_strcasecmp(r->address, g_ptr_array_index(sub->to, k)) == 0;
        replace = addressee;
    }
    if (replace)
        take_recipients(report, sub);
}

static bw_report_t *
parse_message(char *norm, size_t nlen, unsigned depth)
{
    g_autofree char *bytes = norm;
    g_autoptr(bw_mime_t) mime = bw_mime_parse(bytes, nlen);
    const bw_mpart_t *parts = (const bw_mpart_t *)(void *)mime->parts->data;
    const bw_mpart_t *root = &parts[0];
    if (root->hdr_len == 0)
        return NULL;
    bw_report_t *report = bw_report_new();
    bw_view_index_t ix;
    bw_view_index_init(&ix, root->hdr, root->hdr_len);
    bw_view_t view = { 0 };
    view.priv = &ix;
    fill_report_headers(report, &view);

    sel_t sel;
    select_parts(mime, &sel);

    const char *from = bw_view_header(&view, "From");
    view.from = from != NULL ? from : "";
    view.subject = report->subject != NULL ? report->subject : "";
    int textpart = sel.text_plain >= 0 ? sel.text_plain : sel.text_html;
    size_t tlen = 0;
    g_autofree char *text = textpart >= 0 ? bw_mpart_text(&parts[textpart], BW_MAX_SCAN_BYTES, &tlen) : NULL;
    if (text == NULL && bw_mpart_is(root, "multipart", NULL)) {
        /* A multipart whose boundary never occurs (seen in real DSNs):
         * everything is in the preamble, which is then the notice. */
        size_t pre = root->n_children > 0 ? root->preamble_len : root->body_len;
        if (pre > BW_MAX_SCAN_BYTES)
            pre = BW_MAX_SCAN_BYTES;
        while (pre > 0 && (root->body[pre - 1] == '\n' || root->body[pre - 1] == ' '))
            pre--;
        if (pre > 0)
            text = bw_to_utf8(root->body, pre, NULL, &tlen);
    }
    view.text = text != NULL ? text : "";
    view.text_len = tlen;
    view.is_multipart_report = bw_mpart_is(root, "multipart", "report");

    /* A delivery-status or feedback-report part nested below the top level
     * (a report inside multipart/mixed) is the message's own report when a
     * machine sent the wrapper (a list server's footer, a gateway's
     * disclaimer), or when its subject says so.  A person's mail with a
     * normal subject that carries such parts inline is someone forwarding
     * a report to talk about it, not a report. */
    for (int k = 0; k < 2; k++) {
        int *slot = k == 0 ? &sel.delivery_status : &sel.feedback;
        if (*slot < 0 || parts[*slot].parent == 0 || view.is_multipart_report)
            continue;
        if (!machine_sent(&view) && !subject_is_reportish(report->subject))
            *slot = -1;
    }

    /* Where a quoted original starts in the text; detectors reading the
     * text must stop there. */
    size_t marker = view.text_len > 0 ? bw_original_find_marker(view.text, view.text_len) : (size_t)-1;
    size_t plain_to = 0;   /* (the generic reader reads these lines again) */
    size_t separator =
        view.text_len > 0 ? bw_generic_notice_end(view.text, view.text_len, &plain_to) : (size_t)-1;
    if (separator < marker)
        marker = separator;
    view.notice_len = marker != (size_t)-1 ? marker : view.text_len;
    size_t original_offset = (size_t)-1;

    /* 1. RFC 3464 / RFC 6533 */
    if (sel.delivery_status >= 0) {
        size_t len = 0;
        g_autofree char *ds = bw_mpart_raw(&parts[sel.delivery_status], BW_MAX_FIELDS_BYTES, &len);
        if (ds != NULL && bw_dsn_parse_fields(ds, len, sel.global_ds, report) > 0) {
            report->bounce = true;
            report->kind = BW_KIND_DSN;
            report->family = sel.global_ds ? "rfc6533" : "rfc3464";
        }
    }
    /* 2. RFC 5965, and complaints in known non-ARF formats */
    if (!report->bounce && sel.feedback >= 0) {
        size_t len = 0;
        g_autofree char *fb = bw_mpart_raw(&parts[sel.feedback], BW_MAX_FIELDS_BYTES, &len);
        if (fb != NULL)
            bw_arf_parse_fields(fb, len, report);
    }
    if (!report->bounce) {
        const bw_mpart_t *child = NULL;
        if (sel.original >= 0 && sel.original_whole)
            for (guint i = (guint)sel.original + 1; i < mime->parts->len && child == NULL; i++)
                if (parts[i].parent == sel.original)
                    child = &parts[i];
        bw_arf_detect_nonstandard(&view, report, child ? child->hdr : NULL, child ? child->hdr_len : 0);
    }
    /* 2b. ARF reports that are slightly off: the feedback-report fields in
     * a part labelled otherwise (a second text/plain, message/rfc822-ish
     * labels), or inline in the report's own text.  Inline fields count
     * only when the report is multipart/report or carries the
     * complained-about message: a person's mail about ARF is neither. */
    if (!report->bounce && !is_list_mail(&view)) {
        for (unsigned i = 0; i < sel.n_leaves && !report->bounce; i++) {
            size_t len = 0;
            g_autofree char *raw = bw_mpart_raw(&parts[sel.leaves[i]], BW_MAX_FIELDS_BYTES, &len);
            size_t at = raw != NULL ? bw_arf_find_inline(raw, len) : (size_t)-1;
            if (at != (size_t)-1)
                bw_arf_parse_fields(raw + at, len - at, report);
        }
        if (!report->bounce && view.text_len > 0 && (view.is_multipart_report || sel.original >= 0)) {
            size_t lim = marker != (size_t)-1 ? marker : view.text_len;
            size_t at = bw_arf_find_inline(view.text, lim);
            if (at != (size_t)-1)
                bw_arf_parse_fields(view.text + at, lim - at, report);
        }
        if (report->bounce)
            report->family = "arf-tolerant";
    }
    /* 3. broken DSNs: the fields in a mislabelled part or inline in the
     * notice's own text (before any quoted original). */
    for (unsigned i = 0; i < sel.n_leaves && !report->bounce; i++) {
        size_t len = 0;
        g_autofree char *raw = bw_mpart_raw(&parts[sel.leaves[i]], BW_MAX_FIELDS_BYTES, &len);
        if (raw == NULL)
            continue;
        size_t at = bw_dsn_find_inline(raw, len, false);
        if (at != (size_t)-1 && bw_dsn_parse_fields(raw + at, len - at, false, report) > 0) {
            report->bounce = true;
            report->kind = BW_KIND_DSN;
            report->family = "rfc3464";
        }
    }
    /* Fields inline in the notice's own text; mailing-list mail that
     * quotes such fields (a newsletter explaining DSNs) is not a report. */
    size_t inline_at = (size_t)-1;
    if (!report->bounce && view.text_len > 0 && !is_list_mail(&view)) {
        size_t lim = marker != (size_t)-1 ? marker : view.text_len;
        size_t at = bw_dsn_find_inline(view.text, lim, true);
        if (at != (size_t)-1 && bw_dsn_parse_fields(view.text + at, lim - at, false, report) > 0) {
            report->bounce = true;
            report->kind = BW_KIND_DSN;
            report->family = "rfc3464-inline";
            inline_at = at;
        }
    }
    /* A multipart/report delivery-status whose fields name no recipient is
     * still a report: let the vendor tables read its text. */
    bool ds_without_recipients = !report->bounce && sel.delivery_status >= 0;
    /* Some MTAs send multipart/report; report-type=delivery-status with only
     * a text part and the returned message, no delivery-status part.  From a
     * mail daemon, that structure is a report whatever its words are. */
    if (!report->bounce && sel.delivery_status < 0 && sel.feedback < 0 && view.is_multipart_report &&
        sender_is_daemon(view.from)) {
        size_t vl = 0;
        const char *ct = bw_hdr_find(root->hdr, root->hdr_len, "Content-Type", &vl);
        ds_without_recipients = ct != NULL && bw_casestr(ct, vl, "delivery-status") != NULL;
    }
    /* 3b. What the message is, before any failure verdict: a
     * challenge-response request (it holds the sender's message "until
     * you confirm", often from a daemon-like address, with the original
     * attached) and an anti-virus notice (often a DSN: its recipients are
     * read below, its kind is virus). */
    bw_view_t head = view;
    if (marker != (size_t)-1)
        head.text_len = marker;
    /* the attached original, read once for here and below */
    g_autoptr(bw_original_t) attached = NULL;
    if (!report->bounce || report->kind == BW_KIND_DSN)
        attached = original_from_selection(mime, &sel);
    /* the original's subject: its words are not the notice's */
    g_autofree char *quoted_subject = NULL;
    if (attached != NULL && attached->subject != NULL)
        view.orig_subject = attached->subject;
    else if (!report->bounce && marker != (size_t)-1)
        view.orig_subject = quoted_subject = bw_generic_quoted_subject(view.text, view.text_len, marker);
    head.orig_subject = view.orig_subject;
    if (!report->bounce || report->kind == BW_KIND_DSN) {
        if (bw_challenge_detect(&head, attached, report)) {
            report->original = g_steal_pointer(&attached);
            if (report->original == NULL && view.text_len > 0 && marker != (size_t)-1)
                report->original = bw_original_from_text(view.text, view.text_len, marker);
        }
    }
    bool virus_notice = (!report->bounce || report->kind == BW_KIND_DSN) && bw_virus_notice(&head);
    /* an out-of-office reply says so in its first lines: no failure
     * reader gets it (its subject repeats the original's, which may say
     * "Delivery failure"; its sender may be null) */
    if (!report->bounce && !virus_notice && bw_autoreply_is_vacation(&head))
        bw_autoreply_detect(&head, report);
    /* 4. non-standard notices: the vendor tables where a family is known,
     * the generic reader for every server (generic.c).  Mailing-list mail
     * is skipped unless a mail daemon sent it: real notices carry no list
     * headers unless a list manager relays them, while list posts and
     * newsletters quote notices when they discuss them. */
    bool list_post = is_list_mail(&view) && !sender_is_daemon(view.from) &&
                     !bw_generic_sender_is_daemon(view.from);
    if (!report->bounce && !list_post) {
        GMimeObject *orig_gmime = gmime_original_headers(mime, &sel);
        view.rfc822_part = orig_gmime;
        if (bw_vendor_parse(&view, report, &original_offset)) {
            report->bounce = true;
            if (report->kind == BW_KIND_NONE)
                report->kind = BW_KIND_BOUNCE;
        } else {
            /* The vendor detector may have started filling; a "no" resets. */
            g_ptr_array_set_size(report->recipients, 0);
            original_offset = (size_t)-1;
        }
        view.rfc822_part = NULL;
        if (orig_gmime != NULL)
            g_object_unref(orig_gmime);
    }
    /* The generic reading stands where no table knows the server, or where
     * the family's reader named nobody.  It has its own rules for list
     * mail (a list manager relaying a notice to its owner).  Where a row
     * did name recipients, the generic reading checks them: when the
     * notice states other addresses as failed (in a list after "the
     * following recipients", on a failure line) and none of the row's,
     * the row read a layout it does not know (an X.400 address line, a
     * returned original it took for the notice) and the notice's own
     * statement stands. */
    /* (X-Failed-Recipients names them exactly: a row that read it stands) */
    bool vendor_named = report->bounce && report->kind == BW_KIND_BOUNCE && report->recipients->len > 0;
    bool vendor_exact = vendor_named && bw_view_header(&view, "X-Failed-Recipients") != NULL;
    if (!report->bounce || (report->kind == BW_KIND_BOUNCE && !list_post)) {
        size_t vl = 0;
        const char *ct = bw_hdr_find(root->hdr, root->hdr_len, "Content-Type", &vl);
        bw_generic_in_t gin = {
            .limit = marker,
            .has_original = sel.original >= 0,
            .report_type_delivery_status = view.is_multipart_report && ct != NULL &&
                                           bw_casestr(ct, vl, "delivery-status") != NULL,
            .plain_to = plain_to,
        };
        bw_generic_out_t gout;
        g_autoptr(bw_report_t) g = bw_report_new();
        if (bw_generic_read(&view, &gin, g, &gout)) {
            if (!report->bounce) {
                report->bounce = true;
                report->kind = BW_KIND_BOUNCE;
                report->family = g->family;
                original_offset = gout.original_offset;
            }
            if (!vendor_named || (!vendor_exact && g->recipients->len > 0 && !recipients_meet(report, g) &&
                                  (gout.stated || (gout.named && !named_in(report, view.text, view.notice_len)))))
                take_recipients(report, g);
        }
    }
    if (!report->bounce && ds_without_recipients) {
        report->bounce = true;
        report->kind = BW_KIND_DSN;
        report->family = "rfc3464";
    }
    /* A report forwarded whole by a gateway or daemon (a filter passing on
     * the bounce it received, a relay wrapping a report): the attached
     * report is the one to read.  A person forwarding a bounce to a
     * helpdesk is a conversation about it, so the wrapper must be a
     * machine's. */
    bool wrapped = false;
    if (!report->bounce && sel.original >= 0 && sel.original_whole && machine_sent(&view)) {
        const bw_mpart_t *child = NULL;
        for (guint i = (guint)sel.original + 1; i < mime->parts->len && child == NULL; i++)
            if (parts[i].parent == sel.original)
                child = &parts[i];
        g_autoptr(bw_report_t) sub =
            child != NULL ? parse_inner(child->hdr, (size_t)(child->body + child->body_len - child->hdr),
                                        child->hdr_len, depth)
                          : NULL;
        if (sub != NULL && sub->bounce &&
            (sub->kind == BW_KIND_DSN || sub->kind == BW_KIND_BOUNCE || sub->kind == BW_KIND_FEEDBACK)) {
            report->bounce = true;
            report->kind = sub->kind;
            report->family = sub->family;
            report->feedback_type = sub->feedback_type;
            sub->feedback_type = NULL;
            take_recipients(report, sub);
            report->original = sub->original;
            sub->original = NULL;
            wrapped = true;
        }
    }
    /* 5. virus notices that name no failed recipient, auto-replies */
    if (!report->bounce)
        bw_autoreply_detect(&head, report);
    if (!report->bounce) {
        report->kind = BW_KIND_NONE;
        report->family = NULL;
        g_ptr_array_set_size(report->recipients, 0);
        report_ensure_utf8(report);
        bw_view_index_clear(&ix);
        return report;
    }

    if (report->kind == BW_KIND_DSN && !wrapped && recipients_need_enrich(report)) {
        /* The human-readable words are those before inline fields. */
        bw_view_t human = view;
        if (inline_at != (size_t)-1)
            human.text_len = inline_at;
        bw_vendor_enrich(&human, report);
    }

    /* The original (unless a detector already read it, e.g. from the JSON
     * of a provider's notification). */
    if (report->original == NULL)
        report->original = attached != NULL ? g_steal_pointer(&attached) : original_from_selection(mime, &sel);
    if (report->original == NULL && view.text_len > 0) {
        size_t from_off = original_offset != (size_t)-1 ? original_offset : marker;
        if (from_off != (size_t)-1)
            report->original = bw_original_from_text(view.text, view.text_len, from_off);
    }
    /* The quoted original may sit in another text part (some servers put
     * it in a second text/plain part). */
    for (unsigned i = 0; i < sel.n_leaves && report->original == NULL; i++) {
        if (!bw_mpart_is(&parts[sel.leaves[i]], "text", NULL))
            continue;
        size_t len = 0;
        g_autofree char *t = bw_mpart_text(&parts[sel.leaves[i]], BW_MAX_FIELDS_BYTES, &len);
        if (t != NULL)
            report->original = bw_original_from_text(t, len, 0);
    }
    if (report->original == NULL && view.text_len > 0 &&
        (report->kind == BW_KIND_DSN || report->kind == BW_KIND_BOUNCE)) {
        /* No marker: a quoted header block anywhere in the notice (it
         * needs an identifying field, see bw_original_from_text). */
        report->original = bw_original_from_text(view.text, view.text_len, 0);
    }
    if (report->original == NULL && (report->kind == BW_KIND_DSN || report->kind == BW_KIND_BOUNCE ||
                                     report->kind == BW_KIND_FEEDBACK))
        report->original = original_from_raw(bytes, nlen);
    if (report->original == NULL &&
        (report->kind == BW_KIND_AUTOREPLY || report->kind == BW_KIND_CHALLENGE))
        report->original = original_from_reply(report);

    /* A report whose notice and fields name nobody: the recipients the
     * server lists in X-Failed-Recipients (Exim, Gmail), else the
     * original's addressees (a bounce is about them). */
    if (report->recipients->len == 0 && (report->kind == BW_KIND_DSN || report->kind == BW_KIND_BOUNCE)) {
        const char *xfr = bw_view_header(&view, "X-Failed-Recipients");
        if (xfr != NULL) {
            g_auto(GStrv) list = g_strsplit(xfr, ",", BW_MAX_RECIPIENTS);
            for (guint i = 0; list[i] != NULL; i++) {
                char *a = bw_address_normalize(list[i]);
                if (a == NULL)
                    continue;
                bw_recipient_t *r = bw_recipient_new();
                r->address = a;
                g_ptr_array_add(report->recipients, r);
            }
        }
        for (guint i = 0; report->recipients->len == 0 && report->original != NULL &&
                          i < report->original->to->len && i < BW_MAX_RECIPIENTS; i++) {
            bw_recipient_t *r = bw_recipient_new();
            r->address = g_strdup(g_ptr_array_index(report->original->to, i));
            g_ptr_array_add(report->recipients, r);
        }
        if (report->recipients->len > 0 && view.text_len > 0) {
            /* the diagnostic and status, from the notice's words */
            bw_view_t human = view;
            if (marker != (size_t)-1)
                human.text_len = marker;
            bw_vendor_enrich(&human, report);
        }
    }

    /* The original may itself be a bounce: read it for the real one. */
    if (!wrapped && (report->kind == BW_KIND_DSN || report->kind == BW_KIND_BOUNCE)) {
        const bw_mpart_t *child = NULL;
        if (sel.original >= 0 && sel.original_whole)
            for (guint i = (guint)sel.original + 1; i < mime->parts->len && child == NULL; i++)
                if (parts[i].parent == sel.original)
                    child = &parts[i];
        if (child != NULL) {
            size_t clen = (size_t)(child->body + child->body_len - child->hdr);
            descend_nested(report, child->hdr, clen, child->hdr_len, depth);
        } else if (view.text_len > 0) {
            size_t from_off = original_offset != (size_t)-1 ? original_offset : marker;
            size_t at = from_off != (size_t)-1 ? quoted_message_start(view.text, view.text_len, from_off)
                                               : (size_t)-1;
            if (at != (size_t)-1)
                descend_nested(report, view.text + at, view.text_len - at, 0, depth);
        }
    }

    /* A complaint that names no complainer: the original's addressee. */
    if (report->kind == BW_KIND_FEEDBACK && report->recipients->len == 0 && report->original != NULL) {
        for (guint i = 0; i < report->original->to->len && i < BW_MAX_RECIPIENTS; i++) {
            bw_recipient_t *r = bw_recipient_new();
            r->address = g_strdup(g_ptr_array_index(report->original->to, i));
            g_ptr_array_add(report->recipients, r);
        }
    }
    /* An anti-virus notice whose failed recipients were read as a
     * failure's: its kind is virus (finish_recipients gives the reason). */
    if (virus_notice && (report->kind == BW_KIND_DSN || report->kind == BW_KIND_BOUNCE))
        report->kind = BW_KIND_VIRUS;
    report_ensure_utf8(report);
    finish_recipients(report);
    bw_view_index_clear(&ix);
    return report;
}

/* ------------------------------------------------------------ API */

static bw_status_t
parse_one(const char *data, size_t len, bw_report_t **out, char **detail)
{
    bw_status_t st = bw_message_check(data, len, detail);
    if (st != BW_OK)
        return st;
    /* A lone message saved with its mbox envelope line: drop that line. */
    if (bw_mbox_detect(data, len)) {
        const char *nl = memchr(data, '\n', len);
        if (nl == NULL) {
            return bw_error_set(detail, BW_E_NOT_MAIL, "no header fields: not an e-mail message");
        }
        len -= (size_t)(nl + 1 - data);
        data = nl + 1;
        st = bw_message_check(data, len, detail);
        if (st != BW_OK)
            return st;
    }
    /* Blank or white-space-only lines before the first header (saved by
     * some clients and archives) are no header block. */
    size_t lead = 0;
    for (size_t k = 0; k < len && k < 65536;) {
        while (k < len && (data[k] == ' ' || data[k] == '\t'))
            k++;
        if (k >= len || (data[k] != '\n' && data[k] != '\r'))
            break;
        k += (data[k] == '\r' && k + 1 < len && data[k + 1] == '\n') ? 2 : 1;
        lead = k;
    }
    data += lead;
    len -= lead;
    size_t nlen = 0;
    char *norm = bw_message_normalize(data, len, &nlen);
    bw_refusal_begin();
    bw_report_t *r = parse_message(norm, nlen, 0);
    g_autofree char *refused = bw_refusal_end();
    if (refused != NULL) {
        /* A structural bomb somewhere in it: no part of what was read
         * stands for the message. */
        bw_report_free(r);
        return bw_error_set(detail, BW_E_REFUSED, "%s", refused);
    }
    if (r == NULL) {
        return bw_error_set(detail, BW_E_NOT_MAIL, "not an e-mail message");
    }
    *out = r;
    return BW_OK;
}

bw_status_t
bw_parse_bytes(const char *data, size_t len, bw_report_t **out, char **detail)
{
    if (out == NULL || (data == NULL && len > 0))
        return BW_E_INVALID;
    *out = NULL;
    bw_status_t st = bw_init();
    if (st != BW_OK)
        return st;
    return parse_one(data, len, out, detail);
}

/* Reads a file: all of an mbox (refusing more than BW_MAX_MESSAGE_BYTES *
 * 16), only the first BW_PARSE_MAX_BYTES of a single message (nothing past
 * them is read; a 50 MB message costs 4 MB).  Read to its end, not to the
 * size stat() gave (a file that reports 0 bytes, as /proc files do, may
 * hold more).  A read() error is an error (BW_E_IO), never the end of a
 * truncated mail.  *file_size gets the size stat() gave.
 *
 * Four system calls for most files (open, fstat, one read, close): the
 * first read asks for one byte more than stat() said, straight into the
 * buffer the file is kept in, and when it comes back short exactly at that
 * size it has found the end (the read that returns 0 is not made).  A file
 * that grew since (the byte more came) or a read short of the size (some
 * file systems) is read on until read() returns 0, as before.  The first
 * 5 bytes say whether it is an mbox: until they are in, at most
 * BW_PARSE_MAX_BYTES are asked for, the smaller of the two limits.  (It
 * was a 5-byte read, then a read of the rest, then the read of the end:
 * two system calls more per file.) */
static bw_status_t
read_file(const char *path, char **data, size_t *len, guint64 *file_size, char **detail)
{
    /* O_NONBLOCK: a FIFO must not stop the batch in open() waiting for a
     * writer (it is refused below, as anything but a regular file). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        return bw_error_set(detail, BW_E_IO, "%s: %s", path, g_strerror(errno));
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int fstat_errno = errno;   /* close() may change errno */
        close(fd);
        return bw_error_set(detail, BW_E_IO, "%s: %s", path, g_strerror(fstat_errno));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return bw_error_set(detail, BW_E_IO, "%s: %s", path, S_ISDIR(sb.st_mode) ? "is a directory" : "not a regular file");
    }
    guint64 cap = (guint64)BW_MAX_MESSAGE_BYTES * 16u;
    *file_size = (guint64)sb.st_size;
    if ((guint64)sb.st_size > cap) {
        close(fd);
        return bw_error_set(detail, BW_E_TOO_LARGE, "%s: file larger than %u MiB", path, (unsigned)(cap >> 20));
    }
    size_t stat_size = sb.st_size > 0 ? (size_t)sb.st_size : 0;
    /* The limit is BW_PARSE_MAX_BYTES until the first bytes say "From ". */
    enum { HEAD = 5 };
    size_t limit = BW_PARSE_MAX_BYTES;
    bool head_known = false;
    /* One byte more than stat() says: the read that finds the end then
     * has room, and does not double the buffer first (every file was
     * copied into one twice its size). */
    size_t alloc = stat_size > 0 ? MIN(stat_size + 1, limit) : 65536;
    char *buf = g_try_malloc(alloc + 1);
    if (buf == NULL) {
        close(fd);
        return BW_E_NOMEM;
    }
    size_t got = 0;
    for (;;) {
        if (!head_known && got >= HEAD) {
            head_known = true;
            if (memcmp(buf, "From ", HEAD) == 0)
                limit = (size_t)cap;
        }
        if (got >= limit)
            break;
        if (got == alloc) {
            /* More than stat() said (or an mbox past the first limit):
             * grow, up to the limit; an mbox at once to its stat() size. */
            size_t grown = alloc < limit / 2 ? alloc * 2 : limit;
            if (head_known && stat_size >= alloc)
                grown = MAX(grown, MIN(stat_size + 1, limit));
            char *more = g_try_realloc(buf, grown + 1);
            if (more == NULL) {
                g_free(buf);
                close(fd);
                return BW_E_NOMEM;
            }
            buf = more;
            alloc = grown;
        }
        size_t ask = alloc - got;
        ssize_t n = read(fd, buf + got, ask);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int read_errno = errno;
            g_free(buf);
            close(fd);
            if (got < HEAD)
                return bw_error_set(detail, BW_E_IO, "%s: read error: %s", path, g_strerror(read_errno));
            return bw_error_set(detail, BW_E_IO, "%s: read error after %zu bytes: %s", path, got,
                                g_strerror(read_errno));
        }
        if (n == 0)
            break;
        got += (size_t)n;
        /* Short, where fstat() said the file ends: the end. */
        if ((size_t)n < ask && got == stat_size)
            break;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return BW_OK;
}

static void
result_free(gpointer p)
{
    bw_parse_result_t *r = p;
    bw_report_free(r->report);
    g_free(r->detail);
    g_free(r);
}

void
bw_parsed_file_free(bw_parsed_file_t *f)
{
    if (f == NULL)
        return;
    g_ptr_array_unref(f->messages);
    g_free(f);
}

bw_status_t
bw_parse_file_each(const char *path, unsigned first, const bw_parse_sink_t *sink,
                   char **detail)
{
    if (path == NULL || sink == NULL || sink->message == NULL)
        return BW_E_INVALID;
    bw_status_t st = bw_init();
    if (st != BW_OK)
        return st;
    char *bytes = NULL;
    size_t len = 0;
    guint64 file_size = 0;
    st = read_file(path, &bytes, &len, &file_size, detail);
    if (st != BW_OK)
        return st;
    if (!bw_mbox_detect(bytes, len)) {
        if (file_size > BW_MAX_MESSAGE_BYTES) {
            g_free(bytes);
            return bw_error_set(detail, BW_E_TOO_LARGE, "%s: message larger than %u MiB", path,
                                BW_MAX_MESSAGE_BYTES >> 20);
        }
        bw_report_t *r = NULL;
        st = parse_one(bytes, len, &r, detail);
        g_free(bytes);
        if (st == BW_OK)
            sink->message(sink->data, -1, BW_OK, r, NULL);
        return st;
    }
    GArray *spans = bw_mbox_split(bytes, len);
    guint count = spans->len / 2;
    if (count == 0) {
        g_array_unref(spans);
        g_free(bytes);
        return bw_error_set(detail, BW_E_NOT_MAIL, "%s: an mbox without a message", path);
    }
    if (sink->mbox != NULL)
        sink->mbox(sink->data, count);
    for (guint i = first; i < count; i++) {
        gsize b = g_array_index(spans, gsize, 2 * i), e = g_array_index(spans, gsize, 2 * i + 1);
        bw_report_t *r = NULL;
        g_autofree char *why = NULL;
        /* A damaged message inside an mbox does not fail the file: it is
         * a result with its own error, at its own index. */
        bw_status_t mst = parse_one(bytes + b, e - b, &r, &why);
        if (!sink->message(sink->data, (int)i, mst, r, why))
            break;
    }
    g_array_unref(spans);
    g_free(bytes);
    return BW_OK;
}

static void
collect_mbox(void *data, unsigned count)
{
    (void)count;
    ((bw_parsed_file_t *)data)->is_mbox = true;
}

static bool
collect_message(void *data, int index, bw_status_t status, bw_report_t *report,
                const char *detail)
{
    (void)index;   /* messages come in order, from the first */
    bw_parsed_file_t *f = data;
    bw_parse_result_t *r = g_new0(bw_parse_result_t, 1);
    r->status = status;
    r->report = report;
    if (status != BW_OK)
        r->detail = g_strdup(detail ? detail : bw_status_to_string(status));
    g_ptr_array_add(f->messages, r);
    return true;
}

bw_status_t
bw_parse_file(const char *path, bw_parsed_file_t **out, char **detail)
{
    if (path == NULL || out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    bw_parsed_file_t *f = g_new0(bw_parsed_file_t, 1);
    f->messages = g_ptr_array_new_with_free_func(result_free);
    bw_parse_sink_t sink = { collect_mbox, collect_message, f };
    bw_status_t st = bw_parse_file_each(path, 0, &sink, detail);
    if (st != BW_OK) {
        bw_parsed_file_free(f);
        return st;
    }
    *out = f;
    return BW_OK;
}
