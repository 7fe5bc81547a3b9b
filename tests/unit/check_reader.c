/* check_reader.c: the confined reader process and its protocol.
 *
 * The report encoding both ends share (reader-wire.c): a round trip keeps
 * every field, hostile bytes never decode into a report.  Then the parent
 * side (src/adapters/reader.c) against the reader built with its crash
 * switch (tests/bouncewatch-reader-test, -DBW_TEST_HOOKS: a Subject
 * holding "[bw-test:WHAT]" makes it crash, hang, spin, answer garbage...):
 * one reader per batch, a reader that dies mid-batch, one that hangs, one
 * that answers garbage, the batch going on after each culprit (inside an
 * mbox too), bounded restarts of a reader that never starts, and the
 * limits the reader really runs under.  The READ requests (the signals'
 * and the profile's reads): the JSON they answer, checked before anything
 * parses it, and their culprits blamed like a bounce parse's. */
#include "suites.h"
#include "bw-reader.h"
#include "bw-signals.h"
#include "reader.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static bool
sanitized(void)
{
    return g_strcmp0(g_getenv("BW_SANITIZED"), "1") == 0;
}

/* ------------------------------------------------------------ the encoding */

static bw_report_t *
full_report(void)
{
    bw_report_t *r = bw_report_new();
    r->bounce = true;
    r->kind = BW_KIND_DSN;
    r->family = "rfc3464";
    r->feedback_type = g_strdup("abuse");
    r->message_id = g_strdup("report@mx.example.org");
    r->from = g_strdup("mailer-daemon@mx.example.org");
    r->subject = g_strdup("Undelivered Mail Returned to Sender \xe3\x81\x82");
    r->date = g_strdup("2026-11-20T14:00:00+00:00");
    r->date_unix = 1795269600;
    r->in_reply_to = g_strdup("orig@example.com");
    g_ptr_array_add(r->references, g_strdup("a@example.com"));
    g_ptr_array_add(r->references, g_strdup("b@example.com"));
    g_ptr_array_add(r->to, g_strdup("owner@example.com"));
    r->auto_submitted = g_strdup("auto-replied");
    for (int i = 0; i < 3; i++) {
        bw_recipient_t *rc = bw_recipient_new();
        rc->address = g_strdup_printf("r%d@example.net", i);
        rc->original_address = i == 1 ? g_strdup("R1@Example.net") : NULL;
        rc->action = g_strdup("failed");
        rc->status = g_strdup("5.1.1");
        rc->reply_code = g_strdup("550");
        rc->remote_mta = g_strdup("mx.example.net");
        rc->diagnostic = g_strdup("550 5.1.1 user unknown");
        rc->reason = BW_REASON_USER_UNKNOWN;
        g_ptr_array_add(r->recipients, rc);
    }
    bw_original_t *o = bw_original_new();
    o->message_id = g_strdup("orig@example.com");
    o->from = g_strdup("owner@example.com");
    g_ptr_array_add(o->to, g_strdup("r0@example.net"));
    o->subject = g_strdup("hello");
    o->date = g_strdup("2026-11-20T13:00:00+00:00");
    o->date_unix = 1795266000;
    o->return_path = g_strdup("owner@example.com");
    g_ptr_array_add(o->received, g_strdup("from a by b"));
    o->dkim_domain = g_strdup("example.com");
    o->x_mailer = g_strdup("Mutt");
    o->in_reply_to = g_strdup("earlier@example.com");
    o->body_text = g_strdup("the body the fingerprints read");
    g_ptr_array_add(o->url_domains, g_strdup("shop.example"));
    o->headers_only = false;
    r->original = o;
    return r;
}

START_TEST(test_wire_roundtrip)
{
    g_autoptr(bw_report_t) r = full_report();
    g_autoptr(GString) g = g_string_new(NULL);
    bw_report_encode(g, r);
    bw_report_t *back = NULL;
    g_autofree char *why = NULL;
    ck_assert_int_eq(bw_report_decode(g->str, g->len, &back, &why), BW_OK);
    /* Everything the SPEC line shows... */
    g_autofree char *a = bw_report_to_json_string(r, "f", -1, NULL);
    g_autofree char *b = bw_report_to_json_string(back, "f", -1, NULL);
    ck_assert_str_eq(a, b);
    /* ... and what it does not: the body, the dates, the family's identity. */
    ck_assert_str_eq(back->original->body_text, "the body the fingerprints read");
    ck_assert_int_eq(back->date_unix, r->date_unix);
    ck_assert_int_eq(back->original->date_unix, r->original->date_unix);
    ck_assert_ptr_eq(back->family, g_intern_string("rfc3464"));
    ck_assert_str_eq(back->auto_submitted, "auto-replied");
    bw_report_free(back);

    /* A report without an original, all strings NULL. */
    g_autoptr(bw_report_t) empty = bw_report_new();
    g_string_truncate(g, 0);
    bw_report_encode(g, empty);
    ck_assert_int_eq(bw_report_decode(g->str, g->len, &back, NULL), BW_OK);
    ck_assert_ptr_null(back->original);
    ck_assert_ptr_null(back->subject);
    ck_assert_int_eq(back->recipients->len, 0);
    bw_report_free(back);
}
END_TEST

START_TEST(test_wire_hostile)
{
    g_autoptr(bw_report_t) r = full_report();
    g_autoptr(GString) g = g_string_new(NULL);
    bw_report_encode(g, r);
    bw_report_t *back = NULL;
    /* Every truncation is refused, never read past. */
    for (gsize n = 0; n < g->len; n++) {
        g_autofree char *cut = g_memdup2(g->str, n);   /* exact length: ASan sees overreads */
        g_autofree char *why = NULL;
        ck_assert_int_eq(bw_report_decode(cut, n, &back, &why), BW_E_INVALID);
        ck_assert_ptr_null(back);
        ck_assert_ptr_nonnull(why);
    }
    /* Trailing bytes too. */
    g_string_append_c(g, 'x');
    ck_assert_int_eq(bw_report_decode(g->str, g->len, &back, NULL), BW_E_INVALID);
    /* Lengths and counts that lie. */
    static const guint8 lies[][16] = {
        { 1, 1, 0xff, 0xff, 0xff, 0x7f },                     /* family longer than the data */
        { 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lies); i++)
        ck_assert_int_eq(bw_report_decode(lies[i], sizeof lies[i], &back, NULL), BW_E_INVALID);
    /* Random bytes: refused or a report, never a crash; text always UTF-8. */
    GRand *rand = g_rand_new_with_seed(20261206);
    for (int round = 0; round < 2000; round++) {
        guint8 buf[256];
        gsize n = (gsize)g_rand_int_range(rand, 0, sizeof buf);
        for (gsize k = 0; k < n; k++)
            buf[k] = (guint8)g_rand_int_range(rand, 0, 256);
        if (bw_report_decode(buf, n, &back, NULL) == BW_OK) {
            g_autofree char *line = bw_report_to_json_string(back, "f", -1, NULL);
            ck_assert(g_utf8_validate(line, -1, NULL));
            bw_report_free(back);
        }
    }
    g_rand_free(rand);
    /* Text that is not UTF-8 comes out repaired. */
    g_autoptr(bw_report_t) bad = bw_report_new();
    bad->subject = g_strdup("caf\xe9 \xff");
    g_string_truncate(g, 0);
    bw_report_encode(g, bad);
    ck_assert_int_eq(bw_report_decode(g->str, g->len, &back, NULL), BW_OK);
    ck_assert(g_utf8_validate(back->subject, -1, NULL));
    bw_report_free(back);
}
END_TEST

