/* check_vendor.c: the non-standard notices of vendor.c, one fixture per
 * family under tests/corpus/vendor/<family>/ (written for these tests after
 * the way each family words its notices), read through bw_parse_bytes(). */
#include "suites.h"
#include "bw-vendor.h"
#include <string.h>

typedef struct {
    const char *file;
    const char *family;
    const char *address;     /* first recipient */
    const char *status;
    const char *reply_code;  /* NULL: not checked */
    bw_reason_t reason;
    unsigned nrecipients;
    const char *action;      /* NULL: "failed" */
} vendor_case_t;

static const vendor_case_t cases[] = {
    {"qmail/01.eml", "qmail", "bob@example.com", "5.1.1", "550", BW_REASON_USER_UNKNOWN, 2, NULL},
    {"qmail/02.eml", "qmail", "dave@no-such-host.example", "5.1.2", NULL,
     BW_REASON_HOST_UNKNOWN, 1, NULL},
    {"exim/01.eml", "exim", "bob@example.com", "5.7.1", "550", BW_REASON_BLOCKED, 1, NULL},
    {"sendmail/01.eml", "sendmail", "erin@example.jp", "5.1.1", "550",
     BW_REASON_USER_UNKNOWN, 1, NULL},
    {"postfix/01.eml", "postfix", "frank@example.com", "5.3.4", "552",
     BW_REASON_MESSAGE_TOO_LARGE, 1, NULL},
    {"exchange/01.eml", "exchange2007", "grace@contoso.example", "5.1.10", "550",
     BW_REASON_USER_UNKNOWN, 1, NULL},
    {"gmail/01.eml", "gmail", "henry@example.co.uk", "5.2.1", "550", BW_REASON_SUSPENDED, 1, NULL},
    {"opensmtpd/01.eml", "opensmtpd", "ivan@example.com", "5.7.26", "550",
     BW_REASON_AUTH_FAILURE, 1, NULL},
    {"courier/01.eml", "courier", "judy@example.com", "5.1.1", "550",
     BW_REASON_USER_UNKNOWN, 1, NULL},
    {"domino/01.eml", "domino", "ken@example.co.jp", "5.1.1", NULL, BW_REASON_USER_UNKNOWN, 1, NULL},
    {"yahoo/01.eml", "yahoo", "leo@example.net", "5.7.9", "554", BW_REASON_POLICY, 1, NULL},
    {"amazonses/01.eml", "amazonses", "mia@example.com", "5.1.1", "550",
     BW_REASON_USER_UNKNOWN, 1, NULL},
    {"mfilter/01.eml", "mfilter", "nana@example.jp", "5.2.2", "550", BW_REASON_MAILBOX_FULL, 1, NULL},
    {"kddi/01.eml", "kddi", "oscar@dion.ne.jp", "5.2.2", NULL, BW_REASON_MAILBOX_FULL, 1, NULL},
    {"biglobe/01.eml", "biglobe", "pat@mail.biglobe.ne.jp", "5.2.2", NULL,
     BW_REASON_MAILBOX_FULL, 1, NULL},
    {"mimecast/01.eml", "mimecast", "quinn@example.net", "5.1.1", NULL,
     BW_REASON_USER_UNKNOWN, 1, NULL},
    {"generic/01.eml", "generic", "rita@example.com", "5.1.1", "550",
     BW_REASON_USER_UNKNOWN, 1, NULL},
    /* German and Japanese Exchange Online notices */
    {"exchange/03.eml", "exchange2007", "werner@firma.example.de", "5.2.2", "554",
     BW_REASON_MAILBOX_FULL, 1, NULL},
    {"exchange/04.eml", "exchange2007", "yuki@kaisha.example.co.jp", "5.1.1", "550",
     BW_REASON_USER_UNKNOWN, 1, NULL},
    /* a recipient named by its display name only: the attached original's To */
    {"exchange/02.eml", "exchange2003", "uma@corp.example.com", "5.1.1", NULL,
     BW_REASON_USER_UNKNOWN, 1, NULL},
    /* a Japanese notice of an unknown server, "宛先:" naming the recipient */
    {"generic/02.eml", "generic", "vic@example.ne.jp", "5.1.1", "550",
     BW_REASON_USER_UNKNOWN, 1, NULL},
    /* "Possible alternatives:" names addresses that did not fail */
    {"groupwise/01.eml", "groupwise", "bob@example.edu", "5.1.1", NULL, BW_REASON_USER_UNKNOWN,
     1, NULL},
    /* the recipient only in a session transcript */
    {"mdaemon/01.eml", "mdaemon", "carl@example.net", "5.1.1", "550", BW_REASON_USER_UNKNOWN, 1,
     NULL},
    {"messagingserver/01.eml", "messagingserver", "dora@ms.example.com", "5.1.1", "550",
     BW_REASON_USER_UNKNOWN, 1, NULL},
    /* a bilingual Czech/English notice of an unknown server */
    {"generic/03.eml", "generic", "eva@example.cz", "5.2.2", "552", BW_REASON_MAILBOX_FULL, 1,
     NULL},
    /* a German Google Groups refusal: no known phrase, the family's meaning;
     * the greeting's address is not a recipient */
    {"googlegroups/01.eml", "googlegroups", "book-club@googlegroups.com", "5.7.0", NULL,
     BW_REASON_POLICY, 1, NULL},
    /* Sendmail V5: no address in the notice, the original's To says nothing:
     * the envelope recipient of its first Received header; 4xx then
     * returned: the queue expired */
    {"sendmail/03.eml", "sendmail", "yara@example.com", "4.4.7", "421", BW_REASON_EXPIRED, 1,
     NULL},
    /* warnings: delayed, not failed */
    {"exim/02.eml", "exim", "sue@example.com", "4.7.1", "451", BW_REASON_EXPIRED, 1, "delayed"},
    {"sendmail/02.eml", "sendmail", "tom@example.jp", "4.4.0", NULL, BW_REASON_NETWORK_ERROR, 1,
     "delayed"},
};

