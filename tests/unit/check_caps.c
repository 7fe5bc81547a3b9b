/* check_caps.c: the structural caps of bw.h before every parser handed
 * attacker text (caps.c), one test group per cap.
 *
 * For each cap: the check function on its own (inputs at, just under and
 * past the limit), a bomb through bw_parse_bytes (BW_E_REFUSED, a one-line
 * detail naming the cap, in bounded time) and a sane input near the limit
 * that must still parse fully.  Inputs are generated here. */
#include "suites.h"
#include "bw-parse.h"
#include <string.h>
#include <time.h>

/* CPU seconds one parse may take (the sanitizer build is several times
 * slower): every bomb here is refused by a linear check.  CPU time, not wall
 * time: on a loaded machine a linear parse waited 6 s for a core and failed
 * the bound, while a square-time one still burns its CPU and fails it. */
static double
time_limit(void)
{
    return g_strcmp0(g_getenv("BW_SANITIZED"), "1") == 0 ? 40.0 : 5.0;
}

/* CPU time of this process (check runs each test in its own child). */
static double
cpu_seconds(void)
{
    struct timespec ts;
    ck_assert_int_eq(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses `data`; checks the time bound and the contract of the statuses. */
static bw_report_t *
parse_timed(const char *data, size_t len, bw_status_t *st, char **detail)
{
    bw_report_t *r = NULL;
    double t0 = cpu_seconds();
    *st = bw_parse_bytes(data, len, &r, detail);
    double secs = cpu_seconds() - t0;
    ck_assert_msg(secs < time_limit(), "parsing %zu bytes took %.1f s", len, secs);
    if (*st == BW_OK)
        ck_assert_ptr_nonnull(r);
    else
        ck_assert_ptr_null(r);
    return r;
}

/* The message must be refused with a one-line detail that names `cap`. */
static void
assert_refused(const char *data, size_t len, const char *cap)
{
    bw_status_t st;
    g_autofree char *detail = NULL;
    bw_report_t *r = parse_timed(data, len, &st, &detail);
    ck_assert_msg(st == BW_E_REFUSED, "expected BW_E_REFUSED naming %s, got %s (%s)", cap,
                  bw_status_to_string(st), detail ? detail : "no detail");
    bw_report_free(r);
    ck_assert_ptr_nonnull(detail);
    ck_assert_msg(g_str_has_prefix(detail, "refused: "), "detail: %s", detail);
    ck_assert_msg(strstr(detail, cap) != NULL, "detail does not name %s: %s", cap, detail);
    ck_assert_ptr_null(strchr(detail, '\n'));
}

static gboolean
has_recipient(const bw_report_t *r, const char *address)
{
    for (guint i = 0; r != NULL && i < r->recipients->len; i++) {
        const bw_recipient_t *rc = g_ptr_array_index(r->recipients, i);
        if (g_strcmp0(rc->address, address) == 0)
            return TRUE;
    }
    return FALSE;
}

/* ------------------------------------------------------------ JSON */

/* An Amazon SES notification as SNS mails it, around `json`. */
static char *
ses_notice(const char *json)
{
    return g_strdup_printf(
        "From: AWS Notifications <no-reply@sns.amazonaws.com>\n"
        "To: ops@example.org\n"
        "Subject: AWS Notification Message\n"
        "Date: Mon, 3 Mar 2025 10:00:12 +0000\n"
        "x-amz-sns-message-id: 0b9a1c9e-0000-4000-8000-000000000001\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "\n"
        "%s\n"
        "\n"
        "--\n"
        "If you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n"
        "https://sns.us-east-1.amazonaws.com/unsubscribe.html?SubscriptionArn=arn:aws:sns:us-east-1:0:bounces\n",
        json);
}

static const char SES_RECIPIENT[] =
    "{\"emailAddress\":\"%s\",\"action\":\"failed\",\"status\":\"5.1.1\","
    "\"diagnosticCode\":\"smtp; 550 5.1.1 user unknown\"}";

/* A bounce notification whose "bounce" object carries `extra` members
 * (",\"x\":..." or "") after its recipients. */
static char *
ses_bounce(const char *recipients, const char *extra)
{
    return g_strdup_printf(
        "{\"notificationType\":\"Bounce\",\"bounce\":{\"bounceType\":\"Permanent\","
        "\"bouncedRecipients\":[%s],\"reportingMTA\":\"dsn; a1-2.smtp-out.amazonses.com\"%s},"
        "\"mail\":{\"source\":\"ops@example.org\",\"messageId\":\"0100018f-aaaa\","
        "\"commonHeaders\":{\"from\":[\"ops@example.org\"],\"to\":[\"mia@example.com\"],"
        "\"messageId\":\"<ses1@example.org>\",\"subject\":\"welcome\"}}}",
        recipients, extra);
}

START_TEST(test_json_check)
{
    static const struct {
        const char *text;
        bw_status_t want;
    } cases[] = {
        { "{}", BW_OK },
        { " [ ] ", BW_OK },
        { "{\"a\":[1,-2.5e+3,true,false,null,\"s\\u00e9\\n\"],\"b\":{}}", BW_OK },
        { "\"just a string\"", BW_OK },
        { "0", BW_OK },
        { "", BW_E_INVALID },
        { "{", BW_E_INVALID },
        { "[1,]", BW_E_INVALID },
        { "{\"a\":1,}", BW_E_INVALID },
        { "{\"a\" 1}", BW_E_INVALID },
        { "{a:1}", BW_E_INVALID },
        { "['x']", BW_E_INVALID },                  /* single quotes: json-glib's */
        { "[1] // comment", BW_E_INVALID },        /* comments: json-glib's */
        { "/* \" */ [1]", BW_E_INVALID },
        { "[\"a\\x\\\"\"]", BW_OK },                /* any escaped byte, as json-glib */
        { "[\"a\nb\r\tc\"]", BW_OK },              /* a gateway's line wrap in a string */
        { "[\"a\\\nb\"]", BW_OK },
        { "[\"a\001b\"]", BW_E_INVALID },           /* other control characters */
        { "[\"\\u00\"]", BW_E_INVALID },            /* json-glib would take the quote */
        { "[\"\\u00e9\"]", BW_OK },
        { "[01]", BW_E_INVALID },
        { "[1.]", BW_E_INVALID },
        { "[.5]", BW_E_INVALID },
        { "[1e]", BW_E_INVALID },
        { "[tru]", BW_E_INVALID },
        { "[1] [2]", BW_E_INVALID },                /* two values */
        { "[}", BW_E_INVALID },
        { "{]", BW_E_INVALID },
        { "[\"\xff\"]", BW_E_INVALID },             /* not UTF-8 */
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *why = NULL;
        bw_status_t st = bw_caps_check_json(cases[i].text, strlen(cases[i].text), &why);
        ck_assert_msg(st == cases[i].want, "%s: %s, expected %s", cases[i].text,
                      bw_status_to_string(st), bw_status_to_string(cases[i].want));
        if (st != BW_E_REFUSED)
            ck_assert_ptr_null(why);
    }
}
END_TEST

START_TEST(test_json_depth_limit)
{
    /* Exactly BW_MAX_JSON_DEPTH levels pass, one more is refused: arrays
     * and objects count alike. */
    for (int extra = 0; extra <= 1; extra++) {
        unsigned n = BW_MAX_JSON_DEPTH + (unsigned)extra;
        GString *t = g_string_new(NULL);
        for (unsigned i = 0; i < n; i++)
            g_string_append(t, i % 2 ? "[" : "{\"k\":");
        g_string_append(t, "1");
        for (unsigned i = n; i-- > 0;)
            g_string_append(t, i % 2 ? "]" : "}");
        g_autofree char *why = NULL;
        bw_status_t st = bw_caps_check_json(t->str, t->len, &why);
        if (extra == 0) {
            ck_assert_int_eq(st, BW_OK);
        } else {
            ck_assert_int_eq(st, BW_E_REFUSED);
            ck_assert_str_eq(why, "refused: JSON nested deeper than 64 levels (limit BW_MAX_JSON_DEPTH)");
        }
        g_string_free(t, TRUE);
    }
}
END_TEST

START_TEST(test_json_values_limit)
{
    for (int extra = 0; extra <= 1; extra++) {
        unsigned n = BW_MAX_JSON_VALUES - 1 + (unsigned)extra;     /* plus the array */
        GString *t = g_string_new("[");
        for (unsigned i = 0; i < n; i++)
            g_string_append(t, i ? ",0" : "0");
        g_string_append(t, "]");
        g_autofree char *why = NULL;
        bw_status_t st = bw_caps_check_json(t->str, t->len, &why);
        ck_assert_int_eq(st, extra ? BW_E_REFUSED : BW_OK);
        if (extra)
            ck_assert_ptr_nonnull(strstr(why, "BW_MAX_JSON_VALUES"));
        g_string_free(t, TRUE);
    }
    /* Member names count too. */
    GString *t = g_string_new("{");
    for (unsigned i = 0; i < BW_MAX_JSON_VALUES / 2; i++)
        g_string_append_printf(t, "%s\"k%u\":0", i ? "," : "", i);
    g_string_append(t, "}");
    g_autofree char *why = NULL;
    ck_assert_int_eq(bw_caps_check_json(t->str, t->len, &why), BW_E_REFUSED);
    g_string_free(t, TRUE);
}
END_TEST

START_TEST(test_json_deep_bomb)
{
    /* The reported crash: 120,000 nested '[' as the "bounce" value
     * (json-glib recursed until the stack overflowed). */
    const unsigned n = 120000;
    GString *j = g_string_new("{\"notificationType\":\"Bounce\",\"bounce\":");
    for (unsigned i = 0; i < n; i++)
        g_string_append_c(j, '[');
    for (unsigned i = 0; i < n; i++)
        g_string_append_c(j, ']');
    g_string_append(j, "}");
    g_autofree char *m = ses_notice(j->str);
    assert_refused(m, strlen(m), "BW_MAX_JSON_DEPTH");
    /* Unclosed, inside the "Message" string of an SNS envelope (which is
     * read as JSON again). */
    g_string_truncate(j, 0);
    g_string_append(j, "{\"notificationType\":\"Bounce\",\"Message\":\"{\\\"bounce\\\":");
    for (unsigned i = 0; i < 10000; i++)
        g_string_append_c(j, '[');
    g_string_append(j, "\"}");
    g_autofree char *m2 = ses_notice(j->str);
    assert_refused(m2, strlen(m2), "BW_MAX_JSON_DEPTH");
    g_string_free(j, TRUE);
}
END_TEST

START_TEST(test_json_wide_bomb)
{
    /* 100,000 recipients that are not objects: far past the values cap,
     * under the 256 KiB the text is read to. */
    GString *r = g_string_new(NULL);
    for (unsigned i = 0; i < 100000; i++)
        g_string_append(r, i ? ",0" : "0");
    g_autofree char *j = ses_bounce(r->str, "");
    g_autofree char *m = ses_notice(j);
    assert_refused(m, strlen(m), "BW_MAX_JSON_VALUES");
    g_string_free(r, TRUE);
}
END_TEST

START_TEST(test_json_near_limits)
{
    /* A notice nested BW_MAX_JSON_DEPTH deep (the root object, "bounce",
     * then arrays) and one naming BW_MAX_RECIPIENTS recipients: both read
     * in full. */
    GString *x = g_string_new(",\"x\":");
    for (unsigned i = 0; i < BW_MAX_JSON_DEPTH - 2; i++)
        g_string_append_c(x, '[');
    for (unsigned i = 0; i < BW_MAX_JSON_DEPTH - 2; i++)
        g_string_append_c(x, ']');
    g_autofree char *one = g_strdup_printf(SES_RECIPIENT, "deep@example.net");
    g_autofree char *j = ses_bounce(one, x->str);
    g_autofree char *m = ses_notice(j);
    bw_status_t st;
    g_autofree char *detail = NULL;
    g_autoptr(bw_report_t) r = parse_timed(m, strlen(m), &st, &detail);
    ck_assert_msg(st == BW_OK, "%s", detail);
    ck_assert(r->bounce);
    ck_assert_str_eq(r->family, "amazonses");
    ck_assert(has_recipient(r, "deep@example.net"));
    ck_assert_str_eq(r->original->message_id, "ses1@example.org");

    GString *many = g_string_new(NULL);
    for (unsigned i = 0; i < BW_MAX_RECIPIENTS; i++) {
        g_autofree char *a = g_strdup_printf("r%u@example.net", i);
        g_autofree char *one2 = g_strdup_printf(SES_RECIPIENT, a);
        if (i)
            g_string_append_c(many, ',');
        g_string_append(many, one2);
    }
    g_autofree char *j2 = ses_bounce(many->str, "");
    ck_assert_uint_lt(strlen(j2), BW_MAX_SCAN_BYTES);
    g_autofree char *m2 = ses_notice(j2);
    g_autofree char *detail2 = NULL;
    g_autoptr(bw_report_t) r2 = parse_timed(m2, strlen(m2), &st, &detail2);
    ck_assert_msg(st == BW_OK, "%s", detail2);
    ck_assert_uint_eq(r2->recipients->len, BW_MAX_RECIPIENTS);
    ck_assert(has_recipient(r2, "r999@example.net"));
    g_string_free(x, TRUE);
    g_string_free(many, TRUE);
}
END_TEST

START_TEST(test_json_not_strict)
{
    /* A comment makes the text something json-glib reads and the check
     * does not: not handed on, and not a refusal (nothing passed a cap). */
    g_autofree char *one = g_strdup_printf(SES_RECIPIENT, "c@example.net");
    g_autofree char *j = ses_bounce(one, "/* x */");
    g_autofree char *m = ses_notice(j);
    bw_status_t st;
    g_autofree char *detail = NULL;
    g_autoptr(bw_report_t) r = parse_timed(m, strlen(m), &st, &detail);
    ck_assert_int_eq(st, BW_OK);
    ck_assert(!has_recipient(r, "c@example.net") || g_strcmp0(r->family, "amazonses") != 0);
}
END_TEST


/* ------------------------------------------------------------ mail frames */

/* A DSN whose own header carries `report_headers` (after From), whose
 * original is attached whole (message/rfc822) with `original_headers`
 * (after From), and whose text part has `text_ct` as Content-Type. */
static char *
dsn_with(const char *report_headers, const char *text_ct, const char *original_headers)
{
    return g_strdup_printf(
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
        "%s"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Message-ID: <caps@mx.example.org>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
        "\n"
        "--B\n"
        "Content-Type: %s\n"
        "\n"
        "Your message could not be delivered.\n"
        "\n"
        "--B\n"
        "Content-Type: message/delivery-status\n"
        "\n"
        "Reporting-MTA: dns; mx.example.org\n"
        "\n"
        "Final-Recipient: rfc822; caps@example.net\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "\n"
        "--B\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "From: owner@example.com\n"
        "%s"
        "Subject: hello\n"
        "Message-ID: <caps-original@example.com>\n"
        "\n"
        "body\n"
        "--B--\n",
        report_headers, text_ct, original_headers);
}

/* A notice that no standard part names (a Postfix-like text) with the
 * original attached: read by the vendor tables, which hand the original's
 * To to GMime. */
static char *
notice_with(const char *original_headers)
{
    return g_strdup_printf(
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
        "To: owner@example.com\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"B\"\n"
        "\n"
        "--B\n"
        "Content-Type: text/plain\n"
        "\n"
        "This is the mail system at host mx.example.org.\n"
        "\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n"
        "\n"
        "--B\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "From: owner@example.com\n"
        "%s"
        "Subject: hello\n"
        "\n"
        "body\n"
        "--B--\n",
        original_headers);
}

/* The parse must succeed and name caps@example.net. */
static bw_report_t *
assert_read(const char *m)
{
    bw_status_t st;
    g_autofree char *detail = NULL;
    bw_report_t *r = parse_timed(m, strlen(m), &st, &detail);
    ck_assert_msg(st == BW_OK, "refused a sane message: %s", detail ? detail : bw_status_to_string(st));
    ck_assert(r->bounce);
    ck_assert(has_recipient(r, "caps@example.net"));
    return r;
}

static char *
repeat(const char *unit, unsigned n)
{
    GString *s = g_string_sized_new(strlen(unit) * n + 1);
    for (unsigned i = 0; i < n; i++)
        g_string_append(s, unit);
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------ addresses */

START_TEST(test_address_check)
{
    g_autofree char *eight = repeat("g:a@b;", BW_MAX_ADDRESS_GROUP_DEPTH);
    g_autofree char *nine = repeat("g:", BW_MAX_ADDRESS_GROUP_DEPTH + 1);
    ck_assert_ptr_null(bw_caps_check_addresses(eight, strlen(eight)));
    g_autofree char *why = bw_caps_check_addresses(nine, strlen(nine));
    ck_assert_ptr_nonnull(strstr(why, "BW_MAX_ADDRESS_GROUP_DEPTH"));
    /* A ':' in quotes counts too: GMime may read an unclosed quote
     * otherwise than a checker would. */
    g_autofree char *quoted = g_strdup_printf("\"%s", nine);
    g_autofree char *why2 = bw_caps_check_addresses(quoted, strlen(quoted));
    ck_assert_ptr_nonnull(why2);

    g_autofree char *open16 = repeat("(", BW_MAX_ADDRESS_COMMENT_DEPTH);
    g_autofree char *close16 = repeat(")", BW_MAX_ADDRESS_COMMENT_DEPTH);
    g_autofree char *c16 = g_strdup_printf("a@b %s%s", open16, close16);
    ck_assert_ptr_null(bw_caps_check_addresses(c16, strlen(c16)));
    g_autofree char *c17 = g_strdup_printf("a@b (%s%s)", open16, close16);
    g_autofree char *why3 = bw_caps_check_addresses(c17, strlen(c17));
    ck_assert_ptr_nonnull(strstr(why3, "BW_MAX_ADDRESS_COMMENT_DEPTH"));

    g_autofree char *list = repeat("a@b.c,", BW_MAX_ADDRESSES);
    ck_assert_ptr_null(bw_caps_check_addresses(list, strlen(list) - 1));    /* 2,000 addresses */
    g_autofree char *why4 = bw_caps_check_addresses(list, strlen(list));    /* one more ',' */
    ck_assert_ptr_nonnull(strstr(why4, "BW_MAX_ADDRESSES"));
}
END_TEST

START_TEST(test_address_group_bombs)
{
    /* 100,000 nested groups: GMime's parser overflowed the stack on them
     * in an attached original (the vendor tables' path), and would in the
     * report's own To. */
    g_autofree char *groups = repeat("g:", 100000);
    g_autofree char *to = g_strdup_printf("To: %s\n", groups);
    g_autofree char *m1 = notice_with(to);
    assert_refused(m1, strlen(m1), "BW_MAX_ADDRESS_GROUP_DEPTH");
    g_autofree char *m2 = dsn_with(to, "text/plain", "To: caps@example.net\n");
    assert_refused(m2, strlen(m2), "BW_MAX_ADDRESS_GROUP_DEPTH");
    g_autofree char *m3 = dsn_with("To: owner@example.com\n", "text/plain", to);
    assert_refused(m3, strlen(m3), "BW_MAX_ADDRESS_GROUP_DEPTH");
}
END_TEST

START_TEST(test_address_comment_and_list_bombs)
{
    g_autofree char *open = repeat("(", 100000);
    g_autofree char *to = g_strdup_printf("To: caps@example.net %s\n", open);
    g_autofree char *m1 = dsn_with("To: owner@example.com\n", "text/plain", to);
    assert_refused(m1, strlen(m1), "BW_MAX_ADDRESS_COMMENT_DEPTH");
    /* 100,000 local parts: GMime took 72 s over them (square time). */
    g_autofree char *items = repeat("a,", 100000);
    g_autofree char *to2 = g_strdup_printf("To: %s\n", items);
    g_autofree char *m2 = notice_with(to2);
    assert_refused(m2, strlen(m2), "BW_MAX_ADDRESSES");
}
END_TEST

START_TEST(test_address_near_limits)
{
    /* Real shapes near the caps: a group list, comments two deep, and a
     * To of 1,000 people with encoded names, are all read. */
    g_autofree char *m1 = dsn_with("To: undisclosed-recipients:;\n", "text/plain",
                                   "To: team: caps@example.net (Caps (work)), b@example.net;, "
                                   "other: c@example.net;\n");
    g_autoptr(bw_report_t) r1 = assert_read(m1);
    ck_assert_ptr_nonnull(r1->original);
    ck_assert_uint_ge(r1->original->to->len, 1);
    ck_assert_str_eq(g_ptr_array_index(r1->original->to, 0), "caps@example.net");

    GString *to = g_string_new("To: ");
    for (unsigned i = 0; i < 1000; i++)
        g_string_append_printf(to, "%s=?UTF-8?B?5bGx55Sw?= <p%u@example.net>", i ? ",\n " : "", i);
    g_string_append_c(to, '\n');
    g_autofree char *m2 = notice_with(to->str);
    bw_status_t st;
    g_autofree char *detail = NULL;
    g_autoptr(bw_report_t) r2 = parse_timed(m2, strlen(m2), &st, &detail);
    /* 1,000 encoded words: past BW_MAX_ENCODED_WORDS (512), a To list of
     * 500 named people is the most a field may carry.  500 is read: */
    ck_assert_int_eq(st, BW_E_REFUSED);
    ck_assert_ptr_nonnull(strstr(detail, "BW_MAX_ENCODED_WORDS"));
    g_string_truncate(to, 0);
    g_string_append(to, "To: ");
    for (unsigned i = 0; i < 500; i++)
        g_string_append_printf(to, "%s=?UTF-8?B?5bGx55Sw?= <p%u@example.net>", i ? ",\n " : "", i);
    g_string_append_c(to, '\n');
    g_autofree char *m3 = notice_with(to->str);
    g_autofree char *detail3 = NULL;
    g_autoptr(bw_report_t) r3 = parse_timed(m3, strlen(m3), &st, &detail3);
    ck_assert_msg(st == BW_OK, "%s", detail3);
    ck_assert(r3->bounce);
    g_string_free(to, TRUE);
}
END_TEST

/* ------------------------------------------------------------ MIME parameters */

START_TEST(test_params_check)
{
    g_autofree char *p64 = repeat("; p=v", BW_MAX_MIME_PARAMS);
    g_autofree char *v64 = g_strdup_printf("text/plain%s", p64);
    ck_assert_ptr_null(bw_caps_check_params(v64, strlen(v64)));
    g_autofree char *v65 = g_strdup_printf("text/plain%s; p=v", p64);
    g_autofree char *why = bw_caps_check_params(v65, strlen(v65));
    ck_assert_ptr_nonnull(strstr(why, "BW_MAX_MIME_PARAMS"));
    /* ';' in a quoted value is no parameter */
    g_autofree char *semis = repeat(";", 1000);
    g_autofree char *vq = g_strdup_printf("text/plain; name=\"%s\"", semis);
    ck_assert_ptr_null(bw_caps_check_params(vq, strlen(vq)));

    const char *ok = "application/pdf; name*0*=UTF-8''a; name*63=\"b\"";
    ck_assert_ptr_null(bw_caps_check_params(ok, strlen(ok)));
    const char *far = "application/pdf; name*64=b";
    g_autofree char *why2 = bw_caps_check_params(far, strlen(far));
    ck_assert_ptr_nonnull(strstr(why2, "BW_MAX_RFC2231_SECTIONS"));
    const char *huge = "application/pdf; name*99999999999999999999999=b";
    g_autofree char *why3 = bw_caps_check_params(huge, strlen(huge));
    ck_assert_ptr_nonnull(strstr(why3, "BW_MAX_RFC2231_SECTIONS"));
}
END_TEST

START_TEST(test_params_bombs)
{
    g_autofree char *params = repeat(";\n p=v", 100000);
    g_autofree char *ct = g_strdup_printf("text/plain%s", params);
    g_autofree char *m1 = dsn_with("To: owner@example.com\n", ct, "To: caps@example.net\n");
    assert_refused(m1, strlen(m1), "BW_MAX_MIME_PARAMS");
    /* RFC 2231 sections numbered far past the cap (a reader that joins
     * them by number would size an array by it) */
    GString *c = g_string_new("text/plain; charset=us-ascii");
    for (unsigned i = 0; i < 40; i++)
        g_string_append_printf(c, ";\n name*%u=x", i * 1000000u);
    g_autofree char *m2 = dsn_with("To: owner@example.com\n", c->str, "To: caps@example.net\n");
    assert_refused(m2, strlen(m2), "BW_MAX_RFC2231_SECTIONS");
    g_string_free(c, TRUE);
}
END_TEST

START_TEST(test_params_near_limits)
{
    /* A long file name in 20 RFC 2231 sections, as mail clients write
     * it: the message is read, and the part is still text/plain. */
    GString *c = g_string_new("text/plain; charset=\"us-ascii\"; format=flowed");
    for (unsigned i = 0; i < 20; i++)
        g_string_append_printf(c, ";\n name*%u*=%s%%E5%%B1%%B1%%E7%%94%%B0", i, i == 0 ? "UTF-8''" : "");
    g_autofree char *m = dsn_with("To: owner@example.com\n", c->str, "To: caps@example.net\n");
    g_autoptr(bw_report_t) r = assert_read(m);
    ck_assert_int_eq(r->kind, BW_KIND_DSN);
    g_string_free(c, TRUE);
}
END_TEST

/* ------------------------------------------------------------ encoded words */

START_TEST(test_encoded_words_bombs)
{
    /* 100,000 words in alternating charsets (each switch costs GMime and
     * the core a converter) in the report's Subject. */
    GString *w = g_string_new(NULL);
    static const char *const cs[] = { "koi8-r", "iso-8859-1", "shift_jis", "euc-jp" };
    for (unsigned i = 0; i < 100000; i++)
        g_string_append_printf(w, " =?%s?B?gg==?=", cs[i % 4]);
    g_autofree char *subject = g_strdup_printf(
        "From: MAILER-DAEMON@mx.example.org\nTo: owner@example.com\nSubject:%s\n\n"
        "<caps@example.net>: 550 5.1.1 User unknown\n", w->str);
    assert_refused(subject, strlen(subject), "BW_MAX_ENCODED_WORDS");
    /* Just under the cap in three fields of one message: past the
     * message's total. */
    g_string_truncate(w, 0);
    for (unsigned i = 0; i < BW_MAX_ENCODED_WORDS; i++)
        g_string_append_printf(w, " =?%s?B?gg==?=", cs[i % 4]);
    g_autofree char *orig = g_strdup_printf("To:%s\nSubject:%s\nMessage-ID: <w@example.com>\n", w->str, w->str);
    g_autofree char *m3 = notice_with(orig);
    assert_refused(m3, strlen(m3), "BW_MAX_ENCODED_WORDS_TOTAL");
    g_string_free(w, TRUE);
}
END_TEST

START_TEST(test_encoded_words_near_limits)
{
    /* A subject of 200 words (a long Japanese subject takes 10) is
     * decoded whole. */
    GString *w = g_string_new(NULL);
    for (unsigned i = 0; i < 200; i++)
        g_string_append(w, " =?UTF-8?B?5bGx?=");
    g_autofree char *m = g_strdup_printf(
        "From: MAILER-DAEMON@mx.example.org\nTo: owner@example.com\nSubject:%s\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Final-Recipient: rfc822; caps@example.net\nAction: failed\nStatus: 5.1.1\n\n--B--\n",
        w->str);
    g_autoptr(bw_report_t) r = assert_read(m);
    ck_assert_uint_eq(g_utf8_strlen(r->subject, -1), 200);
    g_string_free(w, TRUE);
}
END_TEST

/* ------------------------------------------------------------ dates */

START_TEST(test_dates)
{
    /* A date with a long comment, within BW_MAX_DATE_BYTES, is read; one
     * byte longer is no date (a size limit: the message is still read). */
    GString *d = g_string_new("Thu, 19 Nov 2026 09:12:44 +0900 (");
    while (d->len < BW_MAX_DATE_BYTES - 1)
        g_string_append_c(d, 'x');
    g_string_append_c(d, ')');
    ck_assert_uint_eq(d->len, BW_MAX_DATE_BYTES);
    GDateTime *dt = bw_caps_decode_date(d->str);
    ck_assert_ptr_nonnull(dt);
    g_date_time_unref(dt);
    g_autofree char *hdr = g_strdup_printf("To: owner@example.com\nDate: %s\n", d->str);
    g_autofree char *m = dsn_with(hdr, "text/plain", "To: caps@example.net\n");
    g_autoptr(bw_report_t) r = assert_read(m);
    ck_assert_str_eq(r->date, "2026-11-19T09:12:44+09:00");

    g_string_insert_c(d, d->len - 1, 'x');
    ck_assert_ptr_null(bw_caps_decode_date(d->str));
    gint64 t = 0;
    ck_assert(!bw_time_parse(d->str, &t, NULL));
    /* 30 KB of date, in the report and in its original */
    GString *big = g_string_new("Thu, 19 Nov 2026 09:12:44 +0900");
    while (big->len < 30000)
        g_string_append(big, " 12:00:00");
    g_autofree char *hdr2 = g_strdup_printf("To: owner@example.com\nDate: %s\n", big->str);
    g_autofree char *orig2 = g_strdup_printf("To: caps@example.net\nDate: %s\n", big->str);
    g_autofree char *m2 = dsn_with(hdr2, "text/plain", orig2);
    g_autoptr(bw_report_t) r2 = assert_read(m2);
    ck_assert_ptr_null(r2->date);
    ck_assert_ptr_nonnull(r2->original);
    ck_assert_ptr_null(r2->original->date);
    ck_assert_str_eq(r2->original->message_id, "caps-original@example.com");
    g_string_free(d, TRUE);
    g_string_free(big, TRUE);
}
END_TEST

/* ------------------------------------------------------------ header blocks (GMime) */

START_TEST(test_header_block_check)
{
    static const struct {
        const char *block;
        const char *cap;        /* NULL: within the caps */
    } cases[] = {
        { "From: a@example.com\nTo: b@example.com, c@example.com\nSubject: hi\n\n", NULL },
        { "To: g:g:g:g:g:g:g:g:g:a@b\n", "BW_MAX_ADDRESS_GROUP_DEPTH" },
        { "Cc: a@b\n (((((((((((((((((x)))))))))))))))))\n", "BW_MAX_ADDRESS_COMMENT_DEPTH" },
        { "Subject: g:g:g:g:g:g:g:g:g:g:g\n", NULL },                /* not an address field */
        { "DKIM-Signature: h=From:To:Subject:Date:Message-ID:MIME-Version:Content-Type;\n", NULL },
        { "Content-Type: text/plain; a*64=x\n", "BW_MAX_RFC2231_SECTIONS" },
        { "Content-Disposition: attachment; filename*0=a; filename*1=b\n", NULL },
        { "Date: Thu, 19 Nov 2026 09:12:44 +0900\n", NULL },
        { "To: a@b\n\nTo: g:g:g:g:g:g:g:g:g:a@b\n", NULL },          /* after the blank line: body */
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *detail = NULL;
        bw_status_t st = bw_header_block_check(cases[i].block, strlen(cases[i].block), &detail);
        if (cases[i].cap == NULL) {
            ck_assert_msg(st == BW_OK, "%s: %s", cases[i].block, detail);
        } else {
            ck_assert_msg(st == BW_E_REFUSED, "%s: not refused", cases[i].block);
            ck_assert_msg(strstr(detail, cases[i].cap) != NULL, "%s: %s", cases[i].block, detail);
        }
    }
    /* a date longer than the cap, and encoded words past the block's total */
    GString *b = g_string_new("Date: Thu, 19 Nov 2026 09:12:44 +0900");
    while (b->len < 400)
        g_string_append_c(b, ' ');
    g_string_append_c(b, '\n');
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_header_block_check(b->str, b->len, &detail), BW_E_REFUSED);
    ck_assert_ptr_nonnull(strstr(detail, "BW_MAX_DATE_BYTES"));
    g_string_truncate(b, 0);
    for (unsigned f = 0; f < 3; f++) {
        g_string_append(b, "X-Words:");
        for (unsigned i = 0; i < BW_MAX_ENCODED_WORDS; i++)
            g_string_append(b, " =?UTF-8?B?5bGx?=");
        g_string_append_c(b, '\n');
    }
    g_autofree char *detail2 = NULL;
    ck_assert_int_eq(bw_header_block_check(b->str, b->len, &detail2), BW_E_REFUSED);
    ck_assert_ptr_nonnull(strstr(detail2, "BW_MAX_ENCODED_WORDS_TOTAL"));
    g_string_free(b, TRUE);
}
END_TEST

START_TEST(test_header_fields_extract)
{
    static const char *const names[] = { "To", "Received", NULL };
    const char *block = "Received: from a\n\tby b; Thu, 19 Nov 2026\nSubject: x\nto: c@example.net,\n d@example.net\n"
                        "X-To: no\n\nTo: body@example.net\n";
    g_autofree char *out = NULL;
    size_t len = 0;
    ck_assert_int_eq(bw_header_fields_extract(block, strlen(block), names, 4096, &out, &len, NULL), BW_OK);
    ck_assert_str_eq(out, "Received: from a\n\tby b; Thu, 19 Nov 2026\nto: c@example.net,\n d@example.net\n\n");
    ck_assert_uint_eq(len, strlen(out));
    /* max: the field that would pass it is left out, whole */
    g_autofree char *cut = NULL;
    ck_assert_int_eq(bw_header_fields_extract(block, strlen(block), names, 50, &cut, &len, NULL), BW_OK);
    ck_assert_str_eq(cut, "Received: from a\n\tby b; Thu, 19 Nov 2026\n\n");
    /* a bomb in a kept field is refused */
    const char *bomb = "To: g:g:g:g:g:g:g:g:g:g:g:g:a@b\n";
    g_autofree char *none = NULL;
    g_autofree char *detail = NULL;
    ck_assert_int_eq(bw_header_fields_extract(bomb, strlen(bomb), names, 4096, &none, &len, &detail),
                     BW_E_REFUSED);
    ck_assert_ptr_null(none);
    ck_assert_ptr_nonnull(strstr(detail, "BW_MAX_ADDRESS_GROUP_DEPTH"));
}
END_TEST

/* bw_message_normalize cuts a message before the line that holds the
 * boundary declaration past BW_PARSE_MAX_BOUNDARIES, every declaration
 * counted, at the same place for LF, CRLF and NUL-holding text. */
START_TEST(test_normalize_boundary_cap)
{
    GString *lf = g_string_new("Subject: x\n");
    /* the cap's worth of declarations, two of them on the first line */
    for (unsigned i = 1; i < BW_PARSE_MAX_BOUNDARIES; i++)
        g_string_append_printf(lf, i == 1 ? "a boundary=\"x%u\" boundary=\"y\"\n" : "boundary=\"x%u\"\n", i);
    size_t keep = lf->len;
    g_string_append(lf, "boundary=\"over\"\nrest\n");
    GString *c = g_string_new(NULL);
    for (size_t i = 0; i < lf->len; i++) {
        if (lf->str[i] == '\n')
            g_string_append_c(c, '\r');
        g_string_append_c(c, lf->str[i]);
    }
    g_autofree char *with_nul = g_memdup2(lf->str, lf->len);
    with_nul[1] = '\0';   /* the other path; the NUL becomes a space */
    size_t n1 = 0, n2 = 0, n3 = 0;
    g_autofree char *a = bw_message_normalize(lf->str, lf->len, &n1);
    g_autofree char *b = bw_message_normalize(c->str, c->len, &n2);
    g_autofree char *d = bw_message_normalize(with_nul, lf->len, &n3);
    ck_assert_uint_eq(n1, keep);
    ck_assert_uint_eq(n2, keep);
    ck_assert_uint_eq(n3, keep);
    ck_assert_int_eq(memcmp(a, lf->str, keep), 0);
    ck_assert_int_eq(memcmp(b, lf->str, keep), 0);
    /* at the cap exactly, nothing is cut */
    g_autofree char *e = bw_message_normalize(lf->str, keep, &n1);
    ck_assert_uint_eq(n1, keep);
    g_string_free(c, TRUE);
    g_string_free(lf, TRUE);
}
END_TEST

Suite *
suite_caps(void)
{
    Suite *s = suite_create("caps");
    TCase *tc = tcase_create("json");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_json_check);
    tcase_add_test(tc, test_json_depth_limit);
    tcase_add_test(tc, test_json_values_limit);
    tcase_add_test(tc, test_json_deep_bomb);
    tcase_add_test(tc, test_json_wide_bomb);
    tcase_add_test(tc, test_json_near_limits);
    tcase_add_test(tc, test_json_not_strict);
    suite_add_tcase(s, tc);
    tc = tcase_create("addresses");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_address_check);
    tcase_add_test(tc, test_address_group_bombs);
    tcase_add_test(tc, test_address_comment_and_list_bombs);
    tcase_add_test(tc, test_address_near_limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("mime-parameters");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_params_check);
    tcase_add_test(tc, test_params_bombs);
    tcase_add_test(tc, test_params_near_limits);
    suite_add_tcase(s, tc);
    tc = tcase_create("encoded-words-and-dates");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_encoded_words_bombs);
    tcase_add_test(tc, test_encoded_words_near_limits);
    tcase_add_test(tc, test_dates);
    suite_add_tcase(s, tc);
    tc = tcase_create("header-blocks");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_header_block_check);
    tcase_add_test(tc, test_header_fields_extract);
    tcase_add_test(tc, test_normalize_boundary_cap);
    suite_add_tcase(s, tc);
    return s;
}