/* ------------------------------------------------------------ READ answers */

static const char sent_text[] =
    "Received: from [192.168.1.20] (dsl.isp.example [77.1.2.3])\n"
    "\tby smtp.example.com with ESMTPSA id 4A1B; Thu, 19 Nov 2026 10:00:00 +0100\n"
    "DKIM-Signature: v=1; a=rsa-sha256; d=Example.com; s=k1; h=from:to; bh=a; b=b\n"
    "From: Owner <owner@example.com>\nTo: Anna <anna@example.net>, friends: b@example.net,\n"
    " c@example.net;\nCc: d@example.net\nSubject: hello\n"
    "Date: Thu, 19 Nov 2026 10:00:00 +0100\nMessage-ID: <s1@example.com>\n"
    "User-Agent: Thunderbird/128.5.0\n\nbody\n";

START_TEST(test_payload_checks)
{
    JsonNode *n = NULL;
    g_autofree char *why = NULL;
    /* What the reader answers for each kind passes, and decodes. */
    static const guint32 kinds[] = { BW_READER_FACTS, BW_READER_SENT_SUMMARY,
                                     BW_READER_SENT_HEADERS };
    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
        g_autofree char *json = NULL;
        ck_assert_uint_gt(bw_reader_read_max(kinds[k]), 0);
        ck_assert_int_eq(bw_reader_read_json(kinds[k], sent_text, sizeof sent_text - 1, &json,
                                             NULL), BW_OK);
        ck_assert_ptr_nonnull(json);
        ck_assert_int_eq(bw_reader_payload_parse(json, strlen(json), &n, NULL), BW_OK);
        ck_assert(JSON_NODE_HOLDS_OBJECT(n));
        json_node_unref(n);
    }
    ck_assert_uint_eq(bw_reader_read_max(BW_READER_BOUNCES_ONLY), 0);
    g_autofree char *none = NULL;
    ck_assert_int_ne(bw_reader_read_json(BW_READER_FACTS, "", 0, &none, NULL), BW_OK);
    ck_assert_ptr_null(none);
    /* What the parent refuses before json-glib sees it. */
    static const struct { const char *text; size_t len; } bad[] = {
        { "", 0 },
        { "{", 1 },
        { "{\"a\":1} x", 9 },
        { "{'a':1}", 7 },                       /* json-glib reads it: not strict JSON */
        { "/* c */ {}", 10 },
        { "{\"a\":\"\xff\xfe\"}", 10 },         /* not UTF-8 */
        { "{\"a\":\"x\0y\"}", 11 },             /* a NUL */
        { "[1,2", 4 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_clear_pointer(&why, g_free);
        ck_assert_msg(bw_reader_payload_parse(bad[i].text, bad[i].len, &n, &why) == BW_E_INVALID,
                      "bad payload %zu taken", i);
        ck_assert_ptr_null(n);
        ck_assert_ptr_nonnull(why);
    }
    /* Nesting past BW_MAX_JSON_DEPTH: refused, naming the cap; just within
     * it: taken. */
    for (int depth = BW_MAX_JSON_DEPTH; depth <= BW_MAX_JSON_DEPTH + 1; depth++) {
        g_autoptr(GString) g = g_string_new(NULL);
        for (int i = 0; i < depth; i++)
            g_string_append_c(g, '[');
        for (int i = 0; i < depth; i++)
            g_string_append_c(g, ']');
        g_clear_pointer(&why, g_free);
        bw_status_t st = bw_reader_payload_parse(g->str, g->len, &n, &why);
        if (depth > BW_MAX_JSON_DEPTH) {
            ck_assert_int_eq(st, BW_E_INVALID);
            ck_assert_ptr_nonnull(strstr(why, "BW_MAX_JSON_DEPTH"));
        } else {
            ck_assert_int_eq(st, BW_OK);
            json_node_unref(n);
        }
    }
}
END_TEST

START_TEST(test_sent_mail_json)
{
    /* The profile's read of a sent message: the fields, a JSON round trip
     * that gives the same JSON, and a decoder that takes no wrong shape. */
    g_autoptr(bw_sent_mail_t) s = NULL;
    ck_assert_int_eq(bw_sent_mail_read(sent_text, sizeof sent_text - 1, &s, NULL), BW_OK);
    ck_assert_str_eq(s->from, "owner@example.com");
    ck_assert_str_eq(s->dkim_domain, "example.com");
    ck_assert_str_eq(s->x_mailer, "Thunderbird/128.5.0");
    ck_assert_uint_eq(s->received->len, 1);
    ck_assert_uint_eq(s->to->len, 4);   /* the group's members too, and Cc */
    ck_assert_str_eq(g_ptr_array_index(s->to, 3), "d@example.net");
    ck_assert_ptr_null(s->message_id);  /* the mailbox's, not the mail's */
    JsonNode *n = bw_sent_mail_to_json(s);
    g_autofree char *text = json_to_string(n, FALSE);
    bw_sent_mail_t *back = NULL;
    ck_assert_int_eq(bw_sent_mail_from_json(n, &back, NULL), BW_OK);
    json_node_unref(n);
    JsonNode *n2 = bw_sent_mail_to_json(back);
    g_autofree char *text2 = json_to_string(n2, FALSE);
    json_node_unref(n2);
    bw_sent_mail_free(back);
    ck_assert_str_eq(text, text2);
    ck_assert_int_eq(bw_sent_mail_read("", 0, &back, NULL), BW_E_NOT_MAIL);
    /* Shapes a reader taken over could send. */
    static const char *const wrong[] = {
        "[]", "\"x\"", "{\"from\":1}", "{\"received\":\"x\"}", "{\"to\":[1]}",
        "{\"to\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\","
        "\"o\",\"p\",\"q\",\"r\",\"s\",\"t\",\"u\",\"v\",\"w\",\"x\",\"y\",\"z\",\"0\",\"1\",\"2\",\"3\","
        "\"4\",\"5\",\"6\"]}",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(wrong); i++) {
        JsonNode *w = NULL;
        ck_assert_int_eq(bw_reader_payload_parse(wrong[i], strlen(wrong[i]), &w, NULL), BW_OK);
        ck_assert_msg(bw_sent_mail_from_json(w, &back, NULL) == BW_E_INVALID, "shape %zu taken", i);
        ck_assert_ptr_null(back);
        json_node_unref(w);
    }
    /* Header text that is not UTF-8 comes out repaired (JSON is UTF-8). */
    g_autoptr(bw_sent_mail_t) latin = NULL;
    static const char latin_text[] = "From: owner@example.com\nX-Mailer: Caf\xe9 \xff\n\nx\n";
    ck_assert_int_eq(bw_sent_mail_read(latin_text, sizeof latin_text - 1, &latin, NULL), BW_OK);
    ck_assert(latin->x_mailer == NULL || g_utf8_validate(latin->x_mailer, -1, NULL));
}
END_TEST

