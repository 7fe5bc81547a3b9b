/* dsn.c: RFC 3464 / RFC 6533 delivery-status fields.
 *
 * Real servers bend the format: blank lines between recipients go missing,
 * fields are indented or folded oddly, the part is labelled text/plain, or
 * the fields sit inline in the human-readable text.  The reader below is a
 * single linear pass over "Name: value" lines that starts a new recipient
 * whenever a recipient field repeats, so all of these read the same. */
#include "bw-parse.h"
#include <string.h>

/* Fields after which a group is "about a recipient". */
typedef enum {
    F_OTHER = 0,
    F_FINAL_RECIPIENT,
    F_ORIGINAL_RECIPIENT,
    F_ACTION,
    F_STATUS,
    F_REMOTE_MTA,
    F_DIAGNOSTIC,
    F_REPORTING_MTA,
} field_t;

static const struct {
    const char *name;
    field_t id;
} dsn_fields[] = {
    { "final-recipient", F_FINAL_RECIPIENT },
    { "original-recipient", F_ORIGINAL_RECIPIENT },
    { "action", F_ACTION },
    { "status", F_STATUS },
    { "remote-mta", F_REMOTE_MTA },
    { "diagnostic-code", F_DIAGNOSTIC },
    { "reporting-mta", F_REPORTING_MTA },
    { "x-actual-recipient", F_OTHER },
    { "last-attempt-date", F_OTHER },
    { "will-retry-until", F_OTHER },
    { "arrival-date", F_OTHER },
    { "received-from-mta", F_OTHER },
    { "x-postfix-queue-id", F_OTHER },
    { "x-postfix-sender", F_OTHER },
    { "x-original-message-id", F_OTHER },
    { "x-display-name", F_OTHER },
    { "x-supplementary-info", F_OTHER },
    { "final-log-id", F_OTHER },
    { "original-envelope-id", F_OTHER },
    { "dsn-gateway", F_OTHER },
};

/* "Name:" at `line` (after optional blanks) naming a delivery-status field;
 * returns the field and sets *value to the text after the colon. */
static bool
match_field(const char *line, size_t ll, field_t *id, size_t *value_off)
{
    size_t i = 0;
    while (i < ll && (line[i] == ' ' || line[i] == '\t'))
        i++;
    /* (the names are lower case: a first byte that differs rules a name
     * out before its length is taken) */
    char first = i < ll ? bw_ascii_lower(line[i]) : '\0';
    for (unsigned k = 0; k < G_N_ELEMENTS(dsn_fields); k++) {
        if (first != dsn_fields[k].name[0])
            continue;
        size_t nl = strlen(dsn_fields[k].name);
        if (ll - i > nl && bw_ascii_ncase_eq(line + i, dsn_fields[k].name, nl)) {
            size_t j = i + nl;
            while (j < ll && (line[j] == ' ' || line[j] == '\t'))
                j++;
            if (j < ll && line[j] == ':') {
                *id = dsn_fields[k].id;
                *value_off = j + 1;
                return true;
            }
        }
    }
    return false;
}

/* RFC 3463 code "c.s.d" (c in 2,4,5; s and d 1-3 digits) anywhere in s. */
static bool
find_status(const char *s, size_t len, char out[16])
{
    for (size_t i = 0; i + 5 <= len; i++) {
        char c = s[i];
        if ((c != '2' && c != '4' && c != '5') || s[i + 1] != '.')
            continue;
        if (i > 0 && (g_ascii_isdigit(s[i - 1]) || s[i - 1] == '.'))
            continue;
        size_t j = i + 2, d1 = 0, d2 = 0;
        while (j < len && g_ascii_isdigit(s[j]) && d1 < 4) {
            j++;
            d1++;
        }
        if (d1 == 0 || d1 > 3 || j >= len || s[j] != '.')
            continue;
        j++;
        while (j < len && g_ascii_isdigit(s[j]) && d2 < 4) {
            j++;
            d2++;
        }
        if (d2 == 0 || d2 > 3 || (j < len && (g_ascii_isdigit(s[j]) || (s[j] == '.' && j + 1 < len && g_ascii_isdigit(s[j + 1])))))
            continue;
        size_t n = j - i;
        memcpy(out, s + i, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

/* SMTP reply code at the start of s ("550 ...", "550-...", "550"). */
static bool
find_reply_code(const char *s, size_t len, char out[4])
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '"' || s[i] == '('))
        i++;
    if (len - i < 3)
        return false;
    if ((s[i] != '2' && s[i] != '4' && s[i] != '5') || !g_ascii_isdigit(s[i + 1]) || !g_ascii_isdigit(s[i + 2]))
        return false;
    if (len - i > 3 && s[i + 3] != ' ' && s[i + 3] != '-' && s[i + 3] != '\t')
        return false;
    memcpy(out, s + i, 3);
    out[3] = '\0';
    return true;
}

