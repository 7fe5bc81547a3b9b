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

/* Seconds one parse may take (the sanitizer build is several times
 * slower): every bomb here is refused by a linear check. */
static double
time_limit(void)
{
    return g_strcmp0(g_getenv("BW_SANITIZED"), "1") == 0 ? 40.0 : 5.0;
}

/* Parses `data`; checks the time bound and the contract of the statuses. */
static bw_report_t *
parse_timed(const char *data, size_t len, bw_status_t *st, char **detail)
{
    bw_report_t *r = NULL;
    gint64 t0 = g_get_monotonic_time();
    *st = bw_parse_bytes(data, len, &r, detail);
    double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
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
    return s;
}