/* ------------------------------------------------------------ the process */

static char *tmp;

static void
setup(void)
{
    tmp = g_dir_make_tmp("bw-reader-XXXXXX", NULL);
    ck_assert_ptr_nonnull(tmp);
    /* The reader with the crash switch, built for `make check`. */
    const char *env = g_getenv("BW_READER_TEST");
    g_autofree char *program = NULL;
    if (env != NULL && *env != '\0') {
        program = g_strdup(env);
    } else {
        g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
        g_autofree char *unit = g_path_get_dirname(self);
        g_autofree char *tests = g_path_get_dirname(unit);
        program = g_build_filename(tests, "bouncewatch-reader-test", NULL);
    }
    ck_assert_msg(g_file_test(program, G_FILE_TEST_IS_EXECUTABLE), "no test reader at %s", program);
    g_setenv("BOUNCEWATCH_READER", program, TRUE);
    /* 1 s of CPU, 3 s of wall clock per message (10 times that under ASan,
     * where a normal message takes tens of milliseconds). */
    g_setenv("BOUNCEWATCH_READER_TIMEOUT_MS", sanitized() ? "4000" : "1000", TRUE);
    g_unsetenv("BW_TEST_READER_FAIL");
}

static void
teardown(void)
{
    g_autoptr(GDir) d = g_dir_open(tmp, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
        g_autofree char *p = g_build_filename(tmp, name, NULL);
        g_unlink(p);
    }
    g_rmdir(tmp);
    g_clear_pointer(&tmp, g_free);
    g_unsetenv("BOUNCEWATCH_READER");
    g_unsetenv("BOUNCEWATCH_READER_TIMEOUT_MS");
    g_unsetenv("BW_TEST_READER_FAIL");
}

/* A DSN to `rcpt`, its Subject carrying `marker` (e.g. "[bw-test:crash]"). */
static char *
dsn_text(const char *rcpt, const char *marker)
{
    return g_strdup_printf(
        "From: MAILER-DAEMON@mx.example.org\n"
        "To: owner@example.com\n"
        "Subject: Undelivered Mail Returned to Sender %s\n"
        "Message-ID: <%s-report@mx.example.org>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
        "--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        "--B\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n"
        "From: owner@example.com\nSubject: hello\nMessage-ID: <orig-%s>\n\n"
        "--B--\n", marker ? marker : "", rcpt, rcpt, rcpt);
}

