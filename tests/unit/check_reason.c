/* check_reason.c: the status, reply-code and phrase tables of reason.c and
 * the matcher under them (vendor-match.c). */
#include "suites.h"
#include "bw-vendor.h"
#include "bw-matcher-private.h"
#include <string.h>

/* ------------------------------------------------------------ matcher */

typedef struct {
    size_t ids[16], starts[16], ends[16];
    size_t n;
} hits_t;

static bool
collect_hit(size_t id, size_t start, size_t end, void *data)
{
    hits_t *h = data;
    if (h->n < 16) {
        h->ids[h->n] = id;
        h->starts[h->n] = start;
        h->ends[h->n] = end;
        h->n++;
    }
    return true;
}

START_TEST(test_matcher_basic)
{
    const char *pats[] = {"user unknown", "unknown", "^received:", "mailbox full"};
    bw_matcher_t *m = bw_matcher_new(pats, G_N_ELEMENTS(pats));
    /* case, a wrapped phrase, overlapping patterns, an anchored one */
    const char *text = "550 User\n    Unknown here\n  Received: x\nnot Received: y";
    hits_t h = {0};
    bw_matcher_scan(m, text, strlen(text), collect_hit, &h);
    ck_assert_uint_eq(h.n, 3);
    /* "unknown" ends with "user unknown": both reported, same end */
    ck_assert_uint_eq(h.ids[0], 0);
    ck_assert_uint_eq(h.starts[0], 4);
    ck_assert_uint_eq(h.ends[0], 20);
    ck_assert_uint_eq(h.ids[1], 1);
    ck_assert_uint_eq(h.starts[1], 13);
    /* the anchored pattern only at the indented line start */
    ck_assert_uint_eq(h.ids[2], 2);
    ck_assert_uint_eq(h.starts[2], 28);
    bw_matcher_free(m);
}
END_TEST

START_TEST(test_matcher_stop_and_nul)
{
    const char *pats[] = {"ab"};
    bw_matcher_t *m = bw_matcher_new(pats, 1);
    /* a NUL byte ends the text */
    const char text[] = "xxab\0ab";
    hits_t h = {0};
    bw_matcher_scan(m, text, sizeof text - 1, collect_hit, &h);
    ck_assert_uint_eq(h.n, 1);
    bw_matcher_free(m);
}
END_TEST

static unsigned runtime_builds;

static void
count_build(const bw_matcher_t *m, guint64 key)
{
    (void)m;
    (void)key;
    runtime_builds++;
}

/* Every automaton of the phrase tables comes from the tables make built
 * (matcher-gen.c): none is built at run time, so a process that starts
 * builds nothing; a list of patterns that is not one of them is built. */
START_TEST(test_matcher_prebuilt)
{
    bw_matcher_built_hook = count_build;
    bw_matchers_build_all();
    ck_assert_uint_eq(runtime_builds, 0);
    const char *pats[] = {"user unknown", "mailbox full"};
    bw_matcher_t *m = bw_matcher_new(pats, G_N_ELEMENTS(pats));
    ck_assert_uint_eq(runtime_builds, 1);
    bw_matcher_built_hook = NULL;
    hits_t h = {0};
    bw_matcher_scan(m, "MAILBOX  FULL", 13, collect_hit, &h);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_uint_eq(h.ids[0], 1);
    bw_matcher_free(m);
}
END_TEST

/* Each prebuilt automaton finds what the automaton built at run time from
 * the same list finds, on hostile text.  The fuzzers build every automaton
 * at run time (their build has no tables), so this is what ties what they
 * exercise to what the program runs.  Deterministic (a fixed seed) and
 * cheap: ~200 texts of up to 2 kB per automaton. */
typedef struct {
    const bw_matcher_t *prebuilt;
    bw_matcher_t *runtime;
    GPtrArray *patterns;   /* char* (NULL kept), owned */
} served_t;

static GArray *served;   /* served_t */

