/* arf.c: RFC 5965 abuse feedback reports (message/feedback-report).
 *
 * A complaint is about a message the mailbox (apparently) sent: the
 * recipient is the complainer (Original-Rcpt-To, else Removal-Recipient);
 * when neither is given, parse.c falls back to the To of the attached
 * original. */
#include "bw-parse.h"
#include <string.h>

/* The feedback types of RFC 5965 and RFC 6650/6591; anything else seen in a
 * Feedback-Type field is kept as written, lower-cased. */
static bool
field_is(const char *line, size_t ll, const char *name, size_t *voff)
{
    size_t nl = strlen(name);
    if (ll <= nl || g_ascii_strncasecmp(line, name, nl) != 0)
        return false;
    size_t j = nl;
    while (j < ll && (line[j] == ' ' || line[j] == '\t'))
        j++;
    if (j >= ll || line[j] != ':')
        return false;
    j++;
    while (j < ll && (line[j] == ' ' || line[j] == '\t'))
        j++;
    *voff = j;
    return true;
}

static void
add_recipient(bw_report_t *report, const char *value, size_t vl)
{
    if (report->recipients->len >= BW_MAX_RECIPIENTS)
        return;
    g_autofree char *v = g_strndup(value, vl);
    char *addr = bw_address_normalize(v);
    if (addr == NULL)
        return;
    for (guint i = 0; i < report->recipients->len; i++) {
        bw_recipient_t *r = g_ptr_array_index(report->recipients, i);
        if (r->address != NULL && strcmp(r->address, addr) == 0) {
            g_free(addr);
            return;
        }
    }
    bw_recipient_t *r = bw_recipient_new();
    r->address = addr;
    r->reason = BW_REASON_FEEDBACK;
    g_ptr_array_add(report->recipients, r);
}

bool
bw_arf_parse_fields(const char *text, size_t len, bw_report_t *report)
{
    bool seen_type = false;
    size_t pos = 0;
    GPtrArray *removal = g_ptr_array_new_with_free_func(g_free);
    unsigned lines = 0;
    while (pos < len && lines++ < 10000) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        while (ll > 0 && (line[ll - 1] == ' ' || line[ll - 1] == '\t' || line[ll - 1] == '\r'))
            ll--;
        while (ll > 0 && (*line == ' ' || *line == '\t')) {
            line++;
            ll--;
        }
        size_t voff;
        if (field_is(line, ll, "Feedback-Type", &voff)) {
            if (report->feedback_type == NULL && voff < ll) {
                size_t n = 0;
                while (voff + n < ll && line[voff + n] != ' ' && line[voff + n] != ';' && n < 64)
                    n++;
                report->feedback_type = g_ascii_strdown(line + voff, (gssize)n);
            }
            seen_type = true;
        } else if (field_is(line, ll, "Original-Rcpt-To", &voff)) {
            add_recipient(report, line + voff, ll - voff);
        } else if (field_is(line, ll, "Removal-Recipient", &voff)) {
            if (removal->len < 64)
                g_ptr_array_add(removal, g_strndup(line + voff, ll - voff));
        }
    }
    if (report->recipients->len == 0)
        for (guint i = 0; i < removal->len; i++) {
            const char *v = g_ptr_array_index(removal, i);
            add_recipient(report, v, strlen(v));
        }
    g_ptr_array_unref(removal);
    if (!seen_type)
        return false;
    report->bounce = true;
    report->kind = BW_KIND_FEEDBACK;
    report->family = "arf";
    return true;
}

/* Proprietary feedback loops: a complaint desk forwards the complained-
 * about message whole and says what it is in its own words; the
 * complainer is in a provider-specific header (of the original or of the
 * report) or is the original's addressee. */
static const char *const fbl_sender_words[] = {
    "fbl", "feedback", "complaint", "abuse", "spamreport", "spam-report", "spam_report", "scomp",
    "junk-report", "junkreport",
};
static const char *const fbl_words[] = {
    "complaint", "complained", "marked as spam", "reported as spam", "marked this message as spam",
    "marked the attached", "reported the attached", "as junk", "as spam", "spam report",
    "abuse report", "feedback loop", "this is spam", "junk mail report", "unsolicited",
    "plainte", "beschwerde", "als spam markiert", "queja", "reclamação", "reclamo",
    "жалоба", "苦情", "迷惑メール",
};
/* Header names (substrings) that name the complainer. */
static const char *const complainer_fields[] = {
    "complainer", "originalrecipient", "original-recipient", "original-rcpt", "orig-rcpt",
    "x-rcpt-to", "x-original-to", "complaint-recipient", "reported-by",
};

static bool
contains_word(const char *s, size_t n, const char *const *list, size_t count)
{
    for (size_t i = 0; s != NULL && i < count; i++)
        if (bw_casestr(s, n, list[i]) != NULL)
            return true;
    return false;
}

/* The first header of a block whose name holds one of complainer_fields,
 * as an address (g_free it), or NULL. */