static bw_report_t *
parse_fixture(const char *file, bool crlf)
{
    g_autofree char *rel = g_strconcat("corpus/vendor/", file, NULL);
    size_t len = 0;
    g_autofree char *data = bw_test_read(rel, &len);
    g_autofree char *conv = NULL;
    if (crlf) {
        /* the same notice with CRLF line ends must read the same */
        GString *g = g_string_sized_new(len * 2);
        for (size_t i = 0; i < len; i++) {
            if (data[i] == '\n')
                g_string_append_c(g, '\r');
            g_string_append_c(g, data[i]);
        }
        len = g->len;
        conv = g_string_free(g, FALSE);
    }
    bw_report_t *report = NULL;
    g_autofree char *detail = NULL;
    bw_status_t st = bw_parse_bytes(crlf ? conv : data, len, &report, &detail);
    ck_assert_msg(st == BW_OK, "%s: %s", file, detail);
    return report;
}

static void
check_case(const vendor_case_t *c, bool crlf)
{
    g_autoptr(bw_report_t) r = parse_fixture(c->file, crlf);
    ck_assert_msg(r->bounce, "%s: not a bounce", c->file);
    ck_assert_msg(r->kind == BW_KIND_BOUNCE, "%s: kind %s", c->file,
                  bw_kind_to_string(r->kind));
    ck_assert_msg(g_strcmp0(r->family, c->family) == 0, "%s: family %s", c->file, r->family);
    ck_assert_msg(r->recipients->len == c->nrecipients, "%s: %u recipients", c->file,
                  r->recipients->len);
    bw_recipient_t *rc = g_ptr_array_index(r->recipients, 0);
    ck_assert_str_eq(rc->address, c->address);
    ck_assert_msg(g_strcmp0(rc->status, c->status) == 0, "%s: status %s", c->file, rc->status);
    if (c->reply_code != NULL)
        ck_assert_msg(g_strcmp0(rc->reply_code, c->reply_code) == 0, "%s: reply %s", c->file,
                      rc->reply_code);
    ck_assert_msg(rc->reason == c->reason, "%s: reason %s, want %s (diagnostic: %s)", c->file,
                  bw_reason_to_string(rc->reason), bw_reason_to_string(c->reason),
                  rc->diagnostic);
    ck_assert_str_eq(rc->action, c->action != NULL ? c->action : "failed");
    ck_assert_ptr_nonnull(rc->diagnostic);
}

