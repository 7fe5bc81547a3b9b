/* check_parse.c: the parse framework per family (RFC 3464/6533 DSNs, ARF,
 * auto-replies, challenge-response, virus notices), charsets, line ends,
 * mbox, errors, and the JSON of SPEC section 1 (writer, tree, reload).
 * Fixtures are under tests/corpus/<family>/, written for these tests. */
#include "suites.h"
#include "bw-parse.h"
#include "bw-scan.h"
#include "bw-reader.h"
#include <string.h>

/* Parses a fixture that holds one message. */
static bw_report_t *
parse_fixture(const char *rel)
{
    size_t len = 0;
    g_autofree char *data = bw_test_read(rel, &len);
    bw_report_t *r = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_parse_bytes(data, len, &r, &detail);
    ck_assert_msg(st == BW_OK, "%s: %s", rel, detail ? detail : bw_status_to_string(st));
    ck_assert_ptr_nonnull(r);
    return r;
}

static const bw_recipient_t *
rcpt(const bw_report_t *r, guint i)
{
    ck_assert_msg(r->recipients->len > i, "only %u recipients", r->recipients->len);
    return g_ptr_array_index(r->recipients, i);
}

static bool
strv_has(const GPtrArray *a, const char *s)
{
    for (guint i = 0; a != NULL && i < a->len; i++)
        if (strcmp(g_ptr_array_index(a, i), s) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------ DSN */

START_TEST(test_dsn_postfix)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/dsn/postfix-user-unknown.eml");
    ck_assert(r->bounce);
    ck_assert_int_eq(r->kind, BW_KIND_DSN);
    ck_assert_str_eq(r->family, "rfc3464");
    ck_assert_uint_eq(r->recipients->len, 1);
    const bw_recipient_t *rc = rcpt(r, 0);
    ck_assert_str_eq(rc->address, "taro@example.jp");
    ck_assert_ptr_null(rc->original_address);   /* same as Final-Recipient */
    ck_assert_str_eq(rc->action, "failed");
    ck_assert_str_eq(rc->status, "5.1.1");
    ck_assert_str_eq(rc->reply_code, "550");
    ck_assert_str_eq(rc->remote_mta, "mx.example.jp");
    ck_assert_int_eq(rc->reason, BW_REASON_USER_UNKNOWN);
    ck_assert_ptr_nonnull(strstr(rc->diagnostic, "User unknown"));
    ck_assert_ptr_null(strchr(rc->diagnostic, '\n'));  /* one line */
    /* the report's own headers */
    ck_assert_str_eq(r->message_id, "20261120140311.4F0C2E0A12@mx1.example.com");
    ck_assert_str_eq(r->from, "mailer-daemon@mx1.example.com");
    ck_assert(strv_has(r->to, "me@example.com"));
    ck_assert_str_eq(r->auto_submitted, "auto-replied");
    /* the original, attached whole */
    const bw_original_t *o = r->original;
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(o->message_id, "abc123@mail.example.com");
    ck_assert_str_eq(o->from, "me@example.com");
    ck_assert(strv_has(o->to, "taro@example.jp"));
    ck_assert_str_eq(o->subject, "Hello");
    ck_assert_str_eq(o->date, "2026-11-20T14:00:00+00:00");
    ck_assert_str_eq(o->return_path, "me@example.com");
    ck_assert_uint_eq(o->received->len, 1);
    ck_assert_str_eq(o->dkim_domain, "example.com");
    ck_assert_str_eq(o->x_mailer, "Mutt/2.2.9");
    ck_assert(!o->headers_only);
    ck_assert_ptr_nonnull(o->body_text);
    ck_assert(strv_has(o->url_domains, "www.example.org"));
    ck_assert(strv_has(o->url_domains, "cdn.example.net"));
}
END_TEST

START_TEST(test_dsn_two_recipients_no_blank_line)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/dsn/sendmail-two-recipients.eml");
    ck_assert_int_eq(r->kind, BW_KIND_DSN);
    ck_assert_uint_eq(r->recipients->len, 2);
    ck_assert_str_eq(rcpt(r, 0)->address, "hanako@example.org");
    ck_assert_str_eq(rcpt(r, 0)->status, "5.2.2");
    ck_assert_int_eq(rcpt(r, 0)->reason, BW_REASON_MAILBOX_FULL);
    /* Original-Recipient opened the second group (no blank line before it) */
    ck_assert_str_eq(rcpt(r, 1)->address, "jiro@example.net");
    ck_assert_str_eq(rcpt(r, 1)->original_address, "list-alias@example.com");
    ck_assert_str_eq(rcpt(r, 1)->status, "5.1.2");
    ck_assert_int_eq(rcpt(r, 1)->reason, BW_REASON_HOST_UNKNOWN);
    /* headers-only original from text/rfc822-headers, RFC 2047 subject */
    ck_assert_ptr_nonnull(r->original);
    ck_assert(r->original->headers_only);
    ck_assert_str_eq(r->original->message_id, "two-rcpt-42@example.com");
    ck_assert_str_eq(r->original->subject, "会議のお知らせ");
    ck_assert_uint_eq(r->original->to->len, 2);
}
END_TEST

START_TEST(test_dsn_action_first_and_diagnostic_code)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/dsn/exim-delayed.eml");
    ck_assert_uint_eq(r->recipients->len, 1);
    const bw_recipient_t *rc = rcpt(r, 0);
    ck_assert_str_eq(rc->address, "slow@example.net");
    ck_assert_str_eq(rc->action, "delayed");    /* written before Final-Recipient */
    /* the remote server's precise code wins over the summary 4.0.0 */
    ck_assert_str_eq(rc->status, "4.4.1");
    ck_assert_str_eq(rc->reply_code, "451");
    ck_assert_str_eq(r->original->message_id, "delayed-7@example.com");
}
END_TEST

START_TEST(test_dsn_global)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/dsn/global-delivery-status.eml");
    ck_assert_int_eq(r->kind, BW_KIND_DSN);
    ck_assert_str_eq(r->family, "rfc6533");
    ck_assert_str_eq(rcpt(r, 0)->address, "太郎@例え.jp");
    ck_assert_str_eq(rcpt(r, 0)->status, "5.1.1");
    ck_assert_ptr_nonnull(r->original);
    ck_assert_str_eq(r->original->subject, "こんにちは");
    ck_assert_str_eq(r->original->message_id, "utf8-orig@example.com");
}
END_TEST

START_TEST(test_dsn_fields_inline)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/dsn/inline-fields.eml");
    ck_assert(r->bounce);
    ck_assert_int_eq(r->kind, BW_KIND_DSN);
    ck_assert_str_eq(rcpt(r, 0)->address, "blocked@example.org");
    ck_assert_str_eq(rcpt(r, 0)->status, "5.7.1");
    ck_assert_str_eq(rcpt(r, 0)->reply_code, "554");
    ck_assert_int_ne(rcpt(r, 0)->reason, BW_REASON_UNKNOWN);
    ck_assert_ptr_nonnull(r->original);
    ck_assert_str_eq(r->original->message_id, "inline-orig@example.com");
    ck_assert_str_eq(r->original->subject, "Invoice 2026-11");
}
END_TEST

START_TEST(test_dsn_field_reader)
{
    /* No blank lines, folded diagnostic, Status before Final-Recipient. */
    const char *fields =
        "Reporting-MTA: dns; a.example\n"
        "Final-Recipient: rfc822; one@example.org\n"
        "Action: failed\n"
        "Status: 5.0.0\n"
        "Diagnostic-Code: smtp; 550-5.7.1 rejected\n"
        "   by policy\n"
        "Status: 4.2.2\n"
        "Action: delayed\n"
        "Final-Recipient: rfc822; <two@example.org>\n"
        "Remote-MTA: dns; [mx.two.example.]\n";
    g_autoptr(bw_report_t) r = bw_report_new();
    ck_assert_uint_eq(bw_dsn_parse_fields(fields, strlen(fields), false, r), 2);
    ck_assert_str_eq(rcpt(r, 0)->status, "5.7.1");
    ck_assert_str_eq(rcpt(r, 0)->reply_code, "550");
    ck_assert_str_eq(rcpt(r, 0)->diagnostic, "550-5.7.1 rejected by policy");
    ck_assert_str_eq(rcpt(r, 1)->address, "two@example.org");
    ck_assert_str_eq(rcpt(r, 1)->status, "4.2.2");
    ck_assert_str_eq(rcpt(r, 1)->action, "delayed");
    ck_assert_str_eq(rcpt(r, 1)->remote_mta, "mx.two.example");
    /* Per-message fields alone are no recipient. */
    g_autoptr(bw_report_t) r2 = bw_report_new();
    const char *only = "Reporting-MTA: dns; a.example\nArrival-Date: now\n";
    ck_assert_uint_eq(bw_dsn_parse_fields(only, strlen(only), false, r2), 0);
}
END_TEST

