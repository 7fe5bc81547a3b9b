/* check_ops_record.c: the recording proxy of the mailbox questions
 * (src/app/ops-record.c): what the signals stage's memo relies on. */
#include "suites.h"
#include "ops-record.h"
#include <string.h>

/* A mailbox of a few facts the tests change between record and replay. */
typedef struct {
    unsigned from_count;      /* received_from_count("friend@example.org") */
    bool has_parent;          /* has_message_id("<parent@x>") */
    char *replier;            /* replies_to's from */
    guint calls;
} fake_t;

static unsigned
f_received_from_count(void *ctx, const char *address)
{
    fake_t *f = ctx;
    f->calls++;
    return strcmp(address, "friend@example.org") == 0 ? f->from_count : 0;
}

static bool
f_has_message_id(void *ctx, const char *id)
{
    fake_t *f = ctx;
    f->calls++;
    return strcmp(id, "<parent@x>") == 0 && f->has_parent;
}

static unsigned
f_replies_to(void *ctx, const char *id, char **from_out)
{
    fake_t *f = ctx;
    (void)id;
    f->calls++;
    if (from_out)
        *from_out = g_strdup(f->replier);
    return f->replier ? 1 : 0;
}

static unsigned
f_sent_count_to(void *ctx, const char *address, gint64 before)
{
    fake_t *f = ctx;
    (void)address;
    f->calls++;
    return before > 100 ? 2 : 0;
}

static bw_mailbox_ops_t
fake_ops(fake_t *f)
{
    bw_mailbox_ops_t ops = { 0 };
    ops.ctx = f;
    ops.received_from_count = f_received_from_count;
    ops.has_message_id = f_has_message_id;
    ops.replies_to = f_replies_to;
    ops.sent_count_to = f_sent_count_to;
    return ops;
}

/* The questions a computation asked, through the proxy. */
static JsonNode *
record(bw_mailbox_ops_t *real)
{
    g_autoptr(bw_ops_record_t) rec = bw_ops_record_new(real);
    const bw_mailbox_ops_t *p = bw_ops_record_ops(rec);
    ck_assert_ptr_null(p->has_sent_mail);   /* lacking stays lacking */
    ck_assert_uint_eq(p->received_from_count(p->ctx, "friend@example.org"), 3);
    ck_assert_uint_eq(p->received_from_count(p->ctx, "friend@example.org"), 3);
    ck_assert(p->has_message_id(p->ctx, "<parent@x>"));
    char *from = NULL;
    ck_assert_uint_eq(p->replies_to(p->ctx, "<m|1@x>", &from), 1);
    ck_assert_str_eq(from, "ann@example.org");
    g_free(from);
    ck_assert_uint_eq(p->sent_count_to(p->ctx, "a|b", 200), 2);
    ck_assert_uint_eq(bw_ops_record_asked(rec), 5);
    return bw_ops_record_to_json(rec);
}

START_TEST(test_replay_same_answers)
{
    fake_t f = { 3, true, g_strdup("ann@example.org"), 0 };
    bw_mailbox_ops_t ops = fake_ops(&f);
    g_autoptr(JsonNode) rec = record(&ops);
    /* four distinct questions (the repeat is kept once) */
    ck_assert_uint_eq(json_array_get_length(json_node_get_array(rec)), 4);
    f.calls = 0;
    ck_assert(bw_ops_replay(rec, &ops, 100));
    ck_assert_uint_eq(f.calls, 4);
    /* more questions than allowed: not worth asking */
    ck_assert(!bw_ops_replay(rec, &ops, 3));
    g_free(f.replier);
}
END_TEST

START_TEST(test_replay_changed_answers)
{
    fake_t f = { 3, true, g_strdup("ann@example.org"), 0 };
    bw_mailbox_ops_t ops = fake_ops(&f);
    g_autoptr(JsonNode) rec = record(&ops);
    f.from_count = 4;            /* one more message from the friend */
    ck_assert(!bw_ops_replay(rec, &ops, 100));
    f.from_count = 3;
    f.has_parent = false;        /* the parent was deleted */
    ck_assert(!bw_ops_replay(rec, &ops, 100));
    f.has_parent = true;
    g_free(f.replier);
    f.replier = g_strdup("bob@example.org");   /* another person answered first */
    ck_assert(!bw_ops_replay(rec, &ops, 100));
    g_free(f.replier);
    f.replier = g_strdup("ann@example.org");
    ck_assert(bw_ops_replay(rec, &ops, 100));
    /* a mailbox that cannot answer a question any more */
    bw_mailbox_ops_t less = ops;
    less.replies_to = NULL;
    ck_assert(!bw_ops_replay(rec, &less, 100));
    g_free(f.replier);
}
END_TEST

START_TEST(test_replay_malformed)
{
    fake_t f = { 0, false, NULL, 0 };
    bw_mailbox_ops_t ops = fake_ops(&f);
    const char *bad[] = {
        "{}", "[1]", "[[\"R\"]]", "[[\"R\",\"a\",\"b\",\"0\"]]", "[[\"Z\",\"a\",\"0\"]]",
        "[[\"C\",\"a\",\"x\",\"0\"]]", "[[\"RR\",\"a\",\"0\"]]", "[[\"R\",1,\"0\"]]",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(JsonParser) p = json_parser_new();
        ck_assert(json_parser_load_from_data(p, bad[i], -1, NULL));
        ck_assert_msg(!bw_ops_replay(json_parser_get_root(p), &ops, 100), "%s", bad[i]);
    }
    ck_assert(!bw_ops_replay(NULL, &ops, 100));
    /* nothing asked: nothing can have changed */
    g_autoptr(JsonParser) p = json_parser_new();
    ck_assert(json_parser_load_from_data(p, "[]", -1, NULL));
    ck_assert(bw_ops_replay(json_parser_get_root(p), &ops, 100));
}
END_TEST