static void
on_served(const bw_matcher_t *m, const char *const *patterns, size_t n)
{
    for (guint i = 0; i < served->len; i++)
        if (g_array_index(served, served_t, i).prebuilt == m)
            return;   /* one list asked for twice */
    served_t e = {m, bw_matcher_build(patterns, n), g_ptr_array_new_with_free_func(g_free)};
    for (size_t i = 0; i < n; i++)
        g_ptr_array_add(e.patterns, g_strdup(patterns[i]));
    g_array_append_val(served, e);
}

static bool
append_hit(size_t id, size_t start, size_t end, void *data)
{
    size_t hit[3] = {id, start, end};
    g_array_append_vals(data, hit, 3);
    return true;
}

/* A pattern as a stranger's notice may write it: case changed (ASCII, and
 * the two-byte Latin-1 and Cyrillic letters the scan folds), blanks as runs
 * of white space and line breaks, apostrophes as U+2018/U+2019, an anchored
 * one after a line break with indentation or quote marks, or not. */
static void
append_variant(GString *t, GRand *r, const char *p, size_t keep)
{
    if (*p == '^') {
        p++;
        if (g_rand_boolean(r))
            g_string_append(t, g_rand_boolean(r) ? "\n" : "\r\n  > ");
    }
    size_t len = MIN(strlen(p), keep);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i], b = i + 1 < len ? (unsigned char)p[i + 1] : 0;
        if (c == ' ') {
            static const char *const blanks[] = {" ", "  ", "\t", "\n", "\r\n   ", " \f\v "};
            g_string_append(t, blanks[g_rand_int_range(r, 0, G_N_ELEMENTS(blanks))]);
        } else if (c == '\'' && g_rand_boolean(r)) {
            g_string_append(t, g_rand_boolean(r) ? "\xe2\x80\x99" : "\xe2\x80\x98");
        } else if (g_ascii_isalpha(c)) {
            g_string_append_c(t, g_rand_boolean(r) ? g_ascii_toupper(c) : g_ascii_tolower(c));
        } else if (c == 0xC3 && b >= 0xA0 && b <= 0xBE && b != 0xB7 && g_rand_boolean(r)) {
            g_string_append_c(t, (char)c);
            g_string_append_c(t, (char)(b - 0x20));   /* é -> É */
            i++;
        } else if (c == 0xD0 && b >= 0xB0 && b <= 0xBF && g_rand_boolean(r)) {
            g_string_append_c(t, (char)c);
            g_string_append_c(t, (char)(b - 0x20));   /* а..п -> А..П */
            i++;
        } else if (c == 0xD1 && b >= 0x80 && b <= 0x9F && g_rand_boolean(r)) {
            g_string_append_c(t, (char)0xD0);          /* р..я -> Р..Я, ѐ..џ -> Ѐ..Џ */
            g_string_append_c(t, (char)(b <= 0x8F ? b + 0x20 : b - 0x10));
            i++;
        } else {
            g_string_append_c(t, (char)c);
        }
    }
}

static const char *
some_pattern(const served_t *e, GRand *r)
{
    for (int tries = 0; tries < 8; tries++) {
        const char *p = g_ptr_array_index(e->patterns,
                                          g_rand_int_range(r, 0, (gint32)e->patterns->len));
        if (p != NULL)
            return p;
    }
    return "";
}