/* ------------------------------------------------------------ ARF */

START_TEST(test_arf_abuse)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/arf/abuse.eml");
    ck_assert(r->bounce);
    ck_assert_int_eq(r->kind, BW_KIND_FEEDBACK);
    ck_assert_str_eq(r->feedback_type, "abuse");
    ck_assert_str_eq(rcpt(r, 0)->address, "complainer@example.net");
    ck_assert_int_eq(rcpt(r, 0)->reason, BW_REASON_FEEDBACK);
    ck_assert_str_eq(r->original->message_id, "8787KJKJ3K4J3K4J3K4J3.mail@example.com");
    ck_assert(strv_has(r->original->url_domains, "spam.example.biz"));
}
END_TEST

START_TEST(test_arf_jmrp)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/arf/jmrp.eml");
    ck_assert_int_eq(r->kind, BW_KIND_FEEDBACK);
    ck_assert_str_eq(r->family, "jmrp");
    ck_assert_str_eq(rcpt(r, 0)->address, "reader@outlook.example");
    ck_assert_str_eq(r->original->message_id, "jmrp-orig-9@example.com");
}
END_TEST

/* ------------------------------------------------------------ auto-replies */

START_TEST(test_autoreply_rfc3834)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/autoreply/rfc3834-en.eml");
    ck_assert_int_eq(r->kind, BW_KIND_AUTOREPLY);
    ck_assert_str_eq(rcpt(r, 0)->address, "hanako@example.org");
    ck_assert_int_eq(rcpt(r, 0)->reason, BW_REASON_VACATION);
    /* no copy of the original: its identity comes from the threading */
    ck_assert_ptr_nonnull(r->original);
    ck_assert_str_eq(r->original->message_id, "meeting-notes-3@example.com");
    ck_assert_str_eq(r->original->from, "me@example.com");
    ck_assert_str_eq(r->original->subject, "Meeting notes");
}
END_TEST

START_TEST(test_autoreply_japanese_iso2022jp)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/autoreply/ooo-ja-iso2022jp.eml");
    ck_assert_int_eq(r->kind, BW_KIND_AUTOREPLY);
    ck_assert_ptr_nonnull(strstr(r->subject, "自動応答"));
    ck_assert_ptr_nonnull(strstr(rcpt(r, 0)->diagnostic, "不在にしております"));
}
END_TEST

START_TEST(test_autoreply_german_latin1)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/autoreply/ooo-de-latin1.eml");
    ck_assert_int_eq(r->kind, BW_KIND_AUTOREPLY);
    ck_assert_ptr_nonnull(strstr(rcpt(r, 0)->diagnostic, "nicht im Büro"));
}
END_TEST

START_TEST(test_challenge_and_virus)
{
    g_autoptr(bw_report_t) c = parse_fixture("corpus/autoreply/challenge.eml");
    ck_assert_int_eq(c->kind, BW_KIND_CHALLENGE);
    /* SPEC section 1: the address that asks for confirmation is the one
     * the original was sent to, not the service's own address */
    ck_assert_str_eq(rcpt(c, 0)->address, "kenji@example.net");
    ck_assert_int_eq(rcpt(c, 0)->reason, BW_REASON_UNKNOWN);
    g_autoptr(bw_report_t) v = parse_fixture("corpus/autoreply/virus.eml");
    ck_assert_int_eq(v->kind, BW_KIND_VIRUS);
    ck_assert_str_eq(rcpt(v, 0)->address, "kenta@example.org");
    ck_assert_int_eq(rcpt(v, 0)->reason, BW_REASON_VIRUS);
}
END_TEST

/* ------------------------------------------------------------ ordinary mail */

START_TEST(test_ham_is_not_a_report)
{
    static const char *const files[] = {
        "corpus/ham/newsletter.eml",          /* quotes DSN fields, list mail */
        "corpus/ham/reply-quoting-bounce.eml",/* a person quoting a notice */
        "corpus/ham/list-vacation-talk.eml",  /* talks about out-of-office */
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autoptr(bw_report_t) r = parse_fixture(files[i]);
        ck_assert_msg(!r->bounce, "%s called a %s (%s)", files[i], bw_kind_to_string(r->kind),
                      r->family ? r->family : "-");
        ck_assert_uint_eq(r->recipients->len, 0);
        ck_assert_ptr_null(r->original);
    }
}
END_TEST

/* ------------------------------------------------------------ charsets */

START_TEST(test_charsets)
{
    /* Undeclared Shift_JIS text; original subject in EUC-JP words. */
    g_autoptr(bw_report_t) s = parse_fixture("corpus/charset/sjis-undeclared.eml");
    ck_assert_int_eq(s->kind, BW_KIND_DSN);
    ck_assert_str_eq(s->subject, "配信エラー");
    ck_assert_str_eq(s->original->subject, "会議の件");
    /* Encoded words split inside a character, padding in the first. */
    g_autoptr(bw_report_t) w = parse_fixture("corpus/charset/split-encoded-words.eml");
    ck_assert_str_eq(w->original->subject, "バウンスメールのテスト(日本語)Café");
    /* Declared EUC-JP text with inline fields. */
    g_autoptr(bw_report_t) e = parse_fixture("corpus/charset/eucjp-declared.eml");
    ck_assert_str_eq(rcpt(e, 0)->address, "nouser@example.jp");
    ck_assert_str_eq(rcpt(e, 0)->status, "5.1.1");
}
END_TEST

START_TEST(test_to_utf8_guesses)
{
    static const struct { const char *cs, *utf8; } cases[] = {
        { "SHIFT_JIS", "宛先不明です" }, { "EUC-JP", "宛先不明です" },
        { "ISO-2022-JP", "宛先不明です" }, { "ISO-8859-1", "Café à Noël" },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        gsize n = 0;
        g_autofree char *raw = g_convert(cases[i].utf8, -1, cases[i].cs, "UTF-8", NULL, &n, NULL);
        ck_assert_ptr_nonnull(raw);
        size_t out_len = 0;
        /* declared */
        g_autofree char *a = bw_to_utf8(raw, n, cases[i].cs, &out_len);
        ck_assert_str_eq(a, cases[i].utf8);
        /* undeclared: guessed */
        g_autofree char *b = bw_to_utf8(raw, n, NULL, &out_len);
        ck_assert_str_eq(b, cases[i].utf8);
    }
    /* An unknown charset name still gives valid UTF-8. */
    size_t l = 0;
    g_autofree char *c = bw_to_utf8("abc\xff", 4, "x-no-such-charset", &l);
    ck_assert(g_utf8_validate(c, -1, NULL));
}
END_TEST

START_TEST(test_header_decode)
{
    g_autofree char *a = bw_header_decode("=?ISO-8859-1?Q?Re:_caf=E9?= ok", 30);
    ck_assert_str_eq(a, "Re: café ok");
    g_autofree char *b = bw_header_decode("plain  text\n\tfolded", 19);
    ck_assert_str_eq(b, "plain text folded");
    g_autofree char *c = bw_header_decode("=?utf-8?B?5pys?= =?utf-8?B?6Kqe?=", 33);
    ck_assert_str_eq(c, "本語");
    /* malformed words stay as they are */
    g_autofree char *d = bw_header_decode("=?utf-8?B?broken", 16);
    ck_assert_str_eq(d, "=?utf-8?B?broken");
    ck_assert_ptr_null(bw_header_decode("   ", 3));
}
END_TEST

/* ------------------------------------------------------------ line ends, mbox */

START_TEST(test_line_ends_agree)
{
    static const char *const files[] = {
        "corpus/dsn/postfix-user-unknown.eml",
        "corpus/lineends/postfix-crlf.eml",
        "corpus/lineends/postfix-cr.eml",
    };
    g_autofree char *first = NULL;
    for (unsigned i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autoptr(bw_report_t) r = parse_fixture(files[i]);
        char *json = bw_report_to_json_string(r, "x", -1, NULL);
        if (first == NULL) {
            first = json;
            continue;
        }
        ck_assert_str_eq(json, first);
        g_free(json);
    }
}
END_TEST