static char *
complainer_in(const char *hdr, size_t len)
{
    size_t pos = 0;
    for (unsigned lines = 0; hdr != NULL && pos < len && lines < 2000; lines++) {
        const char *line = hdr + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + 1;
        const char *colon = memchr(line, ':', ll);
        if (colon == NULL || line[0] == ' ' || line[0] == '\t' || colon - line > 76)
            continue;
        if (!contains_word(line, (size_t)(colon - line), complainer_fields, G_N_ELEMENTS(complainer_fields)))
            continue;
        g_autofree char *v = g_strndup(colon + 1, ll - (size_t)(colon - line) - 1);
        char *a = bw_address_normalize(v);
        if (a != NULL)
            return a;
    }
    return NULL;
}

static bool
feedback_loop(const bw_view_t *view, bw_report_t *report, const char *orig_hdr, size_t orig_hdr_len)
{
    if (orig_hdr == NULL)
        return false;
    g_autofree char *from = bw_address_normalize(view->from);
    const char *at = from != NULL ? strchr(from, '@') : NULL;
    size_t fl = view->from != NULL ? strnlen(view->from, 1024) : 0;
    bool desk = (at != NULL && contains_word(from, (size_t)(at - from), fbl_sender_words,
                                             G_N_ELEMENTS(fbl_sender_words)))
        || bw_casestr(view->from, fl, "feedback loop") != NULL || bw_casestr(view->from, fl, "complaint") != NULL;
    if (!desk)
        return false;
    const char *subject = view->subject != NULL ? view->subject : "";
    size_t head = view->text_len < 2048 ? view->text_len : 2048;
    if (!contains_word(subject, strlen(subject), fbl_words, G_N_ELEMENTS(fbl_words))
        && !contains_word(view->text, head, fbl_words, G_N_ELEMENTS(fbl_words)))
        return false;
    char *who = complainer_in(orig_hdr, orig_hdr_len);
    if (who != NULL) {
        add_recipient(report, who, strlen(who));
        g_free(who);
    }
    /* (no header: parse.c gives the original's addressee) */
    report->bounce = true;
    report->kind = BW_KIND_FEEDBACK;
    report->family = "feedback-loop";
    report->feedback_type = g_strdup("abuse");
    return true;
}

/* Complaint formats without a feedback-report part:
 *  - Microsoft JMRP/SNDS (Hotmail, Outlook.com): the complained-about
 *    message attached as message/rfc822, carrying X-HmXmrOriginalRecipient
 *    (the complainer) in its own headers;
 *  - Apple Mail's unsubscribe request: a plain message with
 *    X-Apple-Unsubscribe: true, sent from the subscriber's address;
 *  - other providers' loops (feedback_loop above). */
bool
bw_arf_detect_nonstandard(const bw_view_t *view, bw_report_t *report,
                          const char *orig_hdr, size_t orig_hdr_len)
{
    if (orig_hdr != NULL) {
        size_t vl = 0;
        const char *rcpt = bw_hdr_find(orig_hdr, orig_hdr_len, "X-HmXmrOriginalRecipient", &vl);
        if (rcpt != NULL) {
            add_recipient(report, rcpt, vl);
            report->bounce = true;
            report->kind = BW_KIND_FEEDBACK;
            report->family = "jmrp";
            report->feedback_type = g_strdup("abuse");
            return true;
        }
    }
    const char *apple = bw_view_header(view, "X-Apple-Unsubscribe");
    if (apple != NULL && g_ascii_strncasecmp(apple, "true", 4) == 0) {
        add_recipient(report, view->from, strlen(view->from));
        report->bounce = true;
        report->kind = BW_KIND_FEEDBACK;
        report->family = "apple-unsubscribe";
        report->feedback_type = g_strdup("opt-out");
        return true;
    }
    return feedback_loop(view, report, orig_hdr, orig_hdr_len);
}

/* Fields that only an ARF report carries next to Feedback-Type (RFC 5965
 * section 3.1/3.2); one of them must follow for inline fields to count. */
static const char *const arf_companions[] = {"User-Agent", "Version", "Original-Rcpt-To", "Original-Mail-From",
                                             "Arrival-Date", "Reported-Domain", "Source-IP", "Removal-Recipient",
                                             "Authentication-Results", "Reporting-MTA", "Incidents"};
/* Lines after Feedback-Type searched for a companion field. */
#define ARF_COMPANION_LINES 24

size_t
bw_arf_find_inline(const char *text, size_t len)
{
    /* Most texts hold no such field: one fast search decides that, and
     * the line walk starts at the line of the first occurrence. */
    const char *first = bw_casestr(text, len, "feedback-type");
    if (first == NULL)
        return (size_t)-1;
    size_t pos = (size_t)(first - text);
    while (pos > 0 && text[pos - 1] != '\n')
        pos--;
    unsigned lines = 0;
    while (pos < len && lines++ < 20000) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        size_t voff;
        if (field_is(line, ll, "Feedback-Type", &voff) && voff < ll) {
            size_t q = pos + ll + 1;
            for (unsigned k = 0; k < ARF_COMPANION_LINES && q < len; k++) {
                const char *l2 = text + q;
                const char *n2 = memchr(l2, '\n', len - q);
                size_t l2l = n2 ? (size_t)(n2 - l2) : len - q;
                for (size_t c = 0; c < G_N_ELEMENTS(arf_companions); c++)
                    if (field_is(l2, l2l, arf_companions[c], &voff))
                        return pos;
                q += l2l + 1;
            }
        }
        pos += ll + 1;
    }
    return (size_t)-1;
}
