/* check_generic.c: the generic reader (generic.c) and the dispatcher's
 * order of recognition, on fixtures written for these tests:
 *   tests/corpus/generic/    notices of invented servers: legacy Unix and
 *                            Windows styles, appliances, several languages,
 *                            bilingual notices, relayed by list managers
 *                            and forwarders, warnings, HTML-only
 *   tests/corpus/kinds/      challenge-response requests, anti-virus
 *                            notices, a proprietary complaint
 *   tests/corpus/tolerance/  damaged or unusual files (blank lines before
 *                            the headers, a client's first line, CR-only,
 *                            a missing final boundary, odd charsets)
 *   tests/corpus/ham-stress/ ordinary mail full of delivery words: never a
 *                            report
 * Each NAME.eml has a NAME.json beside it with what it must read as:
 *   {"bounce": true, "kind": "bounce", "recipients": ["a@b"...],
 *    "action": "failed", "reason": "user-unknown", "original_address": "...",
 *    "original_message_id": "..."}   (the last four optional) */
#include "suites.h"
#include "bw-parse.h"
#include "bw-vendor.h"
#include <string.h>

/* The benchmark and test switch of bw-vendor.h (bw_vendor_row_off).  Each
 * test runs in its own forked child, so a test that switches rows off
 * leaves the others alone. */
static bool
every_row(const char *family)
{
    (void)family;
    return true;
}

static const char *const fixture_dirs[] = {"corpus/generic", "corpus/kinds", "corpus/tolerance"};

/* The .eml files of a fixture directory, sorted. */
static GPtrArray *
list_fixtures(const char *dir_rel)
{
    g_autofree char *dir = bw_test_path(dir_rel);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GDir *d = g_dir_open(dir, 0, NULL);
    ck_assert_msg(d != NULL, "fixture directory %s missing", dir);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL)
        if (g_str_has_suffix(name, ".eml"))
            g_ptr_array_add(out, g_strconcat(dir_rel, "/", name, NULL));
    g_dir_close(d);
    g_ptr_array_sort(out, (GCompareFunc)(void (*)(void))g_strcmp0);
    ck_assert_uint_gt(out->len, 0);
    return out;
}

static bw_report_t *
parse_rel(const char *rel, bool crlf)
{
    size_t len = 0;
    g_autofree char *data = bw_test_read(rel, &len);
    g_autofree char *conv = NULL;
    if (crlf) {
        GString *g = g_string_sized_new(len * 2);
        for (size_t i = 0; i < len; i++) {
            if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
                g_string_append_c(g, '\r');
            g_string_append_c(g, data[i]);
        }
        len = g->len;
        conv = g_string_free(g, FALSE);
    }
    bw_report_t *r = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_parse_bytes(crlf ? conv : data, len, &r, &detail);
    ck_assert_msg(st == BW_OK, "%s: %s", rel, detail);
    return r;
}

static JsonObject *
read_expectation(const char *eml_rel, JsonParser *parser)
{
    g_autofree char *base = g_strndup(eml_rel, strlen(eml_rel) - 4);
    g_autofree char *json_rel = g_strconcat(base, ".json", NULL);
    size_t len = 0;
    g_autofree char *text = bw_test_read(json_rel, &len);
    GError *err = NULL;
    ck_assert_msg(json_parser_load_from_data(parser, text, (gssize)len, &err), "%s: %s", json_rel,
                  err != NULL ? err->message : "");
    JsonNode *root = json_parser_get_root(parser);
    ck_assert(JSON_NODE_HOLDS_OBJECT(root));
    return json_node_get_object(root);
}