START_TEST(test_mbox_two_messages)
{
    g_autofree char *path = bw_test_path("corpus/mbox/two-bounces.mbox");
    g_autoptr(bw_parsed_file_t) parsed = NULL;
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_parse_file(path, &parsed, &detail), BW_OK);
    ck_assert(parsed->is_mbox);
    ck_assert_uint_eq(parsed->messages->len, 2);
    const bw_parse_result_t *a = g_ptr_array_index(parsed->messages, 0), *b = g_ptr_array_index(parsed->messages, 1);
    ck_assert_int_eq(a->status, BW_OK);
    ck_assert_int_eq(b->status, BW_OK);
    ck_assert_str_eq(rcpt(a->report, 0)->address, "taro@example.jp");
    ck_assert_str_eq(rcpt(b->report, 0)->address, "slow@example.net");
}
END_TEST

/* ------------------------------------------------------------ errors, limits */

START_TEST(test_errors)
{
    bw_report_t *r = NULL;
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_parse_bytes("", 0, &r, &detail), BW_E_NOT_MAIL);
    ck_assert_ptr_null(r);
    ck_assert_int_eq(bw_parse_bytes("\n\n  \n", 5, &r, NULL), BW_E_NOT_MAIL);
    static const char bin[] = "Subj\0ect: x\n\nbody";
    ck_assert_int_eq(bw_parse_bytes(bin, sizeof bin - 1, &r, NULL), BW_E_NOT_MAIL);
    ck_assert_int_eq(bw_parse_bytes("just some words\nand more\n", 25, &r, NULL), BW_E_NOT_MAIL);
    bw_parsed_file_t *parsed = NULL;
    ck_assert_int_eq(bw_parse_file("/nonexistent/bouncewatch/file", &parsed, &detail), BW_E_IO);
    ck_assert_ptr_null(parsed);
    g_autofree char *dir = bw_test_path("corpus");
    ck_assert_int_eq(bw_parse_file(dir, &parsed, NULL), BW_E_IO);
    /* A single message saved with its envelope line reads as the message. */
    const char *env = "From MAILER-DAEMON Fri Nov 20 14:03:11 2026\nFrom: a@example.org\nSubject: hi\n\nhello\n";
    ck_assert_int_eq(bw_parse_bytes(env, strlen(env), &r, NULL), BW_OK);
    ck_assert(!r->bounce);
    ck_assert_str_eq(r->subject, "hi");
    bw_report_free(r);
}
END_TEST

START_TEST(test_deep_nesting_is_bounded)
{
    /* 3000 nested multiparts: the parse must end quickly with a result. */
    GString *m = g_string_new("From: a@example.org\nSubject: nest\nMIME-Version: 1.0\n");
    for (int i = 0; i < 3000; i++)
        g_string_append_printf(m, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
    g_string_append(m, "Content-Type: text/plain\n\nhello\n");
    gint64 t0 = g_get_monotonic_time();
    bw_report_t *r = NULL;
    ck_assert_int_eq(bw_parse_bytes(m->str, m->len, &r, NULL), BW_OK);
    ck_assert(!r->bounce);
    ck_assert_int_lt(g_get_monotonic_time() - t0, 5 * G_USEC_PER_SEC);
    bw_report_free(r);
    g_string_free(m, TRUE);
}
END_TEST

/* ------------------------------------------------------------ MIME reader */

static const bw_mpart_t *
mpart(const bw_mime_t *m, guint i)
{
    ck_assert_uint_lt(i, m->parts->len);
    return &g_array_index(m->parts, bw_mpart_t, i);
}

START_TEST(test_mime_reader)
{
    const char *msg =
        "From: a@example.org\n"
        "Content-Type: multipart/mixed; boundary=\"outer\"\n"
        "\n"
        "preamble words\n"
        "--outer\n"
        "Content-Type: multipart/alternative; boundary=inner\n"
        "\n"
        "--inner\n"
        "Content-Type: text/plain; charset=\"ISO-8859-1\"\n"
        "Content-Transfer-Encoding: quoted-printable\n"
        "\n"
        "caf=E9 soft=\n"
        "break\n"
        "--inner\n"
        "Content-Type: text/html\n"
        "\n"
        "<p>x</p>\n"
        "--inner--\n"
        "--outer\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "Subject: inside\n"
        "Content-Type: text/plain\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "aGVsbG8gd29ybGQ=\n"
        "--outer--\n"
        "epilogue\n";
    g_autoptr(bw_mime_t) m = bw_mime_parse(msg, strlen(msg));
    ck_assert(!m->truncated);
    ck_assert_uint_eq(m->parts->len, 6);   /* root, alternative, rfc822, plain, html, inner message */
    const bw_mpart_t *root = mpart(m, 0);
    ck_assert(bw_mpart_is(root, "multipart", "mixed"));
    ck_assert_uint_eq(root->n_children, 2);
    ck_assert_int_eq(strncmp(root->body, "preamble words", root->preamble_len - 1), 0);
    /* breadth-first: the alternative and the message come first */
    ck_assert(bw_mpart_is(mpart(m, 1), "multipart", "alternative"));
    ck_assert(bw_mpart_is(mpart(m, 2), "message", "rfc822"));
    const bw_mpart_t *plain = mpart(m, 3);
    ck_assert(bw_mpart_is(plain, "text", "plain"));
    ck_assert_str_eq(plain->charset, "ISO-8859-1");
    size_t n = 0;
    g_autofree char *t = bw_mpart_text(plain, 4096, &n);
    ck_assert_str_eq(t, "café softbreak");   /* the LF before a delimiter is the delimiter's */
    const bw_mpart_t *inner = mpart(m, 5);
    ck_assert(inner->in_message);
    ck_assert_int_eq(inner->parent, 2);
    g_autofree char *b = bw_mpart_raw(inner, 4096, &n);
    ck_assert_str_eq(b, "hello world");
    g_autofree char *subj = bw_hdr_get(inner->hdr, inner->hdr_len, "subject");
    ck_assert_str_eq(subj, "inside");
}
END_TEST

START_TEST(test_mime_reader_damaged)
{
    /* No closing delimiter: the last part runs to the end. */
    const char *trunc = "Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: text/plain\n\nfirst\n"
                        "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; x@example.org\n";
    g_autoptr(bw_mime_t) a = bw_mime_parse(trunc, strlen(trunc));
    ck_assert_uint_eq(mpart(a, 0)->n_children, 2);
    ck_assert(bw_mpart_is(mpart(a, 2), "message", "delivery-status"));
    /* A boundary that never occurs: no parts, the body is the preamble. */
    const char *none = "Content-Type: multipart/mixed; boundary=zzz\n\nonly text\n";
    g_autoptr(bw_mime_t) b = bw_mime_parse(none, strlen(none));
    ck_assert_uint_eq(b->parts->len, 1);
    ck_assert_uint_eq(mpart(b, 0)->n_children, 0);
    /* A boundary string inside a line is not a delimiter. */
    const char *inline_b = "Content-Type: multipart/mixed; boundary=q\n\n--q\n\nsee --q here\n--q--\n";
    g_autoptr(bw_mime_t) c = bw_mime_parse(inline_b, strlen(inline_b));
    ck_assert_uint_eq(mpart(c, 0)->n_children, 1);
    size_t n = 0;
    g_autofree char *t = bw_mpart_raw(mpart(c, 1), 100, &n);
    ck_assert_str_eq(t, "see --q here");
    /* A nested boundary that starts with the outer one is not a delimiter. */
    const char *nested = "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                         "Content-Type: multipart/alternative; boundary=b2\n\n--b2\n\none\n--b2\n\ntwo\n--b2--\n"
                         "--b\n\nlast\n--b--\n";
    g_autoptr(bw_mime_t) e = bw_mime_parse(nested, strlen(nested));
    ck_assert_uint_eq(mpart(e, 0)->n_children, 2);
    ck_assert_uint_eq(mpart(e, 1)->n_children, 2);
    /* No header block at all. */
    g_autoptr(bw_mime_t) d = bw_mime_parse("\nbody", 5);
    ck_assert_uint_eq(mpart(d, 0)->hdr_len, 0);
}
END_TEST

START_TEST(test_header_lookup)
{
    const char *hdr = "Subject: first\n\tfolded\nX-Subject: no\nsubject : second\nTo: a@example.org\n";
    size_t vl = 0;
    const char *v = bw_hdr_find(hdr, strlen(hdr), "SUBJECT", &vl);
    ck_assert_ptr_nonnull(v);
    g_autofree char *val = g_strndup(v, vl);
    ck_assert_str_eq(val, "first\n\tfolded");
    g_autofree char *dec = bw_hdr_get(hdr, strlen(hdr), "subject");
    ck_assert_str_eq(dec, "first folded");
    ck_assert_ptr_null(bw_hdr_find(hdr, strlen(hdr), "Cc", &vl));
    g_autofree char *to = bw_hdr_get_raw(hdr, strlen(hdr), "to");
    ck_assert_str_eq(to, "a@example.org");
}
END_TEST

/* ------------------------------------------------------------ JSON */

static const char *const all_fixtures[] = {
    "corpus/dsn/postfix-user-unknown.eml", "corpus/dsn/sendmail-two-recipients.eml",
    "corpus/dsn/exim-delayed.eml", "corpus/dsn/global-delivery-status.eml",
    "corpus/dsn/inline-fields.eml", "corpus/arf/abuse.eml", "corpus/arf/jmrp.eml",
    "corpus/autoreply/rfc3834-en.eml", "corpus/autoreply/ooo-ja-iso2022jp.eml",
    "corpus/autoreply/ooo-de-latin1.eml", "corpus/autoreply/challenge.eml",
    "corpus/autoreply/virus.eml", "corpus/charset/sjis-undeclared.eml",
    "corpus/charset/split-encoded-words.eml", "corpus/charset/eucjp-declared.eml",
    "corpus/ham/newsletter.eml",
};

static JsonNode *
parse_json(const char *text)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) err = NULL;
    ck_assert_msg(json_parser_load_from_data(p, text, -1, &err), "invalid JSON: %s", err ? err->message : "");
    return json_node_copy(json_parser_get_root(p));
}