static char *
mail(const char *name, const char *rcpt, const char *marker)
{
    g_autofree char *text = dsn_text(rcpt, marker);
    char *path = g_build_filename(tmp, name, NULL);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* An mbox of the DSNs to rcpts[i] with markers[i]. */
static char *
mbox(const char *name, const char *const *rcpts, const char *const *markers, int n)
{
    g_autoptr(GString) g = g_string_new(NULL);
    for (int i = 0; i < n; i++) {
        g_autofree char *text = dsn_text(rcpts[i], markers[i]);
        g_string_append_printf(g, "From MAILER-DAEMON Thu Nov 19 00:00:0%d 2026\n%s\n", i, text);
    }
    char *path = g_build_filename(tmp, name, NULL);
    ck_assert(g_file_set_contents(path, g->str, (gssize)g->len, NULL));
    return path;
}

typedef struct {
    int index;
    bw_reader_fault_t fault;
    int signal;
    bw_status_t status;
    char *recipient;       /* first recipient of the report, or NULL */
    char *detail;
} got_t;

static void
got_free(got_t *g)
{
    g_free(g->recipient);
    g_free(g->detail);
    g_free(g);
}

/* Every answer of a batch, per request (a GPtrArray of got_t* each);
 * checks that each request ends once, in order. */
static GPtrArray *
run(bw_reader_t *reader, guint n_requests)
{
    GPtrArray *per = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    for (guint i = 0; i < n_requests; i++)
        g_ptr_array_add(per, g_ptr_array_new_with_free_func((GDestroyNotify)got_free));
    guint ended = 0;
    bw_reader_result_t res;
    while (bw_reader_next(reader, &res)) {
        ck_assert_uint_lt(res.request, n_requests);
        if (res.end) {
            ck_assert_uint_eq(res.request, ended);
            ended++;
            continue;
        }
        ck_assert_uint_eq(res.request, ended);
        got_t *g = g_new0(got_t, 1);
        g->index = res.index;
        g->fault = res.fault;
        g->signal = res.signal;
        g->status = res.status;
        g->detail = g_strdup(res.detail);
        if (res.report != NULL && res.report->recipients->len > 0)
            g->recipient = g_strdup(((bw_recipient_t *)g_ptr_array_index(res.report->recipients,
                                                                         0))->address);
        if (res.line != NULL) {
            /* A line ends with the object; never a line end inside. */
            ck_assert_ptr_null(memchr(res.line, '\n', res.line_len));
            ck_assert_int_eq(res.line[res.line_len - 1], '}');
        }
        bw_report_free(res.report);
        g_ptr_array_add(g_ptr_array_index(per, res.request), g);
    }
    ck_assert_uint_eq(ended, n_requests);
    return per;
}

static const got_t *
only(GPtrArray *per, guint request)
{
    GPtrArray *a = g_ptr_array_index(per, request);
    ck_assert_msg(a->len == 1, "request %u: %u answers", request, a->len);
    return g_ptr_array_index(a, 0);
}

static void
assert_read(GPtrArray *per, guint request, const char *rcpt)
{
    const got_t *g = only(per, request);
    ck_assert_msg(g->fault == BW_READER_FAULT_NONE && g->status == BW_OK,
                  "request %u: fault %d status %d (%s)", request, g->fault, g->status,
                  g->detail ? g->detail : "");
    ck_assert_str_eq(g->recipient, rcpt);
}

static void
assert_fault(GPtrArray *per, guint request, bw_reader_fault_t fault)
{
    const got_t *g = only(per, request);
    ck_assert_msg(g->fault == fault, "request %u: fault %d, expected %d (%s)", request, g->fault,
                  fault, g->detail ? g->detail : "");
    ck_assert_ptr_nonnull(g->detail);
    ck_assert_ptr_null(strchr(g->detail, '\n'));
}

static void
collect_log(void *data, const char *line)
{
    g_ptr_array_add(data, g_strdup(line));
}

START_TEST(test_one_reader_per_batch)
{
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    enum { N = 50 };
    for (int i = 0; i < N; i++) {
        g_autofree char *name = g_strdup_printf("m%02d.eml", i);
        g_autofree char *rcpt = g_strdup_printf("r%d@example.net", i);
        g_autofree char *p = mail(name, rcpt, NULL);
        bw_reader_add_file(reader, p, 0, false);
    }
    g_autoptr(GPtrArray) per = run(reader, N);
    for (int i = 0; i < N; i++) {
        g_autofree char *rcpt = g_strdup_printf("r%d@example.net", i);
        assert_read(per, (guint)i, rcpt);
    }
    ck_assert_uint_eq(bw_reader_starts(reader), 1);
}
END_TEST

START_TEST(test_crash_mid_batch)
{
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    g_autofree char *a = mail("a.eml", "a@example.net", NULL);
    g_autofree char *c = mail("c.eml", "c@example.net", "[bw-test:crash]");
    g_autofree char *b = mail("b.eml", "b@example.net", NULL);
    g_autofree char *x = mail("x.eml", "x@example.net", "[bw-test:exit]");
    g_autofree char *d = mail("d.eml", "d@example.net", NULL);
    const char *files[] = { a, c, b, x, d };
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
        bw_reader_add_file(reader, files[i], 0, false);
    g_autoptr(GPtrArray) per = run(reader, G_N_ELEMENTS(files));
    assert_read(per, 0, "a@example.net");
    assert_fault(per, 1, BW_READER_FAULT_CRASH);
    /* (AddressSanitizer catches the SIGSEGV and aborts.) */
    ck_assert(only(per, 1)->signal == SIGSEGV || (sanitized() && only(per, 1)->signal == SIGABRT));
    assert_read(per, 2, "b@example.net");
    /* A reader that exits cleanly in the middle of a message is just as
     * stopped: no signal, the message is the culprit. */
    assert_fault(per, 3, BW_READER_FAULT_CRASH);
    ck_assert_int_eq(only(per, 3)->signal, 0);
    assert_read(per, 4, "d@example.net");
    /* Restarted after each culprit, not once per message. */
    ck_assert_uint_le(bw_reader_starts(reader), 5);
}
END_TEST

START_TEST(test_hang_and_spin)
{
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    g_autofree char *a = mail("a.eml", "a@example.net", NULL);
    g_autofree char *h = mail("h.eml", "h@example.net", "[bw-test:hang]");
    g_autofree char *s = mail("s.eml", "s@example.net", "[bw-test:spin]");
    g_autofree char *b = mail("b.eml", "b@example.net", NULL);
    const char *files[] = { a, h, s, b };
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
        bw_reader_add_file(reader, files[i], 0, false);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GPtrArray) per = run(reader, G_N_ELEMENTS(files));
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    assert_read(per, 0, "a@example.net");
    /* Blocked without CPU: the parent's wall clock ends it. */
    assert_fault(per, 1, BW_READER_FAULT_TIMEOUT);
    /* Burning CPU: RLIMIT_CPU (SIGXCPU) or the wall clock, whichever
     * comes first on a busy machine. */
    const got_t *g = only(per, 2);
    ck_assert_msg(g->fault == BW_READER_FAULT_TIMEOUT ||
                  (g->fault == BW_READER_FAULT_CRASH && g->signal == SIGXCPU),
                  "spin: fault %d signal %d (%s)", g->fault, g->signal, g->detail);
    assert_read(per, 3, "b@example.net");
    /* Each costs the limit at most twice (once in a batch, once alone). */
    double limit = sanitized() ? 12.0 : 3.0;
    ck_assert_msg(secs < 5 * limit + 5, "took %.1f s", secs);
}
END_TEST

START_TEST(test_garbage)
{
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    g_autofree char *a = mail("a.eml", "a@example.net", "[bw-test:garbage]");
    g_autofree char *b = mail("b.eml", "b@example.net", "[bw-test:huge]");
    g_autofree char *c = mail("c.eml", "c@example.net", "[bw-test:badreport]");
    g_autofree char *d = mail("d.eml", "d@example.net", NULL);
    const char *files[] = { a, b, c, d };
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
        bw_reader_add_file(reader, files[i], 0, false);
    g_autoptr(GPtrArray) per = run(reader, G_N_ELEMENTS(files));
    assert_fault(per, 0, BW_READER_FAULT_GARBAGE);   /* a frame of no known type */
    assert_fault(per, 1, BW_READER_FAULT_GARBAGE);   /* a frame claiming 2 GiB */
    assert_fault(per, 2, BW_READER_FAULT_GARBAGE);   /* a report that does not decode */
    assert_read(per, 3, "d@example.net");
}
END_TEST