/* The text form an item keeps: the same questions, asked again only where
 * the caller's filter says so. */
static char *
record_text(bw_mailbox_ops_t *real)
{
    g_autoptr(bw_ops_record_t) rec = bw_ops_record_new(real);
    const bw_mailbox_ops_t *p = bw_ops_record_ops(rec);
    p->received_from_count(p->ctx, "friend@example.org");
    p->has_message_id(p->ctx, "<parent@x>");
    char *from = NULL;
    p->replies_to(p->ctx, "line\nbreak|2:x", &from);   /* separators inside an argument */
    g_free(from);
    p->sent_count_to(p->ctx, "a", 200);
    return bw_ops_record_to_text(rec);
}

static bool
ask_all(void *data, char what, const char *const *args, guint nargs, const char *answer)
{
    (void)args; (void)nargs; (void)answer;
    GString *seen = data;
    g_string_append_c(seen, what);
    return true;
}

static bool
ask_none_but_r(void *data, char what, const char *const *args, guint nargs, const char *answer)
{
    (void)data; (void)answer;
    return what == 'R' && nargs == 1 && strcmp(args[0], "friend@example.org") == 0;
}

START_TEST(test_text_recheck)
{
    fake_t f = { 3, true, g_strdup("ann@example.org"), 0 };
    bw_mailbox_ops_t ops = fake_ops(&f);
    g_autofree char *text = record_text(&ops);
    /* one line per distinct question, in a stable order */
    g_autofree char *again = record_text(&ops);
    ck_assert_str_eq(text, again);
    g_autoptr(GString) seen = g_string_new(NULL);
    bool changed = true;
    ck_assert(bw_ops_recheck_text(text, &ops, ask_all, seen, 100, &changed));
    ck_assert(!changed);
    ck_assert_uint_eq(seen->len, 4);
    /* a changed answer the filter selects is seen; one it leaves out is not */
    f.from_count = 4;
    ck_assert(bw_ops_recheck_text(text, &ops, ask_none_but_r, NULL, 100, &changed));
    ck_assert(changed);
    f.from_count = 3;
    f.has_parent = false;
    f.calls = 0;
    ck_assert(bw_ops_recheck_text(text, &ops, ask_none_but_r, NULL, 100, &changed));
    ck_assert(!changed);
    ck_assert_uint_eq(f.calls, 1);
    ck_assert(bw_ops_recheck_text(text, &ops, ask_all, seen, 100, &changed));
    ck_assert(changed);
    /* more questions than allowed, or malformed text: compute again */
    f.has_parent = true;
    ck_assert(!bw_ops_recheck_text(text, &ops, ask_all, seen, 3, &changed));
    const char *bad[] = { "R", "R1", "R19:friend", "R1x:a1:0\n", "R13:abc1:0", "R23:abc1:0\n",
                          "Z11:a1:0\n", "R199999999:a1:0\n", "R11:a1:0" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_msg(!bw_ops_recheck_text(bad[i], &ops, ask_all, seen, 100, &changed), "%s",
                      bad[i]);
    ck_assert(!bw_ops_recheck_text(NULL, &ops, ask_all, seen, 100, &changed));
    ck_assert(bw_ops_recheck_text("", &ops, ask_all, seen, 100, &changed));
    ck_assert(!changed);
    g_free(f.replier);
}
END_TEST

/* A state file can be damaged anywhere: any bytes in place of a stored
 * row's questions give a clean "cannot tell" or an answer, never a read
 * out of bounds (the sanitizer build of the tests runs this). */
START_TEST(test_text_damaged)
{
    fake_t f = { 3, true, g_strdup("ann@example.org"), 0 };
    bw_mailbox_ops_t ops = fake_ops(&f);
    g_autofree char *text = record_text(&ops);
    gsize n = strlen(text);
    GRand *rng = g_rand_new_with_seed(7);
    g_autoptr(GString) seen = g_string_new(NULL);
    for (guint round = 0; round < 3000; round++) {
        g_autofree char *t = g_strdup(text);
        guint edits = 1 + g_rand_int_range(rng, 0, 4);
        for (guint e = 0; e < edits; e++) {
            gsize at = (gsize)g_rand_int_range(rng, 0, (gint32)n);
            char c = (char)g_rand_int_range(rng, 1, 256);
            t[at] = c;
        }
        /* sometimes cut short */
        if (round % 5 == 0)
            t[g_rand_int_range(rng, 0, (gint32)n)] = '\0';
        bool changed = false;
        (void)bw_ops_recheck_text(t, &ops, ask_all, seen, 100, &changed);
    }
    g_rand_free(rng);
    g_free(f.replier);
}
END_TEST

Suite *
suite_ops_record(void)
{
    Suite *s = suite_create("ops-record");
    TCase *tc = tcase_create("replay");
    tcase_add_test(tc, test_replay_same_answers);
    tcase_add_test(tc, test_replay_changed_answers);
    tcase_add_test(tc, test_replay_malformed);
    tcase_add_test(tc, test_text_recheck);
    tcase_add_test(tc, test_text_damaged);
    suite_add_tcase(s, tc);
    return s;
}