START_TEST(test_vendor_family)
{
    check_case(&cases[_i], false);
}
END_TEST

START_TEST(test_vendor_family_crlf)
{
    check_case(&cases[_i], true);
}
END_TEST

START_TEST(test_vendor_qmail_details)
{
    g_autoptr(bw_report_t) r = parse_fixture("qmail/01.eml", false);
    bw_recipient_t *carol = g_ptr_array_index(r->recipients, 1);
    ck_assert_str_eq(carol->address, "carol@example.com");
    ck_assert_str_eq(carol->status, "5.2.2");
    ck_assert_int_eq(carol->reason, BW_REASON_MAILBOX_FULL);
    /* the diagnostic is this recipient's own, not bob's */
    ck_assert_ptr_null(strstr(carol->diagnostic, "bob@"));
    /* the quoted original after the qmail marker */
    ck_assert_ptr_nonnull(r->original);
    ck_assert_str_eq(r->original->message_id, "20250303100000.4240.qmail@mail.example.net");
    ck_assert_str_eq(r->original->subject, "Quarterly figures");
}
END_TEST

START_TEST(test_vendor_remote_mta)
{
    g_autoptr(bw_report_t) e = parse_fixture("exim/01.eml", false);
    bw_recipient_t *r = g_ptr_array_index(e->recipients, 0);
    ck_assert_str_eq(r->remote_mta, "mx.example.com");
    g_autoptr(bw_report_t) p = parse_fixture("postfix/01.eml", false);
    r = g_ptr_array_index(p->recipients, 0);
    ck_assert_str_eq(r->remote_mta, "mx.example.com");
}
END_TEST

START_TEST(test_vendor_ses_original)
{
    g_autoptr(bw_report_t) r = parse_fixture("amazonses/01.eml", false);
    ck_assert_ptr_nonnull(r->original);
    ck_assert_str_eq(r->original->message_id, "ses1@example.org");
    ck_assert_str_eq(r->original->from, "ops@example.org");
}
END_TEST

/* A person forwarding a qmail notice below "----- Original message -----":
 * the quoted notice must not make the message a bounce. */
START_TEST(test_vendor_quoted_notice_is_not_a_bounce)
{
    g_autoptr(bw_report_t) r = parse_fixture("negative/01.eml", false);
    ck_assert(!r->bounce);
    ck_assert_uint_eq(r->recipients->len, 0);
}
END_TEST

/* A colleague's "RE: Undeliverable: ..." quoting an Exchange notice, and a
 * hotmail.com user whose text happens to use notice phrases: people, not
 * servers. */
START_TEST(test_vendor_people_are_not_bounces)
{
    g_autoptr(bw_report_t) reply = parse_fixture("negative/02.eml", false);
    ck_assert(!reply->bounce);
    g_autoptr(bw_report_t) user = parse_fixture("negative/03.eml", false);
    ck_assert(!user->bounce);
    /* a Japanese colleague writing about a failed send, signed with an
     * address on its own line */
    g_autoptr(bw_report_t) ja = parse_fixture("negative/04.eml", false);
    ck_assert(!ja->bounce);
}
END_TEST

/* A notice naming many recipients: capped, and still quick. */
START_TEST(test_vendor_many_recipients)
{
    GString *g = g_string_new("From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
                              "Subject: failure notice\n\n"
                              "Hi. This is the qmail-send program at mx.example.net.\n"
                              "I'm afraid I wasn't able to deliver your message to the "
                              "following addresses.\n\n");
    for (unsigned i = 0; i < 3000; i++)
        g_string_append_printf(g, "<u%u@example.com>:\nSorry, no mailbox here by that name. "
                                  "(#5.1.1)\n\n", i);
    bw_report_t *r = NULL;
    ck_assert_int_eq(bw_parse_bytes(g->str, g->len, &r, NULL), BW_OK);
    ck_assert(r->bounce);
    ck_assert_uint_gt(r->recipients->len, 0);
    ck_assert_uint_le(r->recipients->len, BW_MAX_RECIPIENTS);
    bw_report_free(r);
    g_string_free(g, TRUE);
}
END_TEST