START_TEST(test_lines_mode)
{
    /* parse --json: the reader writes the lines; each is checked to be
     * about the file asked for, and a culprit has none. */
    bw_reader_options_t o = { .mode = BW_READER_LINES };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    g_autofree char *a = mail("a.eml", "a@example.net", NULL);
    g_autofree char *c = mail("c.eml", "c@example.net", "[bw-test:abort]");
    g_autofree char *missing = g_build_filename(tmp, "missing.eml", NULL);
    bw_reader_add_file(reader, a, 0, false);
    bw_reader_add_file(reader, c, 0, false);
    bw_reader_add_file(reader, missing, 0, false);
    g_autofree char *text = dsn_text("stdin@example.net", NULL);
    g_autoptr(GBytes) stdin_data = g_bytes_new(text, strlen(text));
    bw_reader_add_data(reader, stdin_data);
    bw_reader_result_t res;
    int seen = 0;
    while (bw_reader_next(reader, &res)) {
        if (res.end)
            continue;
        g_autofree char *line = res.line ? g_strndup(res.line, res.line_len) : NULL;
        switch (res.request) {
        case 0:
            ck_assert_int_eq(res.fault, BW_READER_FAULT_NONE);
            ck_assert_ptr_nonnull(strstr(line, "\"a@example.net\""));
            ck_assert_ptr_nonnull(strstr(line, "\"error\":null"));
            break;
        case 1:
            ck_assert_int_eq(res.fault, BW_READER_FAULT_CRASH);
            ck_assert_int_eq(res.signal, SIGABRT);
            ck_assert_ptr_null(line);
            break;
        case 2:
            ck_assert_int_eq(res.status, BW_E_IO);
            ck_assert_ptr_nonnull(strstr(line, "\"error\":\""));
            break;
        case 3:
            ck_assert_ptr_nonnull(strstr(line, "{\"format_version\":"));
            ck_assert_ptr_nonnull(strstr(line, "\"file\":\"-\""));
            ck_assert_ptr_nonnull(strstr(line, "\"stdin@example.net\""));
            break;
        default:
            ck_abort_msg("request %u", res.request);
        }
        seen++;
    }
    ck_assert_int_eq(seen, 4);
}
END_TEST

/* A received message from a person, `marker` in its Subject. */
static char *
person_mail(const char *name, const char *marker)
{
    g_autofree char *text = g_strdup_printf(
        "From: Anna <anna@example.net>\nTo: owner@example.com\nSubject: trip %s\n"
        "Date: Thu, 19 Nov 2026 10:00:00 +0100\nMessage-ID: <%s@example.net>\n\n"
        "Did you send me this?\n", marker ? marker : "", name);
    char *path = g_build_filename(tmp, name, NULL);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    return path;
}

START_TEST(test_read_requests)
{
    /* The signals' and the profile's reads beside bounce parses, in either
     * mode, through one reader: each READ answer is the JSON of the kind;
     * the reader crashing in one, hanging in one, answering JSON past the
     * cap or text that is not UTF-8 in others blames exactly that message,
     * and the batch goes on. */
    for (int lines = 0; lines <= 1; lines++) {
        bw_reader_options_t o = { .mode = lines ? BW_READER_LINES : BW_READER_REPORTS };
        g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
        g_autofree char *ok = person_mail("ok.eml", NULL);
        g_autofree char *crash = person_mail("crash.eml", "[bw-test:crash@facts]");
        g_autofree char *other = person_mail("other.eml", "[bw-test:crash@summary]");
        g_autofree char *deep = person_mail("deep.eml", "[bw-test:badjson@headers]");
        g_autofree char *latin = person_mail("latin.eml", "[bw-test:badutf8@summary]");
        g_autofree char *hang = person_mail("hang.eml", "[bw-test:hang@headers]");
        g_autofree char *bounce = mail("bounce.eml", "b@example.net", "[bw-test:crash@facts]");
        g_autofree char *missing = g_build_filename(tmp, "missing.eml", NULL);
        guint n = 0;
        bw_reader_add_read(reader, ok, BW_READER_READ_FACTS), n++;            /* 0 */
        bw_reader_add_read(reader, crash, BW_READER_READ_FACTS), n++;         /* 1 crash */
        bw_reader_add_read(reader, other, BW_READER_READ_FACTS), n++;         /* 2 not its kind */
        bw_reader_add_read(reader, ok, BW_READER_READ_SENT_SUMMARY), n++;     /* 3 */
        bw_reader_add_read(reader, deep, BW_READER_READ_SENT_HEADERS), n++;   /* 4 garbage */
        bw_reader_add_file(reader, bounce, 1, true), n++;                     /* 5 a report */
        bw_reader_add_read(reader, latin, BW_READER_READ_SENT_SUMMARY), n++;  /* 6 garbage */
        bw_reader_add_read(reader, missing, BW_READER_READ_FACTS), n++;       /* 7 nothing */
        bw_reader_add_read(reader, hang, BW_READER_READ_SENT_HEADERS), n++;   /* 8 timeout */
        bw_reader_add_read(reader, ok, BW_READER_READ_SENT_HEADERS), n++;     /* 9 */
        bw_reader_result_t res;
        guint seen = 0;
        while (bw_reader_next(reader, &res)) {
            if (res.end)
                continue;
            seen++;
            ck_assert_int_eq(res.index, -1);
            g_autofree char *json = res.json ? g_strndup(res.json, res.json_len) : NULL;
            const char *expect_fault = NULL;
            switch (res.request) {
            case 0: case 2: case 3: case 9:
                ck_assert_msg(res.fault == BW_READER_FAULT_NONE && res.status == BW_OK,
                              "request %u: %s", res.request, res.detail ? res.detail : "");
                ck_assert_ptr_nonnull(json);
                ck_assert_int_eq(bw_reader_payload_check(res.json, res.json_len, NULL), BW_OK);
                if (res.request == 9)
                    ck_assert_ptr_nonnull(strstr(json, "\"from\":\"anna@example.net\""));
                else if (res.request != 3)
                    ck_assert_ptr_nonnull(strstr(json, "anna@example.net"));
                break;
            case 1: expect_fault = "crash"; break;
            case 4: case 6: expect_fault = "garbage"; break;
            case 8: expect_fault = "timeout"; break;
            case 5:
                ck_assert_int_eq(res.fault, BW_READER_FAULT_NONE);
                ck_assert_ptr_null(json);
                ck_assert(lines ? res.line != NULL : res.report != NULL);
                bw_report_free(res.report);
                break;
            case 7:
                ck_assert_int_eq(res.fault, BW_READER_FAULT_NONE);
                ck_assert_int_eq(res.status, BW_E_IO);
                ck_assert_ptr_null(json);
                break;
            default:
                ck_abort_msg("request %u", res.request);
            }
            if (expect_fault != NULL) {
                ck_assert_msg(g_strcmp0(bw_reader_fault_to_string(res.fault), expect_fault) == 0,
                              "request %u: fault %d (%s)", res.request, res.fault,
                              res.detail ? res.detail : "");
                ck_assert_ptr_null(json);
            }
        }
        ck_assert_uint_eq(seen, n);
    }
}
END_TEST

