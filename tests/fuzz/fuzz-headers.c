/* fuzz-headers.c: the header, address and date helpers, on a header block.
 *
 * fuzz-options: -max_len=32768 -timeout=10
 * fuzz-dict: mail.dict
 * fuzz-sources: src/adapters/nm-query.c
 *
 * The input is a header block ("Name: value" lines, folded or not),
 * optionally followed by a blank line and a body.  A message spends most of
 * its bytes elsewhere; here every mutation lands in a header value:
 *   - each field's value, unfolded, through the helpers that read values:
 *     bw_address_normalize, bw_msgid_normalize, bw_time_parse (and
 *     bw_time_format), bw_header_decode (RFC 2047 words), bw_hop_parse
 *     (Received), bw_status_code_find and the reason tables, and the
 *     notmuch query text the adapter makes of a subject or an address
 *     (nm-query.c), each with what it promises checked;
 *   - the caps that stand before GMime's parsers, with what they promise:
 *     an address field bw_caps_check_addresses passes is parsed by GMime
 *     into groups no deeper than BW_MAX_ADDRESS_GROUP_DEPTH; the fields
 *     bw_header_fields_extract hands on pass bw_header_block_check; every
 *     refusal names its cap (the helpers run between bw_refusal_begin and
 *     bw_refusal_end, as in a parse, so the per-message count of encoded
 *     words applies);
 *   - the block as the core reads header blocks: bw_header_next_field,
 *     bw_hdr_find/_get/_get_raw, bw_original_from_headers (where GMime's
 *     address-list and date parsers are called, after the caps) and
 *     bw_original_from_text (quoted headers), the delivery-status and
 *     feedback-report field readers;
 *   - the whole input as a MIME entity: bw_mime_parse, whose header reader
 *     takes the Content-Type parameters (charset, boundary, RFC 2231 forms),
 *     and every part's decoded text; then bw_parse_bytes, where the
 *     report's own To goes through GMime's address parser as we call it. */
#include "fuzz-common.h"
#include "bw-parse.h"
#include "bw-engine.h"
#include "bw-vendor.h"
#include "nm-query.h"
#include <string.h>

/* Fields looked at per input: the block is cut there (a bound of the
 * target, not of the code under test). */
#define MAX_FIELDS 64

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bw_fuzz_init("fuzz-headers");
    return 0;
}

static void
check_utf8_line(const char *what, const char *s)
{
    if (s == NULL)
        return;
    if (!g_utf8_validate(s, -1, NULL))
        bw_fuzz_fail("%s: not valid UTF-8: %.200s", what, s);
    if (strchr(s, '\n') != NULL || strchr(s, '\r') != NULL)
        bw_fuzz_fail("%s: a line end in a squeezed value: %.200s", what, s);
}

static void
check_address(const char *value)
{
    g_autofree char *a = bw_address_normalize(value);
    if (a == NULL)
        return;
    const char *at = strchr(a, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL || at == a || at[1] == '\0')
        bw_fuzz_fail("bw_address_normalize: not local@domain: %.200s", a);
    for (const char *p = a; *p; p++)
        if (g_ascii_isupper(*p) || g_ascii_isspace(*p) || *p == '<' || *p == '>')
            bw_fuzz_fail("bw_address_normalize: not a lower-cased bare address: %.200s", a);
    /* A normalised address is its own normal form: the engine compares
     * addresses normalised at different times (a report's, a stored one). */
    g_autofree char *again = bw_address_normalize(a);
    if (again == NULL || strcmp(a, again) != 0)
        bw_fuzz_fail("bw_address_normalize is not idempotent: %.200s -> %.200s", a,
                     again ? again : "(null)");
}

static void
check_msgid(const char *value)
{
    g_autofree char *m = bw_msgid_normalize(value);
    if (m == NULL)
        return;
    if (*m == '\0')
        bw_fuzz_fail("bw_msgid_normalize: an empty Message-ID");
    for (const char *p = m; *p; p++)
        if (g_ascii_isspace(*p))
            bw_fuzz_fail("bw_msgid_normalize: white space in a Message-ID: %.200s", m);
}

static void
check_date(const char *value)
{
    gint64 t = 0;
    int off = 0;
    if (!bw_time_parse(value, &t, &off))
        return;
    if (off < -24 * 3600 || off > 24 * 3600)
        bw_fuzz_fail("bw_time_parse: UTC offset %d s from %.200s", off, value);
    /* The state store keeps dates as this text and reads them back with
     * bw_time_parse: the round trip must give the same instant. */
    g_autofree char *text = bw_time_format(t, off);
    if (text == NULL)
        return;     /* outside what GDateTime represents: written as null */
    gint64 t2 = 0;
    int off2 = 0;
    if (!bw_time_parse(text, &t2, &off2) || t2 != t || off2 != off)
        bw_fuzz_fail("date round trip: %.200s -> %" G_GINT64_FORMAT " %+d -> %s -> %" G_GINT64_FORMAT
                     " %+d", value, t, off, text, t2, off2);
}