START_TEST(test_json_writer_equals_tree)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(all_fixtures); i++) {
        g_autoptr(bw_report_t) r = parse_fixture(all_fixtures[i]);
        g_autofree char *text = bw_report_to_json_string(r, all_fixtures[i], -1, NULL);
        JsonNode *a = parse_json(text);
        JsonNode *b = bw_report_to_json(r, all_fixtures[i], -1, NULL);
        ck_assert_msg(json_node_equal(a, b), "writer and tree differ for %s", all_fixtures[i]);
        /* SPEC section 1 keys and types */
        JsonObject *o = json_node_get_object(a);
        ck_assert(json_object_has_member(o, "file") && json_object_has_member(o, "bounce") &&
                  json_object_has_member(o, "kind") && json_object_has_member(o, "recipients") &&
                  json_object_has_member(o, "original") && json_object_has_member(o, "error"));
        ck_assert(!json_object_has_member(o, "index"));
        json_node_unref(a);
        json_node_unref(b);
    }
    /* An error line and an mbox index. */
    g_autofree char *err = bw_report_to_json_string(NULL, "bad \"file\"", 3, "not an e-mail message");
    JsonNode *e = parse_json(err);
    JsonObject *eo = json_node_get_object(e);
    ck_assert_str_eq(json_object_get_string_member(eo, "file"), "bad \"file\"");
    ck_assert_int_eq(json_object_get_int_member(eo, "index"), 3);
    ck_assert(!json_object_get_boolean_member(eo, "bounce"));
    ck_assert_str_eq(json_object_get_string_member(eo, "error"), "not an e-mail message");
    ck_assert(JSON_NODE_HOLDS_NULL(json_object_get_member(eo, "original")));
    json_node_unref(e);
}
END_TEST

/* The state's binary form of an item restores exactly what its JSON form
 * restores (item-variant.c): the loads of an incremental scan rely on it. */
static JsonNode *
item_via_variant(const bw_item_t *it)
{
    g_autoptr(GVariant) v = bw_item_to_variant(it);
    g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes(v);
    bw_item_t *back = NULL;
    ck_assert_int_eq(bw_item_from_variant(bytes, &back), BW_OK);
    JsonNode *n = bw_item_to_json(back);
    bw_item_free(back);
    return n;
}

static JsonNode *
item_via_json(const bw_item_t *it)
{
    g_autoptr(JsonNode) a = bw_item_to_json(it);
    bw_item_t *back = NULL;
    ck_assert_int_eq(bw_item_from_json(a, &back, NULL), BW_OK);
    JsonNode *n = bw_item_to_json(back);
    bw_item_free(back);
    return n;
}

/* The item text the store writes (bw_item_to_json_text) is byte for byte
 * the text of bw_item_to_json's tree: every fixture's report, awkward
 * strings (controls, U+001F, DEL, quotes, non-ASCII, invalid UTF-8 that
 * json-glib writes raw) and scores json-glib writes in its own ways. */
START_TEST(test_item_text)
{
    static const char *const odd[] = {
        "plain", "a\"q\\b", "tab\there\nnl\r\b\f", "\x01\x02\x1e\x1f\x7f end", "caf\xc3\xa9 \xe2\x82\xac",
        "bad \xff\xfe utf-8", "", NULL,
    };
    static const double scores[] = { 0.0, 1.0, 0.5, 0.1, 1e-9, 2.0, 0.123456789012345, 1e-300, 1e21, -0.0 };
    guint n = 0;
    for (unsigned i = 0; i <= G_N_ELEMENTS(all_fixtures); i++) {
        for (unsigned j = 0; j < G_N_ELEMENTS(odd); j++) {
            bw_item_t *it = g_new0(bw_item_t, 1);
            it->message_id = g_strdup_printf("item-%u-%u@example.org", i, j);
            it->file = j % 2 ? g_strdup(odd[j]) : g_strdup("/mail/cur/1:2,S");
            it->date_unix = j == 3 ? -5 : 1763300000 + (gint64)i;
            it->klass = (bw_class_t)(j % 3);
            it->origin = (bw_origin_t)(i % 3);
            it->score = scores[(i + j) % G_N_ELEMENTS(scores)];
            it->evidence = j == 7 ? NULL : g_ptr_array_new_with_free_func(g_free);
            if (it->evidence) {
                g_ptr_array_add(it->evidence, g_strdup("the original message <x@y> was never sent"));
                g_ptr_array_add(it->evidence, g_strdup(odd[j] ? odd[j] : ""));
            }
            it->fp.subject_template = 0x8000000000000001ull * i;
            it->fp.body_simhash = G_MAXUINT64 - j;
            it->fp.subject_names = i + j;
            it->fp.subject_masked = g_strdup(odd[(j + 1) % G_N_ELEMENTS(odd)]);
            it->campaign = j % 3 ? g_strdup(odd[j]) : NULL;
            it->anomaly = j == 1 || j == 5 ? g_strdup(odd[j]) : NULL;
            it->report = i < G_N_ELEMENTS(all_fixtures) ? parse_fixture(all_fixtures[i]) : NULL;
            if (it->report != NULL && odd[j] != NULL) {
                /* an odd string where a header or a diagnostic goes */
                g_free(it->report->subject);
                it->report->subject = g_strdup(odd[j]);
                for (guint k = 0; k < it->report->recipients->len; k++) {
                    bw_recipient_t *rc = g_ptr_array_index(it->report->recipients, k);
                    g_free(rc->diagnostic);
                    rc->diagnostic = g_strdup(odd[j]);
                }
                if (it->report->original != NULL) {
                    g_free(it->report->original->x_mailer);
                    it->report->original->x_mailer = g_strdup(odd[j]);
                }
            }
            g_autofree char *tree = bw_json_node_take_text(bw_item_to_json(it));
            g_autofree char *text = bw_item_to_json_text(it);
            ck_assert_msg(g_strcmp0(tree, text) == 0, "item text differs (%u, %u):\n%s\n%s", i, j,
                          tree, text);
            /* and its `bounces` entry of the document */
            g_autoptr(GPtrArray) one = g_ptr_array_new();
            g_ptr_array_add(one, it);
            bw_scan_result_t doc = { 0 };
            doc.items = one;
            JsonNode *root = bw_scan_result_to_json(&doc);
            JsonArray *arr = json_object_get_array_member(json_node_get_object(root), "bounces");
            g_autofree char *etree = bw_json_node_to_text(json_array_get_element(arr, 0));
            json_node_unref(root);
            g_autofree char *entry = bw_item_entry_text(it);
            if (j == 0)
                ck_assert_ptr_nonnull(entry);   /* a plain item: written directly */
            ck_assert_msg(entry == NULL || strcmp(etree, entry) == 0,
                          "entry text differs (%u, %u):\n%s\n%s", i, j, etree, entry);
            bw_item_free(it);
            n++;
        }
    }
    ck_assert_uint_gt(n, 8);
}
END_TEST