START_TEST(test_mbox_resumes_after_culprit)
{
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    const char *rcpts[] = { "m0@example.net", "m1@example.net", "m2@example.net",
                            "m3@example.net", "m4@example.net" };
    const char *marks[] = { NULL, "[bw-test:crash]", NULL, "[bw-test:hang]", NULL };
    g_autofree char *box = mbox("box.mbox", rcpts, marks, 5);
    g_autofree char *after = mail("after.eml", "after@example.net", NULL);
    bw_reader_add_file(reader, box, 0, false);
    bw_reader_add_file(reader, after, 0, false);
    g_autoptr(GPtrArray) per = run(reader, 2);
    GPtrArray *msgs = g_ptr_array_index(per, 0);
    ck_assert_uint_eq(msgs->len, 5);
    for (guint i = 0; i < 5; i++) {
        const got_t *g = g_ptr_array_index(msgs, i);
        ck_assert_int_eq(g->index, (int)i);
        if (i == 1)
            ck_assert_int_eq(g->fault, BW_READER_FAULT_CRASH);
        else if (i == 3)
            ck_assert_int_eq(g->fault, BW_READER_FAULT_TIMEOUT);
        else
            ck_assert_str_eq(g->recipient, rcpts[i]);
    }
    assert_read(per, 1, "after@example.net");
}
END_TEST

START_TEST(test_first_message_only)
{
    /* The scan reads one message per file and only wants reports. */
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    const char *rcpts[] = { "m0@example.net", "m1@example.net" };
    const char *marks[] = { NULL, "[bw-test:crash]" };
    g_autofree char *box = mbox("box.mbox", rcpts, marks, 2);
    g_autofree char *ham = g_build_filename(tmp, "ham.eml", NULL);
    ck_assert(g_file_set_contents(ham, "From: a@example.org\nSubject: hi\n\nhello\n", -1, NULL));
    bw_reader_add_file(reader, box, 1, true);
    bw_reader_add_file(reader, ham, 1, true);
    g_autoptr(GPtrArray) per = run(reader, 2);
    assert_read(per, 0, "m0@example.net");    /* the crasher behind it is never read */
    const got_t *g = only(per, 1);
    ck_assert_int_eq(g->status, BW_OK);
    ck_assert_ptr_null(g->recipient);         /* not a report: nothing sent */
    ck_assert_uint_eq(bw_reader_starts(reader), 1);
}
END_TEST

START_TEST(test_bounded_restarts)
{
    /* A reader that dies at once on every start: three tries, then every
     * input is answered "unavailable" and nothing is blamed. */
    g_setenv("BW_TEST_READER_FAIL", "start", TRUE);
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    for (int i = 0; i < 20; i++) {
        g_autofree char *name = g_strdup_printf("m%02d.eml", i);
        g_autofree char *p = mail(name, "r@example.net", NULL);
        bw_reader_add_file(reader, p, 0, false);
    }
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GPtrArray) per = run(reader, 20);
    for (guint i = 0; i < 20; i++)
        assert_fault(per, i, BW_READER_FAULT_UNAVAILABLE);
    ck_assert_uint_eq(bw_reader_starts(reader), 3);
    ck_assert_msg((g_get_monotonic_time() - t0) / 1e6 < (sanitized() ? 60 : 10), "too slow");
    ck_assert_ptr_nonnull(strstr(only(per, 0)->detail, "does not start"));
}
END_TEST

START_TEST(test_other_build_and_missing_program)
{
    g_setenv("BW_TEST_READER_FAIL", "version", TRUE);
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    g_autofree char *a = mail("a.eml", "a@example.net", NULL);
    bw_reader_add_file(reader, a, 0, false);
    g_autoptr(GPtrArray) per = run(reader, 1);
    assert_fault(per, 0, BW_READER_FAULT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(only(per, 0)->detail, "another build"));
    ck_assert_uint_eq(bw_reader_starts(reader), 1);

    g_unsetenv("BW_TEST_READER_FAIL");
    g_setenv("BOUNCEWATCH_READER", "/nonexistent/bouncewatch-reader", TRUE);
    g_autoptr(bw_reader_t) none = bw_reader_new(&o);
    bw_reader_add_file(none, a, 0, false);
    g_autoptr(GPtrArray) per2 = run(none, 1);
    assert_fault(per2, 0, BW_READER_FAULT_UNAVAILABLE);
    ck_assert_ptr_nonnull(strstr(only(per2, 0)->detail, "/nonexistent/bouncewatch-reader"));
}
END_TEST

START_TEST(test_limits_in_force)
{
    bw_reader_options_t o = { .mode = BW_READER_LINES };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    g_autofree char *p = mail("l.eml", "l@example.net", "[bw-test:limits]");
    g_autofree char *w = mail("w.eml", "w@example.net", "[bw-test:writefile]");
    bw_reader_add_file(reader, p, 0, false);
    bw_reader_add_file(reader, w, 0, false);
    bw_reader_result_t res;
    g_autofree char *line = NULL;
    bool write_stopped = false;
    while (bw_reader_next(reader, &res)) {
        if (!res.end && res.request == 0)
            line = g_strndup(res.line, res.line_len);
        if (!res.end && res.request == 1)
            write_stopped = res.fault == BW_READER_FAULT_CRASH && res.signal == SIGXFSZ;
    }
    ck_assert_ptr_nonnull(line);
    g_autoptr(JsonParser) jp = json_parser_new();
    ck_assert(json_parser_load_from_data(jp, line, -1, NULL));
    JsonObject *l = json_object_get_object_member(json_node_get_object(json_parser_get_root(jp)),
                                                  "limits");
    ck_assert_int_eq(json_object_get_int_member(l, "fsize"), 0);
    ck_assert_int_eq(json_object_get_int_member(l, "core"), 0);
    ck_assert_int_eq(json_object_get_int_member(l, "nofile"), 8);
    ck_assert_int_eq(json_object_get_int_member(l, "nproc"), 0);
    ck_assert_int_eq(json_object_get_int_member(l, "no_new_privs"), 1);
    ck_assert_int_eq(json_object_get_int_member(l, "pdeathsig"), SIGKILL);
    ck_assert_int_eq(json_object_get_int_member(l, "open_fds"), 3);   /* 0, 1, 2 only */
    /* The CPU budget of the message: what was used plus the limit. */
    gint64 cpu = json_object_get_int_member(l, "cpu");
    ck_assert_msg(cpu >= 1 && cpu <= 10, "cpu %" G_GINT64_FORMAT, cpu);
    if (!sanitized())
        ck_assert_int_eq(json_object_get_int_member(l, "as"), 2048ll << 20);
    /* Writing a file is not possible (the empty file open() may create
     * is all; RLIMIT_FSIZE stops the first byte). */
    ck_assert(write_stopped);
    g_autofree char *written = g_strconcat(w, ".written", NULL);
    GStatBuf sb;
    if (g_stat(written, &sb) == 0)
        ck_assert_int_eq(sb.st_size, 0);
}
END_TEST