static void
check_hop(const char *value)
{
    bw_hop_t hop;
    memset(&hop, 0x5a, sizeof hop);  /* no field may be left unterminated */
    if (!bw_hop_parse(value, &hop))
        return;
    const char *fields[] = {hop.from_helo, hop.from_rdns, hop.from_ip, hop.by};
    const size_t sizes[] = {sizeof hop.from_helo, sizeof hop.from_rdns, sizeof hop.from_ip,
                            sizeof hop.by};
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
        if (memchr(fields[i], '\0', sizes[i]) == NULL)
            bw_fuzz_fail("bw_hop_parse left a field unterminated: %.200s", value);
}

/* The notmuch query text the adapter makes of mail (nm-query.c): an
 * address asked as to:"..." and a subject as subject:"...", whose text
 * holds no '"', '\\' or control character (nor '(' or ')' for a subject:
 * one phrase, single spaces, none at either end, valid UTF-8, bounded);
 * a subject phrase starting with an ASCII letter or digit is one a batch
 * of questions may join. */
static void
check_query_text(const char *value)
{
    if (value == NULL)
        return;
    g_autofree char *to = bw_nm_sent_to_term(value);
    size_t nt = strlen(to);
    if (nt < 5 || strncmp(to, "to:\"", 4) != 0 || to[nt - 1] != '"')
        bw_fuzz_fail("bw_nm_sent_to_term: not one quoted term: %.300s", to);
    for (size_t i = 4; i + 1 < nt; i++)
        if (to[i] == '"' || to[i] == '\\' || (unsigned char)to[i] < 0x20)
            bw_fuzz_fail("bw_nm_sent_to_term: byte 0x%02x inside the quotes: %.300s",
                         (unsigned char)to[i], to);
    g_autofree char *key = bw_nm_subject_key(value);
    g_autofree char *q = *key ? bw_nm_sent_subject_term(key) : NULL;
    if (q == NULL)
        return;
    const char *pre = "subject:\"";
    size_t n = strlen(q), np = strlen(pre);
    if (n < np + 2 || strncmp(q, pre, np) != 0 || q[n - 1] != '"')
        bw_fuzz_fail("bw_nm_sent_subject_term: not one phrase: %.300s", q);
    const char *body = q + np;
    size_t nb = n - np - 1;
    if (nb > 210 || !g_utf8_validate(body, (gssize)nb, NULL) || body[0] == ' '
        || body[nb - 1] == ' ')
        bw_fuzz_fail("bw_nm_sent_subject_term: a phrase out of shape: %.300s", q);
    for (size_t i = 0; i < nb; i++)
        if (body[i] == '"' || body[i] == '(' || body[i] == ')' || body[i] == '\\'
            || (unsigned char)body[i] < 0x20 || (body[i] == ' ' && body[i + 1] == ' '))
            bw_fuzz_fail("bw_nm_sent_subject_term: byte 0x%02x at %zu: %.300s",
                         (unsigned char)body[i], i, q);
    if (g_ascii_isalnum(body[0]) && !bw_nm_plain_quoted_term(q))
        bw_fuzz_fail("bw_nm_sent_subject_term: a phrase a batch refuses: %.300s", q);
}

static void
check_value(const char *name, size_t name_len, const char *raw, size_t raw_len)
{
    g_autofree char *value = g_strndup(raw, raw_len);     /* up to a NUL byte */
    check_address(value);
    check_msgid(value);
    check_date(value);
    g_autofree char *decoded = bw_header_decode(raw, raw_len);
    check_utf8_line("bw_header_decode", decoded);
    check_query_text(decoded);
    check_query_text(value);
    if (decoded != NULL && *decoded == '\0')
        bw_fuzz_fail("bw_header_decode gave an empty string, not NULL");
    if (name_len == 8 && g_ascii_strncasecmp(name, "Received", 8) == 0)
        check_hop(value);
    g_autofree char *status = bw_status_code_find(raw, raw_len);
    if (status != NULL && (!g_ascii_isdigit(status[0]) || status[1] != '.'))
        bw_fuzz_fail("bw_status_code_find: not an RFC 3463 code: %.100s", status);
    bw_reason_t r = bw_reason_from_text(raw, raw_len);
    if (r >= BW_REASON_LAST || bw_reason_from_status(value) >= BW_REASON_LAST)
        bw_fuzz_fail("a reason out of range");
    const char *code = bw_status_from_reply_code(value, r);
    if (code != NULL && bw_reason_from_status(code) >= BW_REASON_LAST)
        bw_fuzz_fail("a reason out of range");
    bw_reason_t d = bw_reason_decide(status, NULL, value, NULL);
    if (d >= BW_REASON_LAST)
        bw_fuzz_fail("bw_reason_decide: a reason out of range");
}