/* Attacker-written notices: dense phrases, brackets and at-signs on one
 * long line and over many lines.  Every scanner is bounded; the forked
 * test's timeout is the check. */
START_TEST(test_vendor_hostile_text)
{
    static const char *const units[] = {
        "rcpt to:<", "<<<<@@@@", "recipient: a@", "550 5.1.1 <x@y", "\n<a@b.c>:\n",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@",
    };
    for (size_t u = 0; u < G_N_ELEMENTS(units); u++) {
        GString *g = g_string_new("From: MAILER-DAEMON@mx.example.net\nTo: a@example.org\n"
                                  "Subject: Undelivered Mail Returned to Sender\n\n"
                                  "This is the mail system at host mx.example.net.\n");
        while (g->len < 300 * 1024)
            g_string_append(g, units[u]);
        bw_report_t *r = NULL;
        ck_assert_int_eq(bw_parse_bytes(g->str, g->len, &r, NULL), BW_OK);
        ck_assert_uint_le(r->recipients->len, BW_MAX_RECIPIENTS);
        bw_report_free(r);
        g_string_free(g, TRUE);
    }
}
END_TEST

/* A notice that names nobody: the recipients are the To of the returned
 * message (a message/rfc822 part), folded over two lines. */
START_TEST(test_vendor_recipient_from_returned_headers)
{
    const char *msg =
        "From: MAILER-DAEMON@mx.example.net\n"
        "To: a@example.org\n"
        "Subject: Returned mail: see transcript for details\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
        "--b\nContent-Type: text/plain\n\n"
        "   ----- Transcript of session follows -----\n"
        "421 mx.example.com (smtp)... Deferred: Connection timed out\n"
        "Message could not be delivered for 5 days\n\n"
        "--b\nContent-Type: message/rfc822\n\n"
        "Message-ID: <rh1@example.org>\n"
        "From: a@example.org\n"
        "To: Wes <wes@example.com>,\n"
        "  xia@example.com\n"
        "Subject: hello\n\n"
        "hi\n"
        "--b--\n";
    bw_report_t *r = NULL;
    ck_assert_int_eq(bw_parse_bytes(msg, strlen(msg), &r, NULL), BW_OK);
    ck_assert(r->bounce);
    ck_assert_uint_eq(r->recipients->len, 2);
    ck_assert_str_eq(((bw_recipient_t *)g_ptr_array_index(r->recipients, 0))->address,
                     "wes@example.com");
    ck_assert_str_eq(((bw_recipient_t *)g_ptr_array_index(r->recipients, 1))->address,
                     "xia@example.com");
    bw_report_free(r);
}
END_TEST

/* The enrichment of DSN recipients from the human-readable part. */
START_TEST(test_vendor_enrich_dsn)
{
    const char *msg =
        "From: MAILER-DAEMON@mx.example.net\n"
        "To: a@example.org\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n"
        "--b\nContent-Type: text/plain\n\n"
        "<zed@example.com>: host mx.example.com[198.51.100.1] said: 550 5.2.2\n"
        "    <zed@example.com>: mailbox is full (in reply to RCPT TO command)\n\n"
        "--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        "Final-Recipient: rfc822; zed@example.com\n"
        "Action: failed\n"
        "Status: 5.0.0\n\n"
        "--b--\n";
    bw_report_t *r = NULL;
    ck_assert_int_eq(bw_parse_bytes(msg, strlen(msg), &r, NULL), BW_OK);
    ck_assert(r->bounce);
    ck_assert_uint_eq(r->recipients->len, 1);
    bw_recipient_t *rc = g_ptr_array_index(r->recipients, 0);
    ck_assert_str_eq(rc->address, "zed@example.com");
    ck_assert_str_eq(rc->status, "5.2.2");
    ck_assert_int_eq(rc->reason, BW_REASON_MAILBOX_FULL);
    ck_assert_ptr_nonnull(rc->diagnostic);
    bw_report_free(r);
}
END_TEST