/* Every string field of an item, one at a time, made invalid UTF-8, and
 * every list given a NULL member: the direct writers (bw_item_to_json_text,
 * bw_item_entry_text) must still give json-glib's bytes, which they do by
 * handing such an item to json-glib; a field their checks (item_plain,
 * report_plain) forget would be written repaired instead of raw, and only
 * a test that reaches that very field shows it (test_item_text varies a
 * few of them). */
#define ITEM_FIELDS 34u

static char *
field_text(const char *what)
{
    return g_strdup_printf("%s \xff\xfe bad", what);
}

/* Field `f` of `it` (every one present: item_fields_fill) made bad, or
 * given a NULL member when `null_member` and it is a list; its name. */
static const char *
item_field_break(bw_item_t *it, unsigned f, bool null_member)
{
    bw_report_t *r = it->report;
    bw_original_t *o = r->original;
    bw_recipient_t *rc = g_ptr_array_index(r->recipients, 0);
    char **s = NULL;
    GPtrArray *list = NULL;
    const char *name = NULL;
    switch (f) {
    case 0: s = &it->message_id; name = "message_id"; break;
    case 1: s = &it->file; name = "file"; break;
    case 2: list = it->evidence; name = "evidence"; break;
    case 3: s = &it->fp.subject_masked; name = "subject_masked"; break;
    case 4: s = &it->campaign; name = "campaign"; break;
    case 5: s = &it->anomaly; name = "anomaly"; break;
    case 6: r->family = "family \xff bad"; return "family";
    case 7: s = &r->feedback_type; name = "feedback_type"; break;
    case 8: s = &r->message_id; name = "report message_id"; break;
    case 9: s = &r->from; name = "report from"; break;
    case 10: list = r->to; name = "report to"; break;
    case 11: s = &r->subject; name = "report subject"; break;
    case 12: s = &r->date; name = "report date"; break;
    case 13: s = &r->in_reply_to; name = "report in_reply_to"; break;
    case 14: list = r->references; name = "references"; break;
    case 15: s = &r->auto_submitted; name = "auto_submitted"; break;
    case 16: s = &rc->address; name = "address"; break;
    case 17: s = &rc->original_address; name = "original_address"; break;
    case 18: s = &rc->action; name = "action"; break;
    case 19: s = &rc->status; name = "status"; break;
    case 20: s = &rc->reply_code; name = "reply_code"; break;
    case 21: s = &rc->remote_mta; name = "remote_mta"; break;
    case 22: s = &rc->diagnostic; name = "diagnostic"; break;
    case 23: s = &o->message_id; name = "original message_id"; break;
    case 24: s = &o->from; name = "original from"; break;
    case 25: list = o->to; name = "original to"; break;
    case 26: s = &o->subject; name = "original subject"; break;
    case 27: s = &o->date; name = "original date"; break;
    case 28: s = &o->return_path; name = "return_path"; break;
    case 29: list = o->received; name = "received"; break;
    case 30: s = &o->dkim_domain; name = "dkim_domain"; break;
    case 31: s = &o->x_mailer; name = "x_mailer"; break;
    case 32: s = &o->in_reply_to; name = "original in_reply_to"; break;
    case 33: list = o->url_domains; name = "url_domains"; break;
    default: ck_abort_msg("no field %u", f);
    }
    if (list != NULL) {
        char *old = g_ptr_array_index(list, 0);
        g_ptr_array_index(list, 0) = null_member ? NULL : field_text(name);
        g_free(old);
    } else if (!null_member) {
        g_free(*s);
        *s = field_text(name);
    }
    return name;
}

/* Every string and list of `it` present (a valid value where the fixture
 * has none), so that each field is written. */
static void
item_fields_fill(bw_item_t *it)
{
#define FILL(p, v) do { if ((p) == NULL) (p) = g_strdup(v); } while (0)
#define FILL_LIST(l, v) do { \
        if ((l) == NULL) (l) = g_ptr_array_new_with_free_func(g_free); \
        if ((l)->len == 0) g_ptr_array_add((l), g_strdup(v)); } while (0)
    bw_report_t *r = it->report;
    if (r->original == NULL)
        r->original = g_new0(bw_original_t, 1);
    bw_original_t *o = r->original;
    if (r->recipients->len == 0)
        g_ptr_array_add(r->recipients, g_new0(bw_recipient_t, 1));
    bw_recipient_t *rc = g_ptr_array_index(r->recipients, 0);
    FILL_LIST(it->evidence, "evidence");
    FILL(it->fp.subject_masked, "masked");
    FILL(it->campaign, "bw-00000001");
    FILL(it->anomaly, "anomaly");
    if (r->family == NULL)
        r->family = "rfc3464";
    FILL(r->feedback_type, "abuse");
    FILL(r->message_id, "report@example.org");
    FILL(r->from, "mailer-daemon@example.org");
    FILL_LIST(r->to, "owner@example.org");
    FILL(r->subject, "Undelivered");
    FILL(r->date, "2026-11-16T12:00:00Z");
    FILL(r->in_reply_to, "irt@example.org");
    FILL_LIST(r->references, "ref@example.org");
    FILL(r->auto_submitted, "auto-replied");
    FILL(rc->address, "x@example.net");
    FILL(rc->original_address, "X@example.net");
    FILL(rc->action, "failed");
    FILL(rc->status, "5.1.1");
    FILL(rc->reply_code, "550");
    FILL(rc->remote_mta, "mx.example.net");
    FILL(rc->diagnostic, "user unknown");
    FILL(o->message_id, "orig@example.org");
    FILL(o->from, "owner@example.org");
    FILL_LIST(o->to, "x@example.net");
    FILL(o->subject, "hello");
    FILL(o->date, "2026-11-16T11:00:00Z");
    FILL(o->return_path, "owner@example.org");
    FILL_LIST(o->received, "from a by b");
    FILL(o->dkim_domain, "example.org");
    FILL(o->x_mailer, "Thunderbird/128.4");
    FILL(o->in_reply_to, "orig-irt@example.org");
    FILL_LIST(o->url_domains, "example.com");
#undef FILL
#undef FILL_LIST
}

START_TEST(test_item_text_every_field)
{
    guint direct = 0, checked = 0;
    for (unsigned f = 0; f <= ITEM_FIELDS; f++) {
        for (int null_member = 0; null_member < 2; null_member++) {
            bw_item_t *it = g_new0(bw_item_t, 1);
            it->message_id = g_strdup("item@example.org");
            it->file = g_strdup("/mail/cur/1:2,S");
            it->date_unix = 1763300000;
            it->klass = BW_CLASS_BACKSCATTER;
            it->origin = BW_ORIGIN_FOREIGN;
            it->score = 0.97;
            it->report = parse_fixture("corpus/dsn/postfix-user-unknown.eml");
            item_fields_fill(it);
            /* f == ITEM_FIELDS: all of them valid (written directly) */
            const char *name = f < ITEM_FIELDS ? item_field_break(it, f, null_member) : "none";
            g_autofree char *tree = bw_json_node_take_text(bw_item_to_json(it));
            g_autofree char *text = bw_item_to_json_text(it);
            ck_assert_msg(g_strcmp0(tree, text) == 0, "row text differs (%s%s):\n%s\n%s", name,
                          null_member ? ", NULL member" : "", tree, text);
            g_autoptr(GPtrArray) one = g_ptr_array_new();
            g_ptr_array_add(one, it);
            bw_scan_result_t doc = { 0 };
            doc.items = one;
            JsonNode *root = bw_scan_result_to_json(&doc);
            JsonArray *arr = json_object_get_array_member(json_node_get_object(root), "bounces");
            g_autofree char *etree = bw_json_node_to_text(json_array_get_element(arr, 0));
            json_node_unref(root);
            g_autofree char *entry = bw_item_entry_text(it);
            ck_assert_msg(entry == NULL || strcmp(etree, entry) == 0,
                          "entry text differs (%s%s):\n%s\n%s", name,
                          null_member ? ", NULL member" : "", etree, entry);
            if (f == ITEM_FIELDS)
                ck_assert_ptr_nonnull(entry);
            direct += entry != NULL;
            checked++;
            bw_item_free(it);
        }
    }
    ck_assert_uint_eq(checked, 2 * (ITEM_FIELDS + 1));
    ck_assert_uint_gt(direct, 0);
}
END_TEST