/* The depth of address groups in a list GMime built (bounded: the walk
 * stops one level past the cap). */
static unsigned
group_depth(InternetAddressList *list, unsigned depth)
{
    unsigned max = depth;
    int n = list != NULL ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n && depth <= BW_MAX_ADDRESS_GROUP_DEPTH; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia)) {
            unsigned d = group_depth(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)),
                                     depth + 1);
            max = MAX(max, d);
        }
    }
    return max;
}

/* An address field that passes the caps is one GMime's parser (which
 * recurses once per group) may be handed: the groups it builds must be
 * within the cap, and the time it takes is bounded by the -timeout. */
static void
check_address_field(const char *raw, size_t raw_len)
{
    char *why = bw_caps_check_addresses(raw, raw_len);
    if (why != NULL) {
        if (strstr(why, "(limit BW_MAX_ADDRESS") == NULL)
            bw_fuzz_fail("an address refusal that names no cap: %s", why);
        g_free(why);
        return;
    }
    g_autofree char *value = g_strndup(raw, raw_len);
    InternetAddressList *list = internet_address_list_parse(NULL, value);
    unsigned depth = group_depth(list, 0);
    if (depth > BW_MAX_ADDRESS_GROUP_DEPTH)
        bw_fuzz_fail("the caps passed an address field GMime nests %u groups deep: %.200s", depth, value);
    if (list != NULL)
        g_object_unref(list);
}

static bool
is_address_field(const bw_field_t *f)
{
    static const char *const names[] = {"From", "To", "Cc", "Bcc", "Reply-To", "Sender",
                                        "Resent-From", "Resent-To", "Resent-Cc", "Errors-To"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (bw_field_is(f, names[i]))
            return true;
    return false;
}

/* Each field of the header block (up to the first blank line), as the
 * core reads fields (bw_header_next_field).  Returns the block's length. */
static size_t
each_field(const char *data, size_t size)
{
    size_t pos = 0, fields = 0, end = 0;
    bw_field_t f;
    while (fields < MAX_FIELDS && bw_header_next_field(data, size, &pos, &f)) {
        if (f.field < data || f.value + f.value_len > data + size || f.name_len > f.field_len)
            bw_fuzz_fail("bw_header_next_field: a field outside the block");
        check_value(f.name, f.name_len, f.value, f.value_len);
        if (is_address_field(&f))
            check_address_field(f.value, f.value_len);
        if (bw_field_is(&f, "Content-Type") || bw_field_is(&f, "Content-Disposition"))
            g_free(bw_caps_check_params(f.value, f.value_len));
        end = pos;
        fields++;
    }
    return fields < MAX_FIELDS ? pos : end;
}

/* An original read from a header block.  Its strings may still hold raw
 * 8-bit bytes here (an undeclared Latin-1 name, a UTF-8 local part cut in
 * the middle): the parser makes every string of a report valid UTF-8 once,
 * at the end (fuzz-parse checks the result), so only the writing is
 * exercised here. */
static void
check_original(bw_original_t *o)
{
    if (o == NULL)
        return;
    check_query_text(o->subject);
    JsonNode *n = bw_original_to_json(o);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, n);
    g_free(json_generator_to_data(gen, NULL));
    json_node_unref(n);
    bw_original_free(o);
}