/* "type; value" -> value (the address type or diagnostic type dropped). */
static const char *
skip_type(const char *v)
{
    const char *semi = strchr(v, ';');
    if (semi == NULL || semi - v > 24)
        return v;
    for (const char *p = v; p < semi; p++)
        if (!(g_ascii_isalnum(*p) || *p == '-' || *p == '_' || *p == ' ' || *p == '.'))
            return v;
    semi++;
    while (*semi == ' ' || *semi == '\t')
        semi++;
    return semi;
}

static char *
host_of(const char *v)
{
    const char *s = skip_type(v);
    while (*s == ' ' || *s == '[' || *s == '(')
        s++;
    size_t n = 0;
    while (s[n] != '\0' && s[n] != ' ' && s[n] != ']' && s[n] != ')' && s[n] != ';' && s[n] != ',' && n < 255)
        n++;
    while (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0)
        return NULL;
    return g_ascii_strdown(s, (gssize)n);
}

static const char *const actions[] = { "failed", "delayed", "delivered", "relayed", "expanded" };

static char *
normalize_action(const char *v)
{
    g_autofree char *low = g_ascii_strdown(v, -1);
    g_strstrip(low);
    for (unsigned i = 0; i < G_N_ELEMENTS(actions); i++)
        if (g_str_has_prefix(low, actions[i]))
            return g_strdup(actions[i]);
    /* Seen in the wild: "failure", "fail", "delay". */
    if (g_str_has_prefix(low, "fail"))
        return g_strdup("failed");
    if (g_str_has_prefix(low, "delay"))
        return g_strdup("delayed");
    return NULL;
}

typedef struct {
    GString *value;
    field_t id;
    bool active;
} pending_t;

typedef struct {
    bw_recipient_t *cur;
    bool has_final, has_original;
    bool fields_after_final;    /* Action/Status/... seen after Final-Recipient */
    bw_report_t *report;
    unsigned added;
    bool utf8;
} builder_t;

/* The enhanced code in a diagnostic: the one right after the SMTP reply
 * code ("550 5.7.1", "550-5.7.1", "550-'5.7.1"), else the first one. */
static bool
diagnostic_status(const char *d, char out[16])
{
    size_t len = strlen(d);
    for (size_t i = 0; i + 4 < len; i++) {
        if ((d[i] == '4' || d[i] == '5') && g_ascii_isdigit(d[i + 1]) && g_ascii_isdigit(d[i + 2]) &&
            (i == 0 || !g_ascii_isalnum(d[i - 1])) && (d[i + 3] == ' ' || d[i + 3] == '-')) {
            size_t j = i + 4;
            if (j < len && (d[j] == '\'' || d[j] == '"'))
                j++;
            if (j < len && d[j] == d[i] && find_status(d + j, len - j < 16 ? len - j : 16, out) &&
                strncmp(out, d + j, strlen(out)) == 0)
                return true;
        }
    }
    return find_status(d, len, out);
}

static void
flush_recipient(builder_t *b)
{
    if (b->cur == NULL)
        return;
    bw_recipient_t *r = b->cur;
    char ds[16];
    /* The reporting MTA's Status is often its own summary (5.0.0, or
     * sendmail's 4.4.7 for anything deferred) while the remote server's
     * words in Diagnostic-Code carry the precise code: prefer that one when
     * it is of the same class. */
    if (r->diagnostic != NULL && diagnostic_status(r->diagnostic, ds) &&
        (r->status == NULL || (r->status[0] == ds[0] && strcmp(r->status, ds) != 0))) {
        g_free(r->status);
        r->status = g_strdup(ds);
    }
    if (b->cur->address == NULL && b->cur->original_address != NULL) {
        /* No Final-Recipient: the Original-Recipient is what was tried. */
        b->cur->address = g_steal_pointer(&b->cur->original_address);
    }
    if (b->cur->address != NULL && b->report->recipients->len < BW_MAX_RECIPIENTS) {
        if (b->cur->original_address != NULL && strcmp(b->cur->original_address, b->cur->address) == 0)
            g_clear_pointer(&b->cur->original_address, g_free);
        g_ptr_array_add(b->report->recipients, b->cur);
        b->added++;
    } else {
        bw_recipient_free(b->cur);
    }
    b->cur = NULL;
    b->has_final = b->has_original = b->fields_after_final = false;
}