START_TEST(test_memory_bomb)
{
    /* A message that makes the reader allocate without end dies at the
     * address-space limit (not in a sanitizer build, which has none). */
    if (sanitized())
        return;
    g_setenv("BOUNCEWATCH_READER_TIMEOUT_MS", "10000", TRUE);
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    g_autofree char *m = mail("m.eml", "m@example.net", "[bw-test:memory]");
    g_autofree char *a = mail("a.eml", "a@example.net", NULL);
    bw_reader_add_file(reader, m, 0, false);
    bw_reader_add_file(reader, a, 0, false);
    g_autoptr(GPtrArray) per = run(reader, 2);
    const got_t *g = only(per, 0);
    ck_assert_msg(g->fault == BW_READER_FAULT_CRASH && g->signal != SIGKILL,
                  "memory bomb: fault %d signal %d (%s)", g->fault, g->signal, g->detail);
    assert_read(per, 1, "a@example.net");
}
END_TEST

START_TEST(test_stderr_relayed_safely)
{
    g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func(g_free);
    bw_reader_options_t o = { .mode = BW_READER_REPORTS, .log = collect_log, .log_data = log };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    g_autofree char *n = mail("n.eml", "n@example.net", "[bw-test:stderr]");
    bw_reader_add_file(reader, n, 0, false);
    g_autoptr(GPtrArray) per = run(reader, 1);
    assert_read(per, 0, "n@example.net");
    /* 20,000 lines with an escape sequence each: capped, escaped. */
    ck_assert_uint_gt(log->len, 10);
    gsize bytes = 0;
    for (guint i = 0; i < log->len; i++) {
        const char *line = g_ptr_array_index(log, i);
        ck_assert_ptr_null(strchr(line, '\x1b'));
        bytes += strlen(line);
    }
    ck_assert_uint_lt(bytes, 128 * 1024);
}
END_TEST

/* before_text (reader.h): how many times it was called, and whether it
 * had been when the lines that need the locale were logged. */
static unsigned before_text_calls;
static bool said_before_text = true;

static void
count_before_text(void)
{
    before_text_calls++;
}

static void
log_after_before_text(void *data, const char *line)
{
    (void)data;
    if (strstr(line, "(more output not shown)") != NULL && before_text_calls == 0)
        said_before_text = false;
}

START_TEST(test_before_text)
{
    /* Readable mail: nothing to say, the callback is never called (a
     * caller that sets its locale there does not set it). */
    before_text_calls = 0;
    said_before_text = true;
    bw_reader_options_t o = { .mode = BW_READER_LINES, .log = log_after_before_text,
                              .before_text = count_before_text };
    g_autofree char *a = mail("a.eml", "a@example.net", NULL);
    g_autofree char *b = mail("b.eml", "b@example.net", NULL);
    {
        g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
        bw_reader_add_file(reader, a, 0, false);
        bw_reader_add_file(reader, b, 0, false);
        g_autoptr(GPtrArray) per = run(reader, 2);
        ck_assert_ptr_null(only(per, 0)->detail);
    }
    ck_assert_uint_eq(before_text_calls, 0);
    /* A flood on standard error: called before "(more output not
     * shown)" is made. */
    g_autofree char *n = mail("n.eml", "n@example.net", "[bw-test:stderr]");
    {
        g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
        bw_reader_add_file(reader, n, 0, false);
        g_autoptr(GPtrArray) per = run(reader, 1);
    }
    ck_assert_uint_gt(before_text_calls, 0);
    ck_assert(said_before_text);
    /* A program that cannot be started: called before the system error's
     * text is made (it is in the detail). */
    before_text_calls = 0;
    g_setenv("BOUNCEWATCH_READER", "/nonexistent/bouncewatch-reader", TRUE);
    g_autoptr(bw_reader_t) none = bw_reader_new(&o);
    bw_reader_add_file(none, a, 0, false);
    bw_reader_result_t res;
    ck_assert(bw_reader_next(none, &res));
    ck_assert_int_eq(res.fault, BW_READER_FAULT_UNAVAILABLE);
    ck_assert_uint_gt(before_text_calls, 0);
}
END_TEST

static void
restore_env(const char *name, const char *value)
{
    if (value != NULL)
        g_setenv(name, value, TRUE);
    else
        g_unsetenv(name);
}

START_TEST(test_pool_order_and_blame)
{
    /* Two processes read a big batch, each a contiguous run at a time;
     * the answers come back in the order added, and each poison message,
     * whichever process read it, is blamed alone and exactly. */
    g_autofree char *was = g_strdup(g_getenv("BOUNCEWATCH_READERS"));
    g_setenv("BOUNCEWATCH_READERS", "2", TRUE);
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    enum { N = 600 };
    struct { guint at; const char *marker; bw_reader_fault_t fault; } poison[] = {
        { 3, "[bw-test:crash]", BW_READER_FAULT_CRASH },
        { 70, "[bw-test:garbage]", BW_READER_FAULT_GARBAGE },
        { 100, "[bw-test:exit]", BW_READER_FAULT_CRASH },
        { 101, "[bw-test:crash]", BW_READER_FAULT_CRASH },
        { 350, "[bw-test:hang]", BW_READER_FAULT_TIMEOUT },
        { 420, "[bw-test:badreport]", BW_READER_FAULT_GARBAGE },
        { 599, "[bw-test:crash]", BW_READER_FAULT_CRASH },
    };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    for (guint i = 0; i < N; i++) {
        const char *marker = NULL;
        for (size_t k = 0; k < G_N_ELEMENTS(poison); k++)
            if (poison[k].at == i)
                marker = poison[k].marker;
        g_autofree char *name = g_strdup_printf("p%03u.eml", i);
        g_autofree char *rcpt = g_strdup_printf("r%u@example.net", i);
        g_autofree char *path = mail(name, rcpt, marker);
        ck_assert_uint_eq(bw_reader_add_file(reader, path, 0, false), i);
    }
    g_autoptr(GPtrArray) per = run(reader, N);   /* (checks the order) */
    for (guint i = 0; i < N; i++) {
        size_t k = 0;
        while (k < G_N_ELEMENTS(poison) && poison[k].at != i)
            k++;
        if (k < G_N_ELEMENTS(poison)) {
            assert_fault(per, i, poison[k].fault);
        } else {
            g_autofree char *rcpt = g_strdup_printf("r%u@example.net", i);
            assert_read(per, i, rcpt);
        }
    }
    /* Both processes ran (two starts), plus one new process for each
     * culprit that ended one (the garbage ones too: it is put down), and
     * one or two more for the reading again one by one that finds it. */
    unsigned starts = bw_reader_starts(reader);
    ck_assert_msg(starts >= 2 + G_N_ELEMENTS(poison) && starts <= 2 + 3 * G_N_ELEMENTS(poison),
                  "starts %u", starts);

    /* A small batch (the hook's few new messages) is read by one. */
    g_autoptr(bw_reader_t) small = bw_reader_new(&o);
    for (guint i = 0; i < 10; i++) {
        g_autofree char *name = g_strdup_printf("p%03u.eml", i + 10);
        g_autofree char *path = g_build_filename(tmp, name, NULL);
        bw_reader_add_file(small, path, 0, false);
    }
    g_autoptr(GPtrArray) few = run(small, 10);
    for (guint i = 0; i < 10; i++) {
        g_autofree char *rcpt = g_strdup_printf("r%u@example.net", i + 10);
        assert_read(few, i, rcpt);
    }
    ck_assert_uint_eq(bw_reader_starts(small), 1);
    restore_env("BOUNCEWATCH_READERS", was);
}
END_TEST