static void
check_against(const char *rel, const bw_report_t *r, JsonObject *want, const char *how)
{
    bool bounce = json_object_get_boolean_member(want, "bounce");
    ck_assert_msg(r->bounce == bounce, "%s%s: bounce %d", rel, how, r->bounce);
    if (!bounce)
        return;
    const char *kind = json_object_get_string_member(want, "kind");
    ck_assert_msg(g_strcmp0(bw_kind_to_string(r->kind), kind) == 0, "%s%s: kind %s, want %s", rel, how,
                  bw_kind_to_string(r->kind), kind);
    JsonArray *rc = json_object_get_array_member(want, "recipients");
    guint n = json_array_get_length(rc);
    GString *got = g_string_new(NULL);
    for (guint i = 0; i < r->recipients->len; i++)
        g_string_append_printf(got, "%s ", ((bw_recipient_t *)g_ptr_array_index(r->recipients, i))->address);
    ck_assert_msg(r->recipients->len == n, "%s%s: recipients [%s], want %u", rel, how, got->str, n);
    for (guint i = 0; i < n; i++) {
        const char *a = json_array_get_string_element(rc, i);
        bool found = false;
        for (guint k = 0; k < r->recipients->len && !found; k++)
            found = g_strcmp0(((bw_recipient_t *)g_ptr_array_index(r->recipients, k))->address, a) == 0;
        ck_assert_msg(found, "%s%s: %s not among [%s]", rel, how, a, got->str);
    }
    g_string_free(got, TRUE);
    for (guint k = 0; k < r->recipients->len; k++) {
        const bw_recipient_t *x = g_ptr_array_index(r->recipients, k);
        if (json_object_has_member(want, "action"))
            ck_assert_msg(g_strcmp0(x->action, json_object_get_string_member(want, "action")) == 0,
                          "%s%s: %s action %s", rel, how, x->address, x->action);
        if (json_object_has_member(want, "reason"))
            ck_assert_msg(g_strcmp0(bw_reason_to_string(x->reason), json_object_get_string_member(want, "reason")) == 0,
                          "%s%s: %s reason %s (diagnostic %s)", rel, how, x->address,
                          bw_reason_to_string(x->reason), x->diagnostic);
    }
    if (json_object_has_member(want, "original_address")) {
        const bw_recipient_t *x = g_ptr_array_index(r->recipients, 0);
        ck_assert_msg(g_strcmp0(x->original_address, json_object_get_string_member(want, "original_address")) == 0,
                      "%s%s: original address %s", rel, how, x->original_address);
    }
    if (json_object_has_member(want, "original_message_id")) {
        const char *mid = json_object_get_string_member(want, "original_message_id");
        ck_assert_msg(r->original != NULL && g_strcmp0(r->original->message_id, mid) == 0,
                      "%s%s: original Message-ID %s", rel, how,
                      r->original != NULL ? r->original->message_id : "(no original)");
    }
}

/* Every fixture reads as its .json says, with LF and with CRLF line ends. */
START_TEST(test_generic_fixtures)
{
    g_autoptr(GPtrArray) files = list_fixtures(fixture_dirs[_i]);
    for (guint i = 0; i < files->len; i++) {
        const char *rel = g_ptr_array_index(files, i);
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *want = read_expectation(rel, parser);
        for (int crlf = 0; crlf < 2; crlf++) {
            g_autoptr(bw_report_t) r = parse_rel(rel, crlf);
            check_against(rel, r, want, crlf ? " (CRLF)" : "");
        }
    }
}
END_TEST

/* With every vendor row switched off, the notices of unknown servers read
 * the same: the generic reader alone finds them and their recipients. */
START_TEST(test_generic_without_vendor_rows)
{
    bw_vendor_row_off = every_row;
    g_autoptr(GPtrArray) files = list_fixtures("corpus/generic");
    for (guint i = 0; i < files->len; i++) {
        const char *rel = g_ptr_array_index(files, i);
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonObject *want = read_expectation(rel, parser);
        g_autoptr(bw_report_t) r = parse_rel(rel, false);
        check_against(rel, r, want, " (vendor rows off)");
    }
}
END_TEST

/* Ordinary mail about deliveries is never a report. */
START_TEST(test_ham_stress)
{
    g_autoptr(GPtrArray) files = list_fixtures("corpus/ham-stress");
    for (guint i = 0; i < files->len; i++) {
        const char *rel = g_ptr_array_index(files, i);
        g_autoptr(bw_report_t) r = parse_rel(rel, false);
        ck_assert_msg(!r->bounce, "%s: a %s report (family %s)", rel, bw_kind_to_string(r->kind), r->family);
    }
}
END_TEST