static void
apply_field(builder_t *b, field_t id, const char *value)
{
    switch (id) {
    case F_FINAL_RECIPIENT:
        if (b->cur != NULL && b->has_final)
            flush_recipient(b);
        break;
    case F_ORIGINAL_RECIPIENT:
        /* Original-Recipient may come before or after Final-Recipient; it
         * opens a new group (blank line missing) only when this group has
         * one already, or has gone past its recipient fields. */
        if (b->cur != NULL && (b->has_original || b->fields_after_final))
            flush_recipient(b);
        break;
    case F_ACTION:
    case F_STATUS:
    case F_REMOTE_MTA:
    case F_DIAGNOSTIC:
        /* Some servers write Action/Status before Final-Recipient: keep
         * them for the recipient this group is about (a group that never
         * names one is dropped at the flush).  The same field again after
         * a named recipient starts the next group (blank line missing). */
        if (b->cur != NULL && b->has_final &&
            ((id == F_ACTION && b->cur->action != NULL) || (id == F_STATUS && b->cur->status != NULL) ||
             (id == F_REMOTE_MTA && b->cur->remote_mta != NULL) ||
             (id == F_DIAGNOSTIC && b->cur->diagnostic != NULL)))
            flush_recipient(b);
        break;
    default:
        return;
    }
    if (b->cur == NULL)
        b->cur = bw_recipient_new();
    if (b->has_final && id != F_FINAL_RECIPIENT && id != F_ORIGINAL_RECIPIENT)
        b->fields_after_final = true;
    bw_recipient_t *r = b->cur;
    switch (id) {
    case F_FINAL_RECIPIENT:
        b->has_final = true;
        g_free(r->address);
        r->address = bw_address_normalize(skip_type(value));
        break;
    case F_ORIGINAL_RECIPIENT:
        b->has_original = true;
        g_free(r->original_address);
        r->original_address = bw_address_normalize(skip_type(value));
        break;
    case F_ACTION:
        if (r->action == NULL)
            r->action = normalize_action(value);
        break;
    case F_STATUS: {
        char st[16];
        if (r->status == NULL && find_status(value, strlen(value), st))
            r->status = g_strdup(st);
        break;
    }
    case F_REMOTE_MTA:
        if (r->remote_mta == NULL)
            r->remote_mta = host_of(value);
        break;
    case F_DIAGNOSTIC: {
        if (r->diagnostic != NULL)
            break;
        const char *d = skip_type(value);
        r->diagnostic = bw_strdup_squeezed(d, strlen(d));
        if (r->diagnostic[0] == '\0') {
            g_clear_pointer(&r->diagnostic, g_free);
            break;
        }
        char rc[4];
        if (r->reply_code == NULL && find_reply_code(r->diagnostic, strlen(r->diagnostic), rc))
            r->reply_code = g_strdup(rc);
        break;
    }
    default:
        break;
    }
}

unsigned
bw_dsn_parse_fields(const char *text, size_t len, bool utf8, bw_report_t *report)
{
    builder_t b = { .report = report, .utf8 = utf8 };
    pending_t p = { .value = g_string_new(NULL), .id = F_OTHER, .active = false };
    size_t pos = 0;
    unsigned lines = 0;
    while (pos < len && lines < 20000) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lines++;
        while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
            ll--;
        field_t id;
        size_t voff;
        bool blank = ll == 0;
        bool is_field = !blank && match_field(line, ll, &id, &voff);
        bool continuation = !blank && !is_field && (line[0] == ' ' || line[0] == '\t') && p.active;
        if (continuation) {
            if (p.value->len < 4096) {
                g_string_append_c(p.value, ' ');
                g_string_append_len(p.value, line, (gssize)(ll < 4096 ? ll : 4096));
            }
            continue;
        }
        if (p.active) {
            apply_field(&b, p.id, p.value->str);
            p.active = false;
        }
        if (blank) {
            /* A blank line ends a recipient group. */
            if (b.cur != NULL && (b.has_final || b.has_original))
                flush_recipient(&b);
            continue;
        }
        if (is_field) {
            g_string_assign(p.value, "");
            g_string_append_len(p.value, line + voff, (gssize)(ll - voff < 4096 ? ll - voff : 4096));
            p.id = id;
            p.active = true;
        }
        /* Any other line (an unknown field, stray text) ends a pending
         * field but not the group. */
    }
    if (p.active)
        apply_field(&b, p.id, p.value->str);
    flush_recipient(&b);
    g_string_free(p.value, TRUE);
    return b.added;
}

size_t
bw_dsn_find_inline(const char *text, size_t len, bool column0)
{
    size_t pos = 0;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        field_t id;
        size_t voff;
        if (ll > 0 && (!column0 || (line[0] != ' ' && line[0] != '\t' && line[0] != '>')) &&
            match_field(line, ll, &id, &voff) &&
            (id == F_FINAL_RECIPIENT || id == F_ORIGINAL_RECIPIENT || id == F_REPORTING_MTA))
            return pos;
        pos += ll + (nl ? 1 : 0);
    }
    return (size_t)-1;
}