static void
hostile_text(GString *t, GRand *r, const served_t *e)
{
    g_string_truncate(t, 0);
    gsize want = (gsize)g_rand_int_range(r, 1, 2048);
    while (t->len < want) {
        const char *p = some_pattern(e, r);
        switch (g_rand_int_range(r, 0, 7)) {
        case 0:   /* random bytes, NUL rare (it ends the scan) */
            for (int k = g_rand_int_range(r, 1, 33); k > 0; k--) {
                int c = g_rand_int_range(r, 0, 256);
                g_string_append_c(t, (char)(c == 0 && g_rand_int_range(r, 0, 8) ? 'x' : c));
            }
            break;
        case 1:   /* a whole pattern */
            append_variant(t, r, p, G_MAXSIZE);
            break;
        case 2:   /* a truncated one (UTF-8 may be cut) */
            append_variant(t, r, p, (size_t)g_rand_int_range(r, 0, (gint32)strlen(p) + 1));
            break;
        case 3: {  /* overlapping: one inside another, or repeated back to back */
            const char *q = some_pattern(e, r);
            size_t cut = (size_t)g_rand_int_range(r, 0, (gint32)strlen(p) + 1);
            append_variant(t, r, p, cut);
            append_variant(t, r, q, G_MAXSIZE);
            append_variant(t, r, p + (p[0] == '^' && cut == 0 ? 1 : cut), G_MAXSIZE);
            append_variant(t, r, p, G_MAXSIZE);
            break;
        }
        case 4: {  /* invalid UTF-8: stray continuation and lead bytes, cut sequences */
            static const char *const bad[] = {"\x80", "\xbf\xbf", "\xc3", "\xd0", "\xd1",
                                              "\xe2\x80", "\xe2", "\xf0\x9f", "\xff\xfe",
                                              "\xc0\xaf", "\xed\xa0\x80"};
            g_string_append(t, bad[g_rand_int_range(r, 0, G_N_ELEMENTS(bad))]);
            break;
        }
        case 5:   /* valid UTF-8 around it: accents, Cyrillic, CJK, curly quotes */
            g_string_append(t, g_rand_boolean(r) ? "\xc3\x89t\xc3\xa9 \xd0\x9f\xd1\x80\xd0\xb8"
                                                 : "\xe9\x85\x8d\xe4\xbf\xa1\xe2\x80\x99 ");
            break;
        default:  /* line structure: breaks, indentation, quote marks */
            g_string_append(t, g_rand_boolean(r) ? "\n> " : " \t\r\n");
            break;
        }
    }
}

static int
cmp_hit(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    for (int k = 0; k < 3; k++)
        if (x[k] != y[k])
            return x[k] < y[k] ? -1 : 1;
    return 0;
}

/* One automaton for a list reports what the automata of its parts report
 * (ids offset by the parts before): what a detector that reads several
 * lists in one pass (generic.c's AUT_NOTICE) relies on.  The list is cut
 * in three at random places. */
static guint
check_union_as_parts(const served_t *e, GRand *r, GString *t)
{
    size_t np = e->patterns->len;
    if (np < 3)
        return 0;
    const char *const *pats = (const char *const *)e->patterns->pdata;
    size_t cut[4] = {0, (size_t)g_rand_int_range(r, 1, (gint32)np - 1), 0, np};
    cut[2] = (size_t)g_rand_int_range(r, (gint32)cut[1], (gint32)np);
    bw_matcher_t *part[3];
    for (int k = 0; k < 3; k++)
        part[k] = bw_matcher_build(pats + cut[k], cut[k + 1] - cut[k]);
    GArray *a = g_array_new(FALSE, FALSE, sizeof(size_t));
    GArray *b = g_array_new(FALSE, FALSE, sizeof(size_t));
    guint with_hits = 0;
    for (guint k = 0; k < 50; k++) {
        hostile_text(t, r, e);
        g_array_set_size(a, 0);
        g_array_set_size(b, 0);
        bw_matcher_scan(e->runtime, t->str, t->len, append_hit, a);
        for (int q = 0; q < 3; q++) {
            guint from = b->len;
            bw_matcher_scan(part[q], t->str, t->len, append_hit, b);
            for (guint h = from; h < b->len; h += 3)
                g_array_index(b, size_t, h) += cut[q];
        }
        /* (an empty GArray's data may be NULL: qsort and memcmp take none) */
        if (a->len > 0)
            qsort(a->data, a->len / 3, 3 * sizeof(size_t), cmp_hit);
        if (b->len > 0)
            qsort(b->data, b->len / 3, 3 * sizeof(size_t), cmp_hit);
        if (a->len != b->len ||
            (a->len > 0 && memcmp(a->data, b->data, a->len * sizeof(size_t)) != 0))
            ck_abort_msg("%zu patterns cut at %zu and %zu, text %u: whole %u hits, parts %u", np,
                         cut[1], cut[2], k, a->len / 3, b->len / 3);
        with_hits += a->len > 0;
    }
    for (int k = 0; k < 3; k++)
        bw_matcher_free(part[k]);
    g_array_unref(a);
    g_array_unref(b);
    return with_hits;
}