/* bw_reply_code_find before it skipped to the candidate digits sixteen
 * bytes at a time: the answer to compare with. */
static char *
reply_code_plain(const char *s, size_t n)
{
    size_t ok_at = SIZE_MAX;
    for (size_t i = 0; i + 3 <= n; i++) {
        if (!(s[i] == '2' || s[i] == '4' || s[i] == '5'))
            continue;
        if (!(s[i + 1] >= '0' && s[i + 1] <= '5') || !g_ascii_isdigit(s[i + 2]))
            continue;
        if (i > 0 && (g_ascii_isalnum(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-'
                      || s[i - 1] == '/' || s[i - 1] == '+' || s[i - 1] == '_'))
            continue;
        if (i > 1 && s[i - 1] == ':' && g_ascii_isxdigit(s[i - 2]))
            continue;
        if (i + 3 < n) {
            char c = s[i + 3];
            if (!(c == ' ' || c == '-' || c == '\n' || c == '\t' || c == ')' || c == ','
                  || c == '\'' || c == '"' || c == ':' || c == ']'))
                continue;
            if (c == '-' && i + 4 < n && !g_ascii_isdigit(s[i + 4]) && s[i + 4] != ' ')
                continue;
        }
        if (s[i] != '2')
            return g_strndup(s + i, 3);
        if (ok_at == SIZE_MAX)
            ok_at = i;
    }
    return ok_at != SIZE_MAX ? g_strndup(s + ok_at, 3) : NULL;
}

START_TEST(test_reply_code_as_plain)
{
    /* texts of digits, the separators around a code, letters and 8-bit
     * bytes, at every length around the 16-byte blocks, with long runs of
     * letters (so that whole blocks are skipped) */
    static const char bytes[] = "0123456789 -\n\t),'\":]./+_aF\xe9";
    GRand *r = g_rand_new_with_seed(31);
    char text[80];
    unsigned found = 0;
    for (int t = 0; t < 200000; t++) {
        size_t n = (size_t)g_rand_int_range(r, 0, (gint32)sizeof text);
        bool sparse = g_rand_boolean(r);
        for (size_t i = 0; i < n; i++)
            text[i] = sparse && g_rand_int_range(r, 0, 10) != 0
                          ? 'x' : bytes[g_rand_int_range(r, 0, (gint32)sizeof bytes - 1)];
        g_autofree char *want = reply_code_plain(text, n);
        g_autofree char *got = bw_reply_code_find(text, n);
        ck_assert_str_eq(got ? got : "(none)", want ? want : "(none)");
        found += want != NULL;
    }
    ck_assert_uint_gt(found, 2000);   /* (codes were there to find) */
    g_rand_free(r);
}
END_TEST

Suite *
suite_vendor(void)
{
    Suite *s = suite_create("vendor");
    TCase *tc = tcase_create("families");
    tcase_add_loop_test(tc, test_vendor_family, 0, G_N_ELEMENTS(cases));
    tcase_add_loop_test(tc, test_vendor_family_crlf, 0, G_N_ELEMENTS(cases));
    suite_add_tcase(s, tc);
    tc = tcase_create("details");
    tcase_add_test(tc, test_vendor_qmail_details);
    tcase_add_test(tc, test_vendor_remote_mta);
    tcase_add_test(tc, test_vendor_ses_original);
    tcase_add_test(tc, test_vendor_quoted_notice_is_not_a_bounce);
    tcase_add_test(tc, test_vendor_people_are_not_bounces);
    tcase_add_test(tc, test_vendor_many_recipients);
    tcase_add_test(tc, test_vendor_hostile_text);
    tcase_add_test(tc, test_vendor_recipient_from_returned_headers);
    tcase_add_test(tc, test_vendor_enrich_dsn);
    tcase_add_test(tc, test_reply_code_as_plain);
    suite_add_tcase(s, tc);
    return s;
}