START_TEST(test_pool_unavailable)
{
    /* Every start fails: three in a row, not three per process, and every
     * input is answered "unavailable". */
    g_autofree char *was = g_strdup(g_getenv("BOUNCEWATCH_READERS"));
    g_autofree char *was_split = g_strdup(g_getenv("BOUNCEWATCH_READERS_SPLIT"));
    g_setenv("BOUNCEWATCH_READERS", "2", TRUE);
    g_setenv("BOUNCEWATCH_READERS_SPLIT", "1", TRUE);
    g_setenv("BW_TEST_READER_FAIL", "start", TRUE);
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
    for (int i = 0; i < 300; i++) {
        g_autofree char *name = g_strdup_printf("m%03d.eml", i);
        g_autofree char *p = mail(name, "r@example.net", NULL);
        bw_reader_add_file(reader, p, 0, false);
    }
    g_autoptr(GPtrArray) per = run(reader, 300);
    for (guint i = 0; i < 300; i++)
        assert_fault(per, i, BW_READER_FAULT_UNAVAILABLE);
    ck_assert_uint_eq(bw_reader_starts(reader), 3);
    restore_env("BOUNCEWATCH_READERS", was);
    restore_env("BOUNCEWATCH_READERS_SPLIT", was_split);
}
END_TEST

START_TEST(test_no_more_inputs)
{
    /* bw_reader_no_more_inputs: a process is told it has nothing more to
     * read once it has been sent its last request.  It ends by itself
     * after answering them, which is no fault and says nothing; a message
     * that stops it before then is still the culprit, also the last one. */
    bw_reader_options_t o = { .mode = BW_READER_REPORTS };
    g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func(g_free);
    o.log = collect_log;
    o.log_data = log;
    g_autoptr(bw_reader_t) clean = bw_reader_new(&o);
    enum { N = 40 };   /* more than the requests a process is sent at once */
    for (guint i = 0; i < N; i++) {
        g_autofree char *name = g_strdup_printf("n%02u.eml", i);
        g_autofree char *rcpt = g_strdup_printf("n%u@example.net", i);
        g_autofree char *path = mail(name, rcpt, NULL);
        bw_reader_add_file(clean, path, 0, false);
    }
    bw_reader_no_more_inputs(clean);
    g_autoptr(GPtrArray) per = run(clean, N);
    for (guint i = 0; i < N; i++) {
        g_autofree char *rcpt = g_strdup_printf("n%u@example.net", i);
        assert_read(per, i, rcpt);
    }
    ck_assert_uint_eq(bw_reader_starts(clean), 1);
    g_clear_pointer(&clean, bw_reader_free);
    ck_assert_msg(log->len == 0, "said: %s", log->len ? (char *)g_ptr_array_index(log, 0) : "");

    /* A crash on the last message, then a clean exit on the last one. */
    g_autofree char *a = mail("na.eml", "na@example.net", NULL);
    g_autofree char *c = mail("nc.eml", "nc@example.net", "[bw-test:crash]");
    g_autofree char *x = mail("nx.eml", "nx@example.net", "[bw-test:exit]");
    const char *lasts[] = { c, x };
    for (size_t k = 0; k < G_N_ELEMENTS(lasts); k++) {
        g_autoptr(bw_reader_t) reader = bw_reader_new(&o);
        bw_reader_add_file(reader, a, 0, false);
        bw_reader_add_file(reader, lasts[k], 0, false);
        bw_reader_no_more_inputs(reader);
        g_autoptr(GPtrArray) got = run(reader, 2);
        assert_read(got, 0, "na@example.net");
        assert_fault(got, 1, BW_READER_FAULT_CRASH);
        if (k == 0)
            ck_assert(only(got, 1)->signal == SIGSEGV ||
                      (sanitized() && only(got, 1)->signal == SIGABRT));
        else
            ck_assert_int_eq(only(got, 1)->signal, 0);
    }
}
END_TEST

Suite *
suite_reader(void)
{
    Suite *s = suite_create("reader");
    TCase *wire = tcase_create("wire");
    tcase_add_test(wire, test_wire_roundtrip);
    tcase_add_test(wire, test_wire_hostile);
    tcase_add_test(wire, test_payload_checks);
    tcase_add_test(wire, test_sent_mail_json);
    suite_add_tcase(s, wire);
    TCase *tc = tcase_create("process");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_one_reader_per_batch);
    tcase_add_test(tc, test_crash_mid_batch);
    tcase_add_test(tc, test_hang_and_spin);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_lines_mode);
    tcase_add_test(tc, test_read_requests);
    tcase_add_test(tc, test_mbox_resumes_after_culprit);
    tcase_add_test(tc, test_first_message_only);
    tcase_add_test(tc, test_bounded_restarts);
    tcase_add_test(tc, test_other_build_and_missing_program);
    tcase_add_test(tc, test_limits_in_force);
    tcase_add_test(tc, test_memory_bomb);
    tcase_add_test(tc, test_stderr_relayed_safely);
    tcase_add_test(tc, test_pool_order_and_blame);
    tcase_add_test(tc, test_pool_unavailable);
    tcase_add_test(tc, test_before_text);
    tcase_add_test(tc, test_no_more_inputs);
    suite_add_tcase(s, tc);
    return s;
}