START_TEST(test_item_variant_roundtrip)
{
    for (unsigned i = 0; i <= G_N_ELEMENTS(all_fixtures); i++) {
        bw_item_t *it = g_new0(bw_item_t, 1);
        it->message_id = g_strdup_printf("item-%u@example.org", i);
        it->file = i % 2 ? g_strdup("/mail/cur/1:2,S") : NULL;
        it->date_unix = 1763300000 + i;
        it->klass = (bw_class_t)(i % 3);
        it->origin = (bw_origin_t)(i % 3);
        it->score = i == 3 ? 2.0 : 0.1 * (i % 10) + 1e-9;
        it->evidence = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(it->evidence, g_strdup("the original message <x@y> was never sent"));
        g_ptr_array_add(it->evidence, g_strdup(""));
        it->fp.subject_template = 0x8000000000000001ull * i;
        it->fp.body_simhash = G_MAXUINT64 - i;
        it->fp.subject_names = i;
        it->fp.subject_masked = i % 2 ? g_strdup("your parcel # is waiting") : NULL;
        it->campaign = i % 3 ? g_strdup("bw-3f9a1c2e") : NULL;
        it->anomaly = i == 1 ? g_strdup("run-1@example.org") : NULL;
        /* every fixture's report, and one item without a report */
        it->report = i < G_N_ELEMENTS(all_fixtures) ? parse_fixture(all_fixtures[i]) : NULL;
        g_autoptr(JsonNode) a = item_via_json(it);
        g_autoptr(JsonNode) b = item_via_variant(it);
        ck_assert_msg(json_node_equal(a, b), "binary form differs for %s",
                      i < G_N_ELEMENTS(all_fixtures) ? all_fixtures[i] : "no report");
        /* what the JSON holds but bw_item_to_json does not show */
        g_autoptr(GVariant) v = bw_item_to_variant(it);
        g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes(v);
        bw_item_t *back = NULL;
        ck_assert_int_eq(bw_item_from_variant(bytes, &back), BW_OK);
        if (it->report) {
            ck_assert_int_eq(back->report->date_unix, it->report->date_unix);
            ck_assert_ptr_eq(back->report->family, it->report->bounce
                                                   ? g_intern_string(it->report->family) : NULL);
            if (it->report->original)
                ck_assert_int_eq(back->report->original->date_unix,
                                 it->report->original->date_unix);
        }
        /* the stored row's bytes sit after a 32-byte hash, at any
         * alignment: read in place, the same item */
        gsize n = g_bytes_get_size(bytes);
        g_autofree guint8 *shifted = g_malloc(n + 1);
        memcpy(shifted + 1, g_bytes_get_data(bytes, NULL), n);
        bw_item_t *moved = NULL;
        ck_assert_int_eq(bw_item_from_variant_data(shifted + 1, n, &moved), BW_OK);
        g_autoptr(JsonNode) c = bw_item_to_json(moved);
        ck_assert_msg(json_node_equal(a, c), "unaligned binary form differs");
        bw_item_free(moved);
        /* any byte changed reads as an item or an error, never out of
         * bounds (the framing offsets at the end included) */
        for (gsize k = 0; k < 64 && n > 0; k++) {
            memcpy(shifted + 1, g_bytes_get_data(bytes, NULL), n);
            gsize at = k < 8 ? n - 1 - k : (k * 2654435761u) % n;
            shifted[1 + at] ^= (guint8)(1u << (k % 8));
            bw_item_t *p = NULL;
            (void)bw_item_from_variant_data(shifted + 1, n, &p);
            bw_item_free(p);
        }
        /* damaged bytes read as something, never out of bounds */
        for (gsize cut = 0; cut < n; cut += 1 + n / 7) {
            g_autoptr(GBytes) part = g_bytes_new_from_bytes(bytes, 0, cut);
            bw_item_t *p = NULL;
            (void)bw_item_from_variant(part, &p);
            bw_item_free(p);
        }
        bw_item_free(back);
        bw_item_free(it);
    }
}
END_TEST

START_TEST(test_json_reload_roundtrip)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(all_fixtures); i++) {
        g_autoptr(bw_report_t) r = parse_fixture(all_fixtures[i]);
        JsonNode *a = bw_report_to_json(r, "f", -1, NULL);
        bw_report_t *back = NULL;
        g_autofree char *detail = NULL;
        ck_assert_int_eq(bw_report_from_json(a, &back, &detail), BW_OK);
        JsonNode *b = bw_report_to_json(back, "f", -1, NULL);
        ck_assert_msg(json_node_equal(a, b), "reload changed %s", all_fixtures[i]);
        ck_assert_int_eq(back->date_unix, r->date_unix);
        if (r->original != NULL)
            ck_assert_int_eq(back->original->date_unix, r->original->date_unix);
        bw_report_free(back);
        json_node_unref(a);
        json_node_unref(b);
    }
    bw_report_t *none = NULL;
    JsonNode *arr = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(arr, json_array_new());
    ck_assert_int_eq(bw_report_from_json(arr, &none, NULL), BW_E_INVALID);
    ck_assert_ptr_null(none);
    json_node_unref(arr);
}
END_TEST

/* ------------------------------------------------------------ report shapes
 * Malformed or wrapped reports of real server families (fixtures under
 * tests/corpus/shapes/). */

/* A parameter line that lost its folding blank, and a multipart with no
 * boundary at all: the notice inside still reaches the detectors. */
START_TEST(test_shape_boundary_tolerant)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/shapes/unfolded-boundary.eml");
    ck_assert(r->bounce);
    ck_assert_uint_eq(r->recipients->len, 1);
    ck_assert_str_eq(rcpt(r, 0)->address, "5550100@sms.example.net");
    ck_assert_int_eq(rcpt(r, 0)->reason, BW_REASON_USER_UNKNOWN);
    /* the notice's summary lines ("MAIL FROM:", "Size (in bytes):") are
     * fields of their own, not a continuation of the quoted Subject */
    ck_assert_ptr_nonnull(r->original);
    ck_assert_str_eq(r->original->subject, "Lunch on Friday");

    size_t len = 0;
    g_autofree char *data = bw_test_read("corpus/shapes/missing-boundary.eml", &len);
    g_autoptr(bw_mime_t) m = bw_mime_parse(data, len);
    const bw_mpart_t *root = &g_array_index(m->parts, bw_mpart_t, 0);
    ck_assert_str_eq(root->boundary, "=_relay_7f3a9c");
    ck_assert_uint_eq(root->n_children, 2);
    g_autoptr(bw_report_t) b = parse_fixture("corpus/shapes/missing-boundary.eml");
    ck_assert(b->bounce);
    ck_assert_str_eq(rcpt(b, 0)->address, "carol@nowhere.example.net");
    ck_assert_ptr_nonnull(b->original);
    ck_assert_str_eq(b->original->message_id, "minutes-42@example.org");

    /* A body that starts with a rule of dashes names no boundary. */
    static const char rule[] = "Content-Type: multipart/mixed\n\n--------------------\nhello\n";
    g_autoptr(bw_mime_t) m2 = bw_mime_parse(rule, sizeof rule - 1);
    ck_assert_str_eq(g_array_index(m2->parts, bw_mpart_t, 0).boundary, "");
}
END_TEST

/* multipart/report; report-type=delivery-status from a daemon with only a
 * text part and the returned message: a report, about the original's
 * addressee, with the status read from the words. */
START_TEST(test_shape_report_without_delivery_status)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/shapes/report-without-ds.eml");
    ck_assert(r->bounce);
    ck_assert_uint_eq(r->recipients->len, 1);
    ck_assert_str_eq(rcpt(r, 0)->address, "dave@example.net");
    ck_assert_str_eq(rcpt(r, 0)->status, "5.2.2");
    ck_assert_int_eq(rcpt(r, 0)->reason, BW_REASON_MAILBOX_FULL);
    ck_assert_str_eq(r->original->message_id, "photos-77@example.org");
}
END_TEST

/* A notice whose "original" is itself a bounce, attached or quoted after a
 * marker with its mbox line: the failed recipient and the real original
 * come from the inner report, not the inner report's addressee. */