static void
check_block(const char *hdr, size_t hdr_len)
{
    static const char *const names[] = {"From", "To", "Subject", "Date", "Content-Type",
                                        "Received", "Message-ID", "DKIM-Signature"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        size_t vl = 0;
        const char *v = bw_hdr_find(hdr, hdr_len, names[i], &vl);
        if (v != NULL && (v < hdr || v + vl > hdr + hdr_len))
            bw_fuzz_fail("bw_hdr_find: a value outside the block");
        g_autofree char *dec = bw_hdr_get(hdr, hdr_len, names[i]);
        check_utf8_line("bw_hdr_get", dec);
        g_autofree char *raw = bw_hdr_get_raw(hdr, hdr_len, names[i]);
        (void)raw;
    }
    /* What GMime is handed of a block: the fields asked for, checked. */
    static const char *const wanted[] = {"To", "Received", "From", "Date", "Content-Type", NULL};
    char *fields = NULL, *detail = NULL;
    size_t fields_len = 0;
    if (bw_header_fields_extract(hdr, hdr_len, wanted, 16384, &fields, &fields_len, &detail) == BW_OK) {
        if (fields == NULL || fields_len > 16384 + 1)
            bw_fuzz_fail("bw_header_fields_extract: %zu bytes, past its limit of 16384", fields_len);
        g_autofree char *again = NULL;
        if (bw_header_block_check(fields, fields_len, &again) != BW_OK)
            bw_fuzz_fail("the extracted fields do not pass the caps that extracted them: %s", again);
    } else if (detail == NULL || strstr(detail, "(limit BW_MAX_") == NULL) {
        bw_fuzz_fail("bw_header_fields_extract failed naming no cap: %s", detail ? detail : "(none)");
    }
    g_free(fields);
    g_free(detail);
    check_original(bw_original_from_headers(hdr, hdr_len));
    check_original(bw_original_from_text(hdr, hdr_len, 0));

    /* Delivery-status and feedback-report parts are header-like fields. */
    bw_report_t *r = bw_report_new();
    bw_dsn_parse_fields(hdr, hdr_len, true, r);
    bw_arf_parse_fields(hdr, hdr_len, r);
    (void)bw_dsn_find_inline(hdr, hdr_len, true);
    (void)bw_arf_find_inline(hdr, hdr_len);
    /* Not yet through the parser's UTF-8 repair (see check_original): the
     * line writer repairs by itself and must give a JSON line. */
    g_autofree char *line = bw_report_to_json_string(r, "fields", -1, NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!g_utf8_validate(line, -1, NULL) || strchr(line, '\n') != NULL
        || !json_parser_load_from_data(parser, line, -1, NULL))
        bw_fuzz_fail("the line of delivery-status fields is not one JSON line: %.300s", line);
    bw_report_free(r);
}

static void
check_mime(const char *data, size_t size)
{
    size_t nlen = 0;
    g_autofree char *norm = bw_message_normalize(data, size, &nlen);
    if (norm == NULL)
        return;
    g_autoptr(bw_mime_t) m = bw_mime_parse(norm, nlen);
    if (m == NULL || m->parts == NULL || m->parts->len == 0)
        bw_fuzz_fail("bw_mime_parse gave no part");
    for (guint i = 0; i < m->parts->len && i < 64; i++) {
        const bw_mpart_t *mp = &g_array_index(m->parts, bw_mpart_t, i);
        if (mp->hdr < norm || mp->hdr + mp->hdr_len > norm + nlen
            || mp->body < norm || mp->body + mp->body_len > norm + nlen)
            bw_fuzz_fail("bw_mime_parse: part %u outside the message", i);
        if (memchr(mp->charset, '\0', sizeof mp->charset) == NULL
            || memchr(mp->boundary, '\0', sizeof mp->boundary) == NULL
            || memchr(mp->type, '\0', sizeof mp->type) == NULL
            || memchr(mp->subtype, '\0', sizeof mp->subtype) == NULL)
            bw_fuzz_fail("bw_mime_parse: an unterminated parameter in part %u", i);
        size_t tl = 0;
        g_autofree char *text = bw_mpart_text(mp, 4096, &tl);
        if (text != NULL && !g_utf8_validate(text, (gssize)tl, NULL))
            bw_fuzz_fail("bw_mpart_text: not valid UTF-8 in part %u (charset '%s')", i, mp->charset);
        size_t rl = 0;
        g_autofree char *raw = bw_mpart_raw(mp, 4096, &rl);
        if (raw != NULL && rl > 4096)
            bw_fuzz_fail("bw_mpart_raw: %zu bytes past the limit of 4096", rl);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    /* The helpers as the parser calls them for one message: between
     * bw_refusal_begin and bw_refusal_end, which count the encoded words
     * of the message and keep the first cap passed. */
    bw_refusal_begin();
    size_t hdr_len = each_field(text, size);
    check_block(text, hdr_len);
    check_mime(text, size);
    g_autofree char *refusal = bw_refusal_end();
    if (refusal != NULL && strstr(refusal, "(limit BW_MAX_") == NULL)
        bw_fuzz_fail("a refusal that names no cap: %s", refusal);

    bw_report_t *report = NULL;
    char *detail = NULL;
    bw_status_t st = bw_parse_bytes(text, size, &report, &detail);
    if (st == BW_OK) {
        bw_fuzz_check_report(report, "headers.eml", -1, NULL);
    } else {
        if (st == BW_E_REFUSED && (detail == NULL || strstr(detail, "(limit BW_MAX_") == NULL))
            bw_fuzz_fail("a refused message whose error names no cap: %s", detail ? detail : "(none)");
        bw_fuzz_check_report(NULL, "headers.eml", -1, detail ? detail : bw_status_to_string(st));
    }
    bw_report_free(report);
    g_free(detail);
    return 0;
}