START_TEST(test_matcher_prebuilt_as_runtime)
{
    served = g_array_new(FALSE, FALSE, sizeof(served_t));
    bw_matcher_served_hook = on_served;
    bw_matchers_build_all();
    bw_matcher_served_hook = NULL;
    /* every automaton of the tables is among them (one served per list) */
    ck_assert_uint_eq(served->len, bw_matcher_prebuilt_count());
    ck_assert_uint_gt(served->len, 0);
    GRand *r = g_rand_new_with_seed(20261206);
    GString *t = g_string_new(NULL);
    GArray *a = g_array_new(FALSE, FALSE, sizeof(size_t));
    GArray *b = g_array_new(FALSE, FALSE, sizeof(size_t));
    guint texts_with_hits = 0, union_hits = 0;
    for (guint i = 0; i < served->len; i++) {
        served_t *e = &g_array_index(served, served_t, i);
        ck_assert(e->prebuilt->prebuilt);
        ck_assert(!e->runtime->prebuilt);
        ck_assert_uint_eq(e->prebuilt->nnodes, e->runtime->nnodes);
        ck_assert_uint_eq(e->prebuilt->npatterns, e->runtime->npatterns);
        for (guint k = 0; k < 200; k++) {
            hostile_text(t, r, e);
            g_array_set_size(a, 0);
            g_array_set_size(b, 0);
            bw_matcher_scan(e->prebuilt, t->str, t->len, append_hit, a);
            bw_matcher_scan(e->runtime, t->str, t->len, append_hit, b);
            if (a->len != b->len ||
                (a->len > 0 && memcmp(a->data, b->data, a->len * sizeof(size_t)) != 0))
                ck_abort_msg("automaton %u (%zu patterns), text %u: prebuilt %u hits, "
                             "runtime %u", i, e->runtime->npatterns, k, a->len / 3, b->len / 3);
            texts_with_hits += a->len > 0;
        }
        union_hits += check_union_as_parts(e, r, t);
        bw_matcher_free(e->runtime);
        g_ptr_array_unref(e->patterns);
    }
    /* the texts reach the patterns (a generator that never hits compares nothing) */
    ck_assert_uint_gt(texts_with_hits, served->len * 100);
    ck_assert_uint_gt(union_hits, served->len * 25);
    g_array_unref(a);
    g_array_unref(b);
    g_string_free(t, TRUE);
    g_rand_free(r);
    g_array_unref(served);
}
END_TEST

/* Hostile text: long runs of near-matches stay linear.  The forked test's
 * default timeout (4 s) is the bound; a backtracking matcher would need
 * minutes on 4 MB of partial matches. */
START_TEST(test_matcher_hostile)
{
    size_t len = 4u * 1024u * 1024u;
    char *text = g_malloc(len + 1);
    const char *unit = "user unknow ";
    for (size_t i = 0; i < len; i++)
        text[i] = unit[i % strlen(unit)];
    text[len] = '\0';
    ck_assert_int_eq(bw_reason_from_text(text, len), BW_REASON_UNKNOWN);
    memset(text, 'a', len);
    ck_assert_int_eq(bw_reason_from_text(text, len), BW_REASON_UNKNOWN);
    g_free(text);
}
END_TEST

/* ------------------------------------------------------------ status codes */