/* The confidence and the original's offset come with a reading. */
START_TEST(test_generic_confidence)
{
    const char *msg = "Return-Path: <>\n"
                      "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n"
                      "To: alice@example.org\n"
                      "Subject: Undeliverable mail\n"
                      "\n"
                      "Your message could not be delivered to the following recipients:\n"
                      "\n"
                      "  bob@example.net: 550 5.1.1 user unknown\n"
                      "\n"
                      "----- Original message follows -----\n"
                      "From: alice@example.org\n"
                      "To: bob@example.net, carol@example.net\n";
    size_t len = strlen(msg);
    g_autoptr(bw_mime_t) mime = bw_mime_parse(msg, len);
    const bw_mpart_t *root = &g_array_index(mime->parts, bw_mpart_t, 0);
    size_t tlen = 0;
    g_autofree char *text = bw_mpart_text(root, BW_MAX_SCAN_BYTES, &tlen);
    bw_view_t view = {0};
    view.from = "Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>";
    view.subject = "Undeliverable mail";
    view.text = text;
    view.text_len = tlen;
    bw_generic_in_t in = {.limit = (size_t)-1};
    bw_generic_out_t out;
    g_autoptr(bw_report_t) r = bw_report_new();
    ck_assert(bw_generic_read(&view, &in, r, &out));
    ck_assert_int_ge(out.confidence, 60);
    ck_assert_uint_eq(r->recipients->len, 1);
    ck_assert_str_eq(((bw_recipient_t *)g_ptr_array_index(r->recipients, 0))->address, "bob@example.net");
    ck_assert(out.original_offset != (size_t)-1 && out.original_offset < tlen);
    ck_assert(strncmp(text + out.original_offset, "----- Original", 14) == 0);
    /* the same words from a person: no reading at all */
    view.from = "Alice <alice@example.org>";
    g_autoptr(bw_report_t) p = bw_report_new();
    ck_assert(!bw_generic_read(&view, &in, p, &out));
    ck_assert_int_eq(out.confidence, 0);
    ck_assert_uint_eq(p->recipients->len, 0);
}
END_TEST

/* Hostile notices: tens of thousands of address lines with failure words,
 * one 200 KiB line of '@': a bounded reading, at most BW_MAX_RECIPIENTS. */
START_TEST(test_generic_hostile)
{
    GString *m = g_string_new("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\n"
                              "Subject: Undelivered Mail\n\n"
                              "The following addresses failed:\n");
    for (int i = 0; m->len < 240 * 1024; i++)
        g_string_append_printf(m, "u%d@h%d.example.net: 550 user unknown, could not be delivered\n", i, i);
    bw_report_t *r = NULL;
    ck_assert_int_eq(bw_parse_bytes(m->str, m->len, &r, NULL), BW_OK);
    ck_assert(r->bounce);
    ck_assert_uint_le(r->recipients->len, BW_MAX_RECIPIENTS);
    bw_report_free(r);
    g_string_truncate(m, 0);
    g_string_append(m, "Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail\n\n"
                       "could not be delivered to: ");
    for (int i = 0; i < 200 * 1024; i++)
        g_string_append_c(m, i % 7 == 0 ? '@' : (i % 5 == 0 ? '.' : 'a'));
    g_string_append(m, "\n");
    ck_assert_int_eq(bw_parse_bytes(m->str, m->len, &r, NULL), BW_OK);
    ck_assert_uint_le(r->recipients->len, BW_MAX_RECIPIENTS);
    bw_report_free(r);
    g_string_free(m, TRUE);
}
END_TEST

Suite *
suite_generic(void)
{
    Suite *s = suite_create("generic");
    TCase *tc = tcase_create("generic");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_generic_fixtures, 0, G_N_ELEMENTS(fixture_dirs));
    tcase_add_test(tc, test_generic_without_vendor_rows);
    tcase_add_test(tc, test_ham_stress);
    tcase_add_test(tc, test_generic_confidence);
    tcase_add_test(tc, test_generic_hostile);
    suite_add_tcase(s, tc);
    return s;
}