START_TEST(test_shape_nested_bounce)
{
    g_autoptr(bw_report_t) a = parse_fixture("corpus/shapes/nested-bounce.eml");
    ck_assert(a->bounce);
    ck_assert_uint_eq(a->recipients->len, 1);
    ck_assert_str_eq(rcpt(a, 0)->address, "erin@far.example");
    ck_assert_str_eq(rcpt(a, 0)->status, "5.1.1");
    ck_assert_str_eq(a->original->message_id, "agenda-9@example.org");
    ck_assert_str_eq(a->message_id, "gw.8812.relay@gw.example.com");

    g_autoptr(bw_report_t) q = parse_fixture("corpus/shapes/nested-bounce-quoted.eml");
    ck_assert(q->bounce);
    ck_assert_uint_eq(q->recipients->len, 1);
    ck_assert_str_eq(rcpt(q, 0)->address, "ivy@remote.example.ne.jp");
    ck_assert_int_eq(rcpt(q, 0)->reason, BW_REASON_USER_UNKNOWN);
    ck_assert_str_eq(q->original->message_id, "hello-3@example.com");
    ck_assert_str_eq(q->original->from, "henry@example.com");
}
END_TEST

/* A chain of reports each attaching the next, deeper than the descent
 * bound: still one result, in bounded work. */
START_TEST(test_shape_nested_bounce_bounded)
{
    GString *m = g_string_new(NULL);
    for (int i = 0; i < 40; i++)
        g_string_append_printf(m, "From: MAILER-DAEMON@h%d.example\nSubject: Undelivered Mail Returned to Sender\n"
                                  "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b%d\"\n\n"
                                  "--b%d\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; u%d@h.example\n"
                                  "Action: failed\nStatus: 5.1.1\n\n--b%d\nContent-Type: message/rfc822\n\n",
                               i, i, i, i, i);
    g_string_append(m, "From: x@example.org\nMessage-ID: <deep@example.org>\n\nbody\n");
    bw_report_t *r = NULL;
    ck_assert_int_eq(bw_parse_bytes(m->str, m->len, &r, NULL), BW_OK);
    ck_assert(r->bounce);
    ck_assert_str_eq(rcpt(r, 0)->address, "u0@h.example");
    bw_report_free(r);
    g_string_free(m, TRUE);
}
END_TEST

/* Duplicate Message-ID headers: notmuch indexes the first (GMime's header
 * list answers the first of a name), so the report's id is the first. */
START_TEST(test_duplicate_message_id_first)
{
    static const char msg[] = "From: a@example.org\nMessage-ID: <first@example.org>\n"
                              "Message-ID: <second@example.org>\nSubject: x\n\nbody\n";
    bw_report_t *r = NULL;
    ck_assert_int_eq(bw_parse_bytes(msg, sizeof msg - 1, &r, NULL), BW_OK);
    ck_assert_str_eq(r->message_id, "first@example.org");
    bw_report_free(r);
}
END_TEST

/* A report forwarded whole by a gateway is read; the same report forwarded
 * by a person to a helpdesk is not a report. */
START_TEST(test_shape_gateway_wrapped_report)
{
    g_autoptr(bw_report_t) g = parse_fixture("corpus/shapes/gateway-wrapped.eml");
    ck_assert(g->bounce);
    ck_assert_int_eq(g->kind, BW_KIND_DSN);
    ck_assert_uint_eq(g->recipients->len, 1);
    ck_assert_str_eq(rcpt(g, 0)->address, "leo@dest.example");
    ck_assert_int_eq(rcpt(g, 0)->reason, BW_REASON_MAILBOX_FULL);
    ck_assert_str_eq(g->original->message_id, "invoice-2024-03@example.org");
    /* the report's own identity stays the wrapper's (notmuch holds it) */
    ck_assert_str_eq(g->message_id, "gw-notify-5521@filter.example.org");

    g_autoptr(bw_report_t) p = parse_fixture("corpus/shapes/person-forwards-bounce.eml");
    ck_assert(!p->bounce);
    ck_assert_uint_eq(p->recipients->len, 0);
}
END_TEST

/* ARF reports that are slightly off: the fields in a text/plain part, or
 * inline in the text of a mail carrying the complained-about message; the
 * complainer from Original-Rcpt-To, else the original's To.  A person's
 * mail quoting such fields is not a complaint. */
START_TEST(test_arf_tolerant)
{
    g_autoptr(bw_report_t) a = parse_fixture("corpus/arf/mislabelled-part.eml");
    ck_assert(a->bounce);
    ck_assert_int_eq(a->kind, BW_KIND_FEEDBACK);
    ck_assert_str_eq(a->feedback_type, "abuse");
    ck_assert_uint_eq(a->recipients->len, 1);
    ck_assert_str_eq(rcpt(a, 0)->address, "mia@complaints.example.net");
    ck_assert_str_eq(a->original->message_id, "sale-2024-spring@example.org");

    g_autoptr(bw_report_t) b = parse_fixture("corpus/arf/inline-fields.eml");
    ck_assert(b->bounce);
    ck_assert_int_eq(b->kind, BW_KIND_FEEDBACK);
    ck_assert_str_eq(rcpt(b, 0)->address, "noah@isp.example.com");
    ck_assert_int_eq(rcpt(b, 0)->reason, BW_REASON_FEEDBACK);

    g_autoptr(bw_report_t) c = parse_fixture("corpus/arf/person-about-arf.eml");
    ck_assert(!c->bounce);

    static const char lone[] = "Feedback-Type: abuse\n\nno companion field\n";
    ck_assert_uint_eq(bw_arf_find_inline(lone, sizeof lone - 1), (size_t)-1);
}
END_TEST

/* A Diagnostic-Code copied raw in ISO-2022-JP (7-bit, so valid UTF-8 but
 * unreadable) is decoded, and its words decide the reason. */
START_TEST(test_dsn_iso2022jp_diagnostic)
{
    static const char msg[] =
        "From: Mail Router <postmaster@notes.example.jp>\n"
        "Subject: DELIVERY FAILURE\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"n1\"\n\n"
        "--n1\nContent-Type: text/plain\n\nfailure\n\n"
        "--n1\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; notes.example.jp\n\n"
        "Final-Recipient: rfc822; taro@example.jp\nAction: failed\nStatus: 5.0.0\n"
        /* "ユーザー taro は ディレクトリには見つかりません" in ISO-2022-JP */
        "Diagnostic-Code: X-Notes; \x1b$B%f!<%6!<\x1b(B taro \x1b$B$O\x1b(B "
        "\x1b$B%G%#%l%/%H%j$K$O8+$D$+$j$^$;$s\x1b(B\n\n"
        "--n1--\n";
    bw_report_t *r = NULL;
    ck_assert_int_eq(bw_parse_bytes(msg, sizeof msg - 1, &r, NULL), BW_OK);
    ck_assert(r->bounce);
    ck_assert_ptr_null(strchr(rcpt(r, 0)->diagnostic, '\x1b'));
    ck_assert_ptr_nonnull(strstr(rcpt(r, 0)->diagnostic, "ディレクトリには見つかりません"));
    ck_assert_int_eq(rcpt(r, 0)->reason, BW_REASON_USER_UNKNOWN);
    bw_report_free(r);
}
END_TEST

/* A multipart/report inside multipart/mixed (a list server's footer) is
 * the daemon's report; the same parts inline in a person's mail with a
 * normal subject are not. */
START_TEST(test_shape_report_in_mixed)
{
    g_autoptr(bw_report_t) a = parse_fixture("corpus/shapes/report-in-mixed.eml");
    ck_assert(a->bounce);
    ck_assert_int_eq(a->kind, BW_KIND_DSN);
    ck_assert_str_eq(rcpt(a, 0)->address, "zed@example.net");
    ck_assert_str_eq(a->original->message_id, "m1@example.org");

    g_autoptr(bw_report_t) p = parse_fixture("corpus/shapes/person-inline-report.eml");
    ck_assert(!p->bounce);
}
END_TEST

/* A notice that names nobody, with the original's headers in a
 * message/global-headers part (RFC 6533, UTF-8 addresses): the vendor
 * tables read the recipients from that part's To. */