START_TEST(test_reason_from_status)
{
    struct { const char *code; bw_reason_t reason; } cases[] = {
        {"5.1.1", BW_REASON_USER_UNKNOWN},
        {"4.1.1", BW_REASON_USER_UNKNOWN},
        {"5.1.2", BW_REASON_HOST_UNKNOWN},
        {"5.4.4", BW_REASON_HOST_UNKNOWN},
        {"5.2.2", BW_REASON_MAILBOX_FULL},
        {"4.2.2", BW_REASON_MAILBOX_FULL},
        {"5.3.4", BW_REASON_MESSAGE_TOO_LARGE},
        {"5.2.3", BW_REASON_MESSAGE_TOO_LARGE},
        {"5.4.7", BW_REASON_EXPIRED},
        {"4.4.1", BW_REASON_NETWORK_ERROR},
        {"5.4.6", BW_REASON_NETWORK_ERROR},
        {"5.7.1", BW_REASON_BLOCKED},
        {"5.7.26", BW_REASON_AUTH_FAILURE},
        {"5.7.23", BW_REASON_AUTH_FAILURE},
        {"5.7.13", BW_REASON_SUSPENDED},
        {"5.7.10", BW_REASON_TLS_ERROR},
        {"5.6.0", BW_REASON_CONTENT_REJECTED},
        {"5.3.0", BW_REASON_SYSTEM_ERROR},
        {"2.0.0", BW_REASON_DELIVERED},
        {"2.1.5", BW_REASON_DELIVERED},
        {"5.0.0", BW_REASON_UNKNOWN},    /* says nothing */
        {"5.5.0", BW_REASON_UNKNOWN},    /* the catch-all of many servers */
        {"5.9.99", BW_REASON_UNKNOWN},
        {"192.0.2.1", BW_REASON_UNKNOWN},
        {"5.1", BW_REASON_UNKNOWN},
        {"x.1.1", BW_REASON_UNKNOWN},
        {"", BW_REASON_UNKNOWN},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        ck_assert_msg(bw_reason_from_status(cases[i].code) == cases[i].reason,
                      "%s gave %s", cases[i].code,
                      bw_reason_to_string(bw_reason_from_status(cases[i].code)));
    ck_assert_int_eq(bw_reason_from_status(NULL), BW_REASON_UNKNOWN);
}
END_TEST

/* ------------------------------------------------------------ phrases */

START_TEST(test_reason_from_text_languages)
{
    struct { const char *text; bw_reason_t reason; } cases[] = {
        /* English, as real servers write it */
        {"550 5.1.1 <a@b.example>: Recipient address rejected: User unknown in virtual mailbox table",
         BW_REASON_USER_UNKNOWN},
        {"The email account that you tried to reach does not exist.", BW_REASON_USER_UNKNOWN},
        {"Sorry, I couldn't find any host named gmail.con. (#5.1.2)", BW_REASON_HOST_UNKNOWN},
        {"Host or domain name not found. Name service error for name=example.con",
         BW_REASON_HOST_UNKNOWN},
        {"552 5.2.2 The email account that you tried to reach is over quota.",
         BW_REASON_MAILBOX_FULL},
        {"552 Message size exceeds fixed maximum message size", BW_REASON_MESSAGE_TOO_LARGE},
        {"Retry timeout exceeded", BW_REASON_EXPIRED},
        {"554 Message rejected: virus found (Eicar-Test-Signature)", BW_REASON_VIRUS},
        {"550 Maximum line length exceeded (see RFC 5322 2.1.1).", BW_REASON_CONTENT_REJECTED},
        {"554 5.7.1 Message rejected because it was identified as spam", BW_REASON_SPAM},
        {"554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
         BW_REASON_BLOCKED},
        {"554 5.7.1 <a@b.example>: Relay access denied", BW_REASON_POLICY},
        {"550 5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy",
         BW_REASON_AUTH_FAILURE},
        {"550 5.2.1 The email account that you tried to reach is disabled.", BW_REASON_SUSPENDED},
        {"421 4.7.0 Try again later, closing connection. (rate limit exceeded)",
         BW_REASON_RATE_LIMITED},
        {"connect to mx.example.org[192.0.2.9]:25: Connection timed out", BW_REASON_NETWORK_ERROR},
        {"530 5.7.0 Must issue a STARTTLS command first", BW_REASON_TLS_ERROR},
        {"451 4.3.0 Error: queue file write error; internal error", BW_REASON_SYSTEM_ERROR},
        {"I am out of the office until Monday.", BW_REASON_VACATION},
        /* Exchange's typographic apostrophe */
        {"The email address wasn\u2019t found at the destination domain.",
         BW_REASON_USER_UNKNOWN},
        /* Japanese */
        {"この宛先は存在しません", BW_REASON_USER_UNKNOWN},
        {"宛先不明のため配信できませんでした", BW_REASON_USER_UNKNOWN},
        {"メールボックスの容量がいっぱいです", BW_REASON_MAILBOX_FULL},
        {"ウイルスが検出されました", BW_REASON_VIRUS},
        {"迷惑メールと判定されました", BW_REASON_SPAM},
        /* German, French, Spanish, Portuguese, Russian */
        {"Empfänger unbekannt", BW_REASON_USER_UNKNOWN},
        {"Das Postfach ist voll", BW_REASON_MAILBOX_FULL},
        {"Utilisateur inconnu", BW_REASON_USER_UNKNOWN},
        {"Boîte aux lettres pleine", BW_REASON_MAILBOX_FULL},
        {"Usuario desconocido", BW_REASON_USER_UNKNOWN},
        {"El buzón está lleno", BW_REASON_MAILBOX_FULL},
        {"Caixa postal cheia", BW_REASON_MAILBOX_FULL},
        {"Нет такого пользователя", BW_REASON_USER_UNKNOWN},
        {"Почтовый ящик переполнен", BW_REASON_MAILBOX_FULL},
        /* nothing known */
        {"Nyaan", BW_REASON_UNKNOWN},
        {"", BW_REASON_UNKNOWN},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        bw_reason_t got = bw_reason_from_text(cases[i].text, strlen(cases[i].text));
        ck_assert_msg(got == cases[i].reason, "\"%s\" gave %s, want %s", cases[i].text,
                      bw_reason_to_string(got), bw_reason_to_string(cases[i].reason));
    }
    ck_assert_int_eq(bw_reason_from_text(NULL, 10), BW_REASON_UNKNOWN);
}
END_TEST

/* Every failure reason of SPEC.md can come out of the tables. */
START_TEST(test_reason_every_reason_reachable)
{
    const char *samples[BW_REASON_LAST] = {
        [BW_REASON_USER_UNKNOWN] = "no such user",
        [BW_REASON_HOST_UNKNOWN] = "domain not found",
        [BW_REASON_MAILBOX_FULL] = "mailbox full",
        [BW_REASON_MESSAGE_TOO_LARGE] = "message too large",
        [BW_REASON_CONTENT_REJECTED] = "line too long",
        [BW_REASON_VIRUS] = "virus",
        [BW_REASON_SPAM] = "detected as spam",
        [BW_REASON_BLOCKED] = "blacklisted",
        [BW_REASON_POLICY] = "relaying denied",
        [BW_REASON_AUTH_FAILURE] = "spf check failed",
        [BW_REASON_SUSPENDED] = "account has been disabled",
        [BW_REASON_RATE_LIMITED] = "too many connections",
        [BW_REASON_NETWORK_ERROR] = "connection refused",
        [BW_REASON_EXPIRED] = "message expired",
        [BW_REASON_SYSTEM_ERROR] = "local error in processing",
        [BW_REASON_TLS_ERROR] = "tls handshake failed",
        [BW_REASON_VACATION] = "on vacation",
    };
    for (int r = BW_REASON_USER_UNKNOWN; r < BW_REASON_LAST; r++) {
        if (samples[r] == NULL)
            continue;   /* feedback, delivered: decided by report type, not text */
        ck_assert_msg(bw_reason_from_text(samples[r], strlen(samples[r])) == (bw_reason_t)r,
                      "%s not reached by \"%s\"", bw_reason_to_string(r), samples[r]);
        if (r != BW_REASON_VACATION) {
            const char *code = bw_status_from_reason(r, '5');
            ck_assert_msg(code != NULL && code[0] == '5', "no code for %s",
                          bw_reason_to_string(r));
        }
    }
    ck_assert_str_eq(bw_status_from_reason(BW_REASON_DELIVERED, '5'), "2.0.0");
    ck_assert_ptr_null(bw_status_from_reason(BW_REASON_VACATION, '5'));
}
END_TEST

/* ------------------------------------------------------------ decision */

START_TEST(test_reason_decide_precedence)
{
    struct {
        const char *status, *reply, *diag, *action;
        bw_reason_t want;
    } cases[] = {
        /* a specific phrase beats a weak code */
        {"5.7.1", "554", "Message rejected as spam by Content Filtering", "failed", BW_REASON_SPAM},
        {"5.7.1", "554", "Relay access denied", "failed", BW_REASON_POLICY},
        /* a strong code beats an ordinary phrase */
        {"5.1.1", "550", "Requested action not taken: mailbox unavailable", "failed",
         BW_REASON_USER_UNKNOWN},
        {"5.2.2", "552", "Requested action aborted: exceeded storage allocation", "failed",
         BW_REASON_MAILBOX_FULL},
        /* x.0.0 says nothing: the code inside the diagnostic counts */
        {"5.0.0", "550", "550 5.2.2 <a@b.example>... Mailbox Full", "failed",
         BW_REASON_MAILBOX_FULL},
        /* no code at all: the text, then the reply code */
        {NULL, NULL, "Sorry, no mailbox here by that name. (#5.1.1)", "failed",
         BW_REASON_USER_UNKNOWN},
        {NULL, "552", NULL, "failed", BW_REASON_MAILBOX_FULL},
        {NULL, NULL, NULL, NULL, BW_REASON_UNKNOWN},
        /* delivered wins over everything */
        {"5.1.1", "550", "user unknown", "delivered", BW_REASON_DELIVERED},
        {"2.0.0", "250", "ok", NULL, BW_REASON_DELIVERED},
        /* a temporary failure that became final: the queue expired */
        {"4.4.1", NULL, "connect to mx.example.org: Connection timed out", "failed",
         BW_REASON_EXPIRED},
        /* a delay keeps a temporary cause, otherwise it is waiting: expired */
        {"4.4.1", NULL, "connect to mx.example.org: Connection timed out", "delayed",
         BW_REASON_NETWORK_ERROR},
        {"4.2.2", "452", "mailbox full", "delayed", BW_REASON_MAILBOX_FULL},
        {"4.7.1", "450", "Recipient address rejected: Greylisted", "delayed", BW_REASON_EXPIRED},
        /* a temporary failure with a clear cause in the text keeps it */
        {"4.4.5", "452", "452 4.4.5 Insufficient disk space; try again later", "failed",
         BW_REASON_SYSTEM_ERROR},
        {"4.3.0", "451", "451 4.3.0 Error: queue file write error", "failed", BW_REASON_SYSTEM_ERROR},
        /* phrases of real server families */
        {"5.0.0", NULL, "DNS lookup failure: host mx.typo.example not found", "failed",
         BW_REASON_HOST_UNKNOWN},
        {NULL, NULL, "an MX or SRV record indicated no SMTP service", "failed",
         BW_REASON_HOST_UNKNOWN},
        {"5.4.1", "550", "550 5.4.1 All recipient addresses rejected : Access denied", "failed",
         BW_REASON_USER_UNKNOWN},
        {NULL, NULL, "Message could not be delivered to mobile. Error: No valid recipients for this MM",
         "failed", BW_REASON_USER_UNKNOWN},
        {"5.2.0", "550", "550 5.2.0 Message Filtered", "failed", BW_REASON_CONTENT_REJECTED},
        {"5.5.0", "554", "554 mx.example.com ESMTP not accepting connections", "failed",
         BW_REASON_BLOCKED},
        {"5.0.0", NULL, "ユーザーTaro (taro@example.jp) は Domino ディレクトリには見つかりません。", "failed",
         BW_REASON_USER_UNKNOWN},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        bw_reason_t got = bw_reason_decide(cases[i].status, cases[i].reply, cases[i].diag,
                                           cases[i].action);
        ck_assert_msg(got == cases[i].want, "case %zu (%s, %s) gave %s, want %s", i,
                      cases[i].status, cases[i].diag, bw_reason_to_string(got),
                      bw_reason_to_string(cases[i].want));
    }
}
END_TEST

START_TEST(test_status_from_reply_code)
{
    ck_assert_str_eq(bw_status_from_reply_code("550", BW_REASON_USER_UNKNOWN), "5.1.1");
    ck_assert_str_eq(bw_status_from_reply_code("452", BW_REASON_MAILBOX_FULL), "4.2.2");
    ck_assert_str_eq(bw_status_from_reply_code("552", BW_REASON_UNKNOWN), "5.2.2");
    ck_assert_str_eq(bw_status_from_reply_code("554", BW_REASON_UNKNOWN), "5.0.0");
    ck_assert_str_eq(bw_status_from_reply_code("421", BW_REASON_RATE_LIMITED), "4.4.5");
    ck_assert_str_eq(bw_status_from_reply_code("250", BW_REASON_UNKNOWN), "2.0.0");
    ck_assert_ptr_null(bw_status_from_reply_code("abc", BW_REASON_UNKNOWN));
    ck_assert_ptr_null(bw_status_from_reply_code("650", BW_REASON_UNKNOWN));
    ck_assert_ptr_null(bw_status_from_reply_code(NULL, BW_REASON_USER_UNKNOWN));
}
END_TEST

START_TEST(test_find_status)
{
    struct { const char *text, *want; } cases[] = {
        {"Remote host said: 550 5.1.1 <a@b.example>... User Unknown", "5.1.1"},
        {"Unable to contact LDAP server. (#4.4.3)", "4.4.3"},
        {"550-5.7.26 Unauthenticated email", "5.7.26"},
        {"ERROR_CODE :5.2.2 <a@b>", "5.2.2"},
        /* IP addresses, versions and dates are not codes */
        {"remote host 192.0.2.153 said", NULL},
        {"Exim 4.96 at 2025.03.03", NULL},
        {"(8.15.2/8.15.1) v5.1.1a", NULL},
        /* a failure code beats the success codes of a transcript */
        {"Out: 250 2.1.5 Ok\nOut: 451 4.3.0 Error", "4.3.0"},
        {"Out: 250 2.0.0 Ok", "2.0.0"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = bw_status_code_find(cases[i].text, strlen(cases[i].text));
        if (cases[i].want == NULL)
            ck_assert_msg(got == NULL, "\"%s\" gave %s", cases[i].text, got);
        else
            ck_assert_msg(got != NULL && strcmp(got, cases[i].want) == 0, "\"%s\" gave %s",
                          cases[i].text, got);
    }
}
END_TEST

Suite *
suite_reason(void)
{
    Suite *s = suite_create("reason");
    TCase *tc = tcase_create("matcher");
    tcase_add_test(tc, test_matcher_basic);
    tcase_add_test(tc, test_matcher_stop_and_nul);
    tcase_add_test(tc, test_matcher_hostile);
    tcase_add_test(tc, test_matcher_prebuilt);
    tcase_add_test(tc, test_matcher_prebuilt_as_runtime);
    suite_add_tcase(s, tc);
    tc = tcase_create("tables");
    tcase_add_test(tc, test_reason_from_status);
    tcase_add_test(tc, test_reason_from_text_languages);
    tcase_add_test(tc, test_reason_every_reason_reachable);
    tcase_add_test(tc, test_reason_decide_precedence);
    tcase_add_test(tc, test_status_from_reply_code);
    tcase_add_test(tc, test_find_status);
    suite_add_tcase(s, tc);
    return s;
}
