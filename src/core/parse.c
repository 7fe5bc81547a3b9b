/* parse.c: bw_parse_bytes / bw_parse_file: one report per message.
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
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ objects */

bw_recipient_t *
bw_recipient_new(void)
{
    return g_new0(bw_recipient_t, 1);
}

void
bw_recipient_free(bw_recipient_t *r)
{
    if (r == NULL)
        return;
    g_free(r->address);
    g_free(r->original_address);
    g_free(r->action);
    g_free(r->status);
    g_free(r->reply_code);
    g_free(r->remote_mta);
    g_free(r->diagnostic);
    g_free(r);
}

bw_original_t *
bw_original_new(void)
{
    bw_original_t *o = g_new0(bw_original_t, 1);
    o->to = g_ptr_array_new_with_free_func(g_free);
    o->received = g_ptr_array_new_with_free_func(g_free);
    o->url_domains = g_ptr_array_new_with_free_func(g_free);
    return o;
}

void
bw_original_free(bw_original_t *o)
{
    if (o == NULL)
        return;
    g_free(o->message_id);
    g_free(o->from);
    g_ptr_array_unref(o->to);
    g_free(o->subject);
    g_free(o->date);
    g_free(o->return_path);
    g_ptr_array_unref(o->received);
    g_free(o->dkim_domain);
    g_free(o->x_mailer);
    g_free(o->in_reply_to);
    g_free(o->body_text);
    g_ptr_array_unref(o->url_domains);
    g_free(o);
}

bw_report_t *
bw_report_new(void)
{
    bw_report_t *r = g_new0(bw_report_t, 1);
    r->recipients = g_ptr_array_new_with_free_func((GDestroyNotify)bw_recipient_free);
    r->references = g_ptr_array_new_with_free_func(g_free);
    r->to = g_ptr_array_new_with_free_func(g_free);
    return r;
}

void
bw_report_free(bw_report_t *r)
{
    if (r == NULL)
        return;
    g_ptr_array_unref(r->recipients);
    bw_original_free(r->original);
    g_free(r->feedback_type);
    g_free(r->message_id);
    g_free(r->from);
    g_free(r->subject);
    g_free(r->date);
    g_free(r->in_reply_to);
    g_ptr_array_unref(r->references);
    g_ptr_array_unref(r->to);
    g_free(r->auto_submitted);
    g_free(r);
}

/* ------------------------------------------------------------ the view */

const char *
bw_view_header(const bw_view_t *v, const char *name)
{
    if (v == NULL || v->message == NULL || name == NULL)
        return NULL;
    return g_mime_object_get_header(GMIME_OBJECT(v->message), name);
}