START_TEST(test_shape_global_headers_original)
{
    g_autoptr(bw_report_t) r = parse_fixture("corpus/shapes/global-headers-only.eml");
    ck_assert(r->bounce);
    ck_assert_uint_eq(r->recipients->len, 2);
    ck_assert_str_eq(rcpt(r, 0)->address, "利用者@例え.jp");
    ck_assert_str_eq(rcpt(r, 1)->address, "target@example.jp");
    ck_assert(r->original->headers_only);
    ck_assert_str_eq(r->original->message_id, "gh-1@example.org");
}
END_TEST

/* The view's header index answers as a scan of the block from the top
 * does (bw_hdr_get), for every name: present, absent, repeated, with
 * blanks before the colon, in another case, folded, and past the table of
 * a block with more names than it holds. */
static void
view_agrees(const char *hdr, const char *const *names, size_t n)
{
    bw_view_index_t ix;
    bw_view_index_init(&ix, hdr, strlen(hdr));
    bw_view_t view = { 0 };
    view.priv = &ix;
    for (int round = 0; round < 2; round++)      /* the second from what it kept */
        for (size_t i = 0; i < n; i++) {
            g_autofree char *scan = bw_hdr_get(hdr, strlen(hdr), names[i]);
            ck_assert_msg(g_strcmp0(bw_view_header(&view, names[i]), scan) == 0, "%s: %s, scan %s", names[i],
                          bw_view_header(&view, names[i]), scan);
        }
    bw_view_index_clear(&ix);
}

START_TEST(test_view_header_index)
{
    const char *hdr = "From: a@example.com\n"
                      "Received: one\n"
                      "Received: two\n"
                      "subject \t: =?UTF-8?B?Y2Fmw6k=?=\n"
                      " folded on\n"
                      "X-Odd Name: not a field name\n"
                      "\tX-Indented: a continuation\n"
                      "NoColonHere\n"
                      ": empty name\n"
                      "TO:b@example.com\n"
                      "List-Id: <list.example.com>";
    static const char *const names[] = {
        "From", "FROM", "Received", "Subject", "X-Odd", "X-Odd Name", "X-Indented", "NoColonHere",
        "To", "to", "List-Id", "Cc", "", "Subject:", "From ",
    };
    view_agrees(hdr, names, G_N_ELEMENTS(names));

    /* more distinct names than the table holds: the names past it are
     * found by a scan from where the table stopped */
    GString *big = g_string_new("From: first@example.com\n");
    for (unsigned i = 0; i < BW_VIEW_INDEX_MAX_NAMES + 50; i++)
        g_string_append_printf(big, "X-Name-%u: value %u\n", i, i);
    g_string_append(big, "Late: late value\nFrom: second@example.com\nX-Name-7: again\n");
    char last[32], past[32];
    g_snprintf(last, sizeof last, "X-Name-%u", BW_VIEW_INDEX_MAX_NAMES + 20);
    g_snprintf(past, sizeof past, "X-Name-%u", BW_VIEW_INDEX_MAX_NAMES + 60);
    const char *const many[] = { "From", "X-Name-7", "X-Name-4000", last, past, "Late", "late", "Absent" };
    view_agrees(big->str, many, G_N_ELEMENTS(many));
    g_string_free(big, TRUE);
}
END_TEST

/* Hostile mail can give thousands of distinct field names one hash (names
 * that differ in bit 5 of a non-letter, '[' and '{', shared a hash of the
 * eight-bytes-at-a-time kind; FNV-1a multicollisions are as easy to
 * build): indexing them compared each new name with every earlier one,
 * whole (a 0.9 MB header block took 2 s, a 4 MB one passed the reader's
 * CPU limit).  The table keeps at most BW_VIEW_INDEX_MAX_SAME_HASH + 1
 * names of one hash; past that the block is answered by a scan from that
 * line, as past BW_VIEW_INDEX_MAX_NAMES: the same values. */
START_TEST(test_view_header_index_same_hash)
{
    GString *big = g_string_new("From: first@example.com\n");
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (unsigned i = 0; i < 4096; i++) {
        GString *n = g_string_new("X-");
        for (unsigned k = 0; k < 64; k++)
            g_string_append_c(n, 'a');
        for (unsigned k = 0; k < 12; k++)
            g_string_append_c(n, (i >> k) & 1 ? '{' : '[');
        g_string_append_printf(big, "%s: value %u\n", n->str, i);
        g_ptr_array_add(names, g_string_free(n, FALSE));
    }
    g_string_append(big, "Late: late value\nFrom: second@example.com\n");

    bw_view_index_t ix;
    bw_view_index_init(&ix, big->str, big->len);
    for (size_t i = 0; i <= ix.fields_mask; i++) {
        unsigned same = 0;
        for (size_t j = 0; ix.fields[i].hash != 0 && j <= ix.fields_mask; j++)
            same += ix.fields[j].hash == ix.fields[i].hash;
        ck_assert_uint_le(same, BW_VIEW_INDEX_MAX_SAME_HASH + 1);
    }
    bw_view_index_clear(&ix);

    const char *const some[] = { "From", "Late", "Absent", names->pdata[0], names->pdata[1], names->pdata[2],
                                 names->pdata[3], names->pdata[9], names->pdata[4095] };
    view_agrees(big->str, some, G_N_ELEMENTS(some));
    g_ptr_array_free(names, TRUE);
    g_string_free(big, TRUE);
}
END_TEST

Suite *
suite_parse(void)
{
    Suite *s = suite_create("parse");
    TCase *dsn = tcase_create("dsn");
    tcase_add_test(dsn, test_view_header_index);
    tcase_add_test(dsn, test_view_header_index_same_hash);
    tcase_add_test(dsn, test_dsn_postfix);
    tcase_add_test(dsn, test_dsn_two_recipients_no_blank_line);
    tcase_add_test(dsn, test_dsn_action_first_and_diagnostic_code);
    tcase_add_test(dsn, test_dsn_global);
    tcase_add_test(dsn, test_dsn_fields_inline);
    tcase_add_test(dsn, test_dsn_field_reader);
    suite_add_tcase(s, dsn);
    TCase *arf = tcase_create("arf");
    tcase_add_test(arf, test_arf_abuse);
    tcase_add_test(arf, test_arf_jmrp);
    suite_add_tcase(s, arf);
    TCase *ar = tcase_create("autoreply");
    tcase_add_test(ar, test_autoreply_rfc3834);
    tcase_add_test(ar, test_autoreply_japanese_iso2022jp);
    tcase_add_test(ar, test_autoreply_german_latin1);
    tcase_add_test(ar, test_challenge_and_virus);
    tcase_add_test(ar, test_ham_is_not_a_report);
    suite_add_tcase(s, ar);
    TCase *cs = tcase_create("charset");
    tcase_add_test(cs, test_charsets);
    tcase_add_test(cs, test_to_utf8_guesses);
    tcase_add_test(cs, test_header_decode);
    suite_add_tcase(s, cs);
    TCase *in = tcase_create("input");
    tcase_add_test(in, test_line_ends_agree);
    tcase_add_test(in, test_mbox_two_messages);
    tcase_add_test(in, test_errors);
    tcase_add_test(in, test_deep_nesting_is_bounded);
    tcase_set_timeout(in, 30);
    suite_add_tcase(s, in);
    TCase *mr = tcase_create("mime");
    tcase_add_test(mr, test_mime_reader);
    tcase_add_test(mr, test_mime_reader_damaged);
    tcase_add_test(mr, test_header_lookup);
    suite_add_tcase(s, mr);
    TCase *sh = tcase_create("shapes");
    tcase_add_test(sh, test_shape_boundary_tolerant);
    tcase_add_test(sh, test_shape_report_without_delivery_status);
    tcase_add_test(sh, test_shape_nested_bounce);
    tcase_add_test(sh, test_shape_nested_bounce_bounded);
    tcase_add_test(sh, test_duplicate_message_id_first);
    tcase_add_test(sh, test_shape_gateway_wrapped_report);
    tcase_add_test(sh, test_arf_tolerant);
    tcase_add_test(sh, test_dsn_iso2022jp_diagnostic);
    tcase_add_test(sh, test_shape_report_in_mixed);
    tcase_add_test(sh, test_shape_global_headers_original);
    suite_add_tcase(s, sh);
    TCase *js = tcase_create("json");
    tcase_add_test(js, test_json_writer_equals_tree);
    tcase_add_test(js, test_json_reload_roundtrip);
    tcase_add_test(js, test_item_variant_roundtrip);
    tcase_add_test(js, test_item_text);
    tcase_add_test(js, test_item_text_every_field);
    suite_add_tcase(s, js);
    return s;
}