static void
fill_report_headers(bw_report_t *r, GMimeMessage *m)
{
    GMimeObject *obj = GMIME_OBJECT(m);
    const char *mid = g_mime_message_get_message_id(m);
    r->message_id = bw_msgid_normalize(mid != NULL ? mid : g_mime_object_get_header(obj, "Message-ID"));
    r->from = bw_address_normalize(g_mime_object_get_header(obj, "From"));
    r->subject = bw_object_header_decoded(obj, "Subject");
    GDateTime *date = g_mime_message_get_date(m);
    if (date != NULL) {
        r->date_unix = g_date_time_to_unix(date);
        r->date = bw_time_format(r->date_unix, (int)(g_date_time_get_utc_offset(date) / G_USEC_PER_SEC));
    }
    r->in_reply_to = bw_msgid_normalize(g_mime_object_get_header(obj, "In-Reply-To"));
    const char *refs = g_mime_object_get_header(obj, "References");
    if (refs != NULL) {
        GMimeReferences *list = g_mime_references_parse(NULL, refs);
        int n = list != NULL ? g_mime_references_length(list) : 0;
        for (int i = 0; i < n && i < 64; i++) {
            char *id = bw_msgid_normalize(g_mime_references_get_message_id(list, i));
            if (id != NULL)
                g_ptr_array_add(r->references, id);
        }
        if (list != NULL)
            g_mime_references_free(list);
    }
    InternetAddressList *to = g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO);
    int n = to != NULL ? internet_address_list_length(to) : 0;
    for (int i = 0; i < n && i < 100; i++) {
        InternetAddress *ia = internet_address_list_get_address(to, i);
        if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
            continue;
        char *a = bw_address_normalize(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
        if (a != NULL)
            g_ptr_array_add(r->to, a);
    }
    const char *as = g_mime_object_get_header(obj, "Auto-Submitted");
    if (as != NULL)
        r->auto_submitted = bw_strdup_squeezed(as, strnlen(as, 256));
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
    o->subject = bw_subject_strip_prefixes(report->subject);
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
    if (*s == NULL || g_utf8_validate(*s, -1, NULL))
        return;
    size_t n = 0;
    char *u = bw_to_utf8(*s, strlen(*s), NULL, &n);
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

static bw_report_t *
parse_message(char *norm, size_t nlen)
{
    /* The bytes outlive the message (cleanups run in reverse order of
     * declaration): GMime reads them in place, original_from_raw too. */
    g_autoptr(GByteArray) bytes = g_byte_array_new_take((guint8 *)norm, nlen);
    g_autoptr(GMimeMessage) m = bw_message_parse_bytes(bytes);
    if (m == NULL)
        return NULL;
    bw_report_t *report = bw_report_new();
    fill_report_headers(report, m);

    bw_parts_t parts;
    bw_message_walk(m, &parts);

    bw_view_t view = { 0 };
    view.message = m;
    const char *from = g_mime_object_get_header(GMIME_OBJECT(m), "From");
    view.from = from != NULL ? from : "";
    view.subject = report->subject != NULL ? report->subject : "";
    GMimeObject *textpart = parts.text_plain != NULL ? parts.text_plain : parts.text_html;
    size_t tlen = 0;
    g_autofree char *text = textpart != NULL ? bw_part_text(textpart, BW_MAX_SCAN_BYTES, &tlen) : NULL;
    GMimeObject *root = g_mime_message_get_mime_part(m);
    if (text == NULL && root != NULL && GMIME_IS_MULTIPART(root)) {
        /* A multipart whose boundary never occurs (seen in real DSNs):
         * everything is in the prologue, which is then the notice. */
        const char *prologue = g_mime_multipart_get_prologue(GMIME_MULTIPART(root));
        if (prologue != NULL) {
            size_t pl = strnlen(prologue, BW_MAX_SCAN_BYTES);
            text = bw_to_utf8(prologue, pl, NULL, &tlen);
        }
    }
    view.text = text != NULL ? text : "";
    view.text_len = tlen;
    view.rfc822_part = parts.rfc822;
    GMimeContentType *ct = root != NULL ? g_mime_object_get_content_type(root) : NULL;
    view.is_multipart_report = ct != NULL && g_mime_content_type_is_type(ct, "multipart", "report");

    /* Where a quoted original starts in the text; detectors reading the
     * text must stop there. */
    size_t marker = view.text_len > 0 ? bw_original_find_marker(view.text, view.text_len) : (size_t)-1;
    size_t original_offset = (size_t)-1;

    /* 1. RFC 3464 / RFC 6533 */
    if (parts.delivery_status != NULL) {
        size_t len = 0;
        g_autofree char *ds = bw_part_raw(parts.delivery_status, BW_MAX_FIELDS_BYTES, &len);
        if (ds != NULL && bw_dsn_parse_fields(ds, len, parts.global_ds, report) > 0) {
            report->bounce = true;
            report->kind = BW_KIND_DSN;
            report->family = parts.global_ds ? "rfc6533" : "rfc3464";
        }
    }
    /* 2. RFC 5965 */
    if (!report->bounce && parts.feedback != NULL) {
        size_t len = 0;
        g_autofree char *fb = bw_part_raw(parts.feedback, BW_MAX_FIELDS_BYTES, &len);
        if (fb != NULL)
            bw_arf_parse_fields(fb, len, report);
    }
    if (!report->bounce)
        bw_arf_detect_nonstandard(&view, report);
    /* 3. broken DSNs: the fields in a mislabelled part or inline in the
     * notice's own text (before any quoted original). */
    if (!report->bounce) {
        for (unsigned i = 0; i < parts.n_leaves && !report->bounce; i++) {
            GMimeContentType *lct = g_mime_object_get_content_type(parts.leaves[i]);
            if (lct == NULL || !(g_mime_content_type_is_type(lct, "text", "*") ||
                                 g_mime_content_type_is_type(lct, "message", "*")))
                continue;       /* images, archives: no fields in there */
            size_t len = 0;
            g_autofree char *raw = bw_part_raw(parts.leaves[i], BW_MAX_FIELDS_BYTES, &len);
            if (raw == NULL)
                continue;
            size_t at = bw_dsn_find_inline(raw, len, false);
            if (at != (size_t)-1 && bw_dsn_parse_fields(raw + at, len - at, false, report) > 0) {
                report->bounce = true;
                report->kind = BW_KIND_DSN;
                report->family = "rfc3464";
            }
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
    bool ds_without_recipients = !report->bounce && parts.delivery_status != NULL;
    /* 4. non-standard notices.  Mailing-list mail is skipped unless a mail
     * daemon sent it: real notices carry no list headers, while list posts
     * and newsletters quote notices when they discuss them. */
    bool list_post = is_list_mail(&view) && !sender_is_daemon(view.from);
    if (!report->bounce && !list_post) {
        if (bw_vendor_parse(&view, report, &original_offset)) {
            report->bounce = true;
            if (report->kind == BW_KIND_NONE)
                report->kind = BW_KIND_BOUNCE;
        } else {
            /* The vendor detector may have started filling; a "no" resets. */
            g_ptr_array_set_size(report->recipients, 0);
            original_offset = (size_t)-1;
        }
    }
    if (!report->bounce && ds_without_recipients) {
        report->bounce = true;
        report->kind = BW_KIND_DSN;
        report->family = "rfc3464";
    }
    /* 5. virus, challenge-response, auto-replies */
    if (!report->bounce) {
        bw_view_t head = view;
        if (marker != (size_t)-1)
            head.text_len = marker;
        bw_autoreply_detect(&head, report);
    }
    if (!report->bounce) {
        report->kind = BW_KIND_NONE;
        report->family = NULL;
        g_ptr_array_set_size(report->recipients, 0);
        report_ensure_utf8(report);
        return report;
    }

    if (report->kind == BW_KIND_DSN && recipients_need_enrich(report)) {
        /* The human-readable words are those before inline fields. */
        bw_view_t human = view;
        if (inline_at != (size_t)-1)
            human.text_len = inline_at;
        bw_vendor_enrich(&human, report);
    }

    /* The original. */
    if (parts.rfc822 != NULL)
        report->original = bw_original_from_part(parts.rfc822);
    if (report->original == NULL && view.text_len > 0) {
        size_t from_off = original_offset != (size_t)-1 ? original_offset : marker;
        if (from_off != (size_t)-1)
            report->original = bw_original_from_text(view.text, view.text_len, from_off);
    }
    if (report->original == NULL) {
        /* The quoted original may sit in another text part (some servers
         * put it in a second text/plain part). */
        for (unsigned i = 0; i < parts.n_leaves && report->original == NULL; i++) {
            GMimeContentType *lct = g_mime_object_get_content_type(parts.leaves[i]);
            if (lct == NULL || !g_mime_content_type_is_type(lct, "text", "*"))
                continue;
            size_t len = 0;
            g_autofree char *t = bw_part_text(parts.leaves[i], BW_MAX_FIELDS_BYTES, &len);
            if (t != NULL)
                report->original = bw_original_from_text(t, len, 0);
        }
    }
    if (report->original == NULL && view.text_len > 0 &&
        (report->kind == BW_KIND_DSN || report->kind == BW_KIND_BOUNCE)) {
        /* No marker: a quoted header block anywhere in the notice (it
         * needs an identifying field, see bw_original_from_text). */
        report->original = bw_original_from_text(view.text, view.text_len, 0);
    }
    if (report->original == NULL && (report->kind == BW_KIND_DSN || report->kind == BW_KIND_BOUNCE ||
                                     report->kind == BW_KIND_FEEDBACK))
        report->original = original_from_raw((const char *)bytes->data, bytes->len);
    if (report->original == NULL &&
        (report->kind == BW_KIND_AUTOREPLY || report->kind == BW_KIND_CHALLENGE))
        report->original = original_from_reply(report);

    /* A complaint that names no complainer: the original's addressee. */
    if (report->kind == BW_KIND_FEEDBACK && report->recipients->len == 0 && report->original != NULL) {
        for (guint i = 0; i < report->original->to->len && i < BW_MAX_RECIPIENTS; i++) {
            bw_recipient_t *r = bw_recipient_new();
            r->address = g_strdup(g_ptr_array_index(report->original->to, i));
            g_ptr_array_add(report->recipients, r);
        }
    }
    report_ensure_utf8(report);
    finish_recipients(report);
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
            bw_set_detail(detail, "no header fields: not an e-mail message");
            return BW_E_NOT_MAIL;
        }
        len -= (size_t)(nl + 1 - data);
        data = nl + 1;
        st = bw_message_check(data, len, detail);
        if (st != BW_OK)
            return st;
    }
    size_t nlen = 0;
    char *norm = bw_message_normalize(data, len, &nlen);
    bw_report_t *r = parse_message(norm, nlen);
    if (r == NULL) {
        bw_set_detail(detail, "not an e-mail message");
        return BW_E_NOT_MAIL;
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

/* Reads a whole file, refusing more than BW_MAX_MESSAGE_BYTES (an mbox may
 * hold many messages, so its cap is larger: BW_MAX_MESSAGE_BYTES * 16). */
static bw_status_t
read_file(const char *path, char **data, size_t *len, char **detail)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        bw_set_detail(detail, "%s: %s", path, g_strerror(errno));
        return BW_E_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        bw_set_detail(detail, "%s: %s", path, S_ISDIR(sb.st_mode) ? "is a directory" : "not a regular file");
        close(fd);
        return BW_E_IO;
    }
    guint64 cap = (guint64)BW_MAX_MESSAGE_BYTES * 16u;
    if ((guint64)sb.st_size > cap) {
        bw_set_detail(detail, "%s: file larger than %u MiB", path, (unsigned)(cap >> 20));
        close(fd);
        return BW_E_TOO_LARGE;
    }
    size_t size = (size_t)sb.st_size;
    char *buf = g_try_malloc(size + 1);
    if (buf == NULL) {
        close(fd);
        return BW_E_NOMEM;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return BW_OK;
}

bw_status_t
bw_parse_file(const char *path, GPtrArray **out, bool *is_mbox, char **detail)
{
    if (path == NULL || out == NULL)
        return BW_E_INVALID;
    *out = NULL;
    if (is_mbox != NULL)
        *is_mbox = false;
    bw_status_t st = bw_init();
    if (st != BW_OK)
        return st;
    char *data = NULL;
    size_t len = 0;
    st = read_file(path, &data, &len, detail);
    if (st != BW_OK)
        return st;
    GPtrArray *reports = g_ptr_array_new_with_free_func((GDestroyNotify)bw_report_free);
    if (bw_mbox_detect(data, len)) {
        GArray *spans = bw_mbox_split(data, len);
        for (guint i = 0; i + 1 < spans->len; i += 2) {
            gsize b = g_array_index(spans, gsize, i), e = g_array_index(spans, gsize, i + 1);
            bw_report_t *r = NULL;
            /* A damaged message inside an mbox does not fail the file. */
            if (parse_one(data + b, e - b, &r, NULL) == BW_OK)
                g_ptr_array_add(reports, r);
        }
        g_array_unref(spans);
        if (is_mbox != NULL)
            *is_mbox = true;
        if (reports->len == 0) {
            g_ptr_array_unref(reports);
            g_free(data);
            bw_set_detail(detail, "%s: an mbox without a readable message", path);
            return BW_E_NOT_MAIL;
        }
    } else {
        if (len > BW_MAX_MESSAGE_BYTES) {
            g_ptr_array_unref(reports);
            g_free(data);
            bw_set_detail(detail, "%s: message larger than %u MiB", path, BW_MAX_MESSAGE_BYTES >> 20);
            return BW_E_TOO_LARGE;
        }
        bw_report_t *r = NULL;
        st = parse_one(data, len, &r, detail);
        if (st != BW_OK) {
            g_ptr_array_unref(reports);
            g_free(data);
            return st;
        }
        g_ptr_array_add(reports, r);
    }
    g_free(data);
    *out = reports;
    return BW_OK;
}
