/* fuzz-signals.c: the signals core (bw-signals.h), from bytes to assessment.
 *
 * fuzz-options: -max_len=200000 -timeout=10
 * fuzz-dict: mail.dict
 *
 * The input is split into up to 64 messages at mbox "From " lines
 * (attacker-written mail, as a mailbox holds it), and every one goes
 * through everything the signals core does with mail:
 *   - bw_mailfacts_read(), the notice judge and the reply judge against a
 *     fixed account, the facts' JSON and its reload (which must give the
 *     same JSON again: the state store keeps facts that way);
 *   - what the reader process answers for it (bw_reader_read_json): the
 *     notable-only read must give the full read's facts or nothing, and
 *     every answer must pass the parent's payload check;
 *   - bw_sent_summary_read() and its JSON round trip, and the state's row
 *     text read back by bw_sent_summary_from_row (the message's own bytes
 *     too, as a damaged row: refused, or read as json-glib reads them);
 *   - the same strict reader on the reader's answers, as the parent's
 *     signals stage decodes a sent summary's answer (scan-signals.c
 *     decode_summary): the real answer, and the message's own bytes as a
 *     hostile reader's answer when they pass the parent's payload check;
 *     what it takes must be what json-glib (bw_reader_payload_parse_checked)
 *     and bw_sent_summary_from_json make of the same bytes;
 *   - bw_sent_mail_read() (what the sender profile learns from a sent
 *     message), its JSON round trip (the reader process sends it so) and
 *     the profile fed with it;
 *   - all summaries (claimed to be the owner's) through
 *     bw_sent_anomalies_find(), every signal through the assessment, the
 *     timeline and the signal JSON round trip.
 * A crash, a sanitizer report, a leak, a GLib critical or a run past
 * -timeout is a finding. */
#include "fuzz-common.h"
#include "bw-signals.h"
#include "bw-reader.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bw_account_t *account;
static const char *owners[] = { "jonas.weber@mailhost.example", "j@weber-design.example", NULL };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bw_fuzz_init("fuzz-signals");
    const char *prov[] = { "mailhost.example", "gmail.com", NULL };
    account = bw_account_new(owners, prov);
    return 0;
}

/* The JSON text, checked as every JSON line we print (bw_fuzz_json_text);
 * the node is consumed. */
static char *
json_text(JsonNode *n, const char *what)
{
    char *s = bw_fuzz_json_text(n, what);
    json_node_unref(n);
    return s;
}

static bool
op_has_sent(void *ctx)
{
    (void)ctx;
    return true;
}

static bool
op_has_id(void *ctx, const char *id)
{
    (void)ctx;
    return id && (id[0] & 1);
}

static bool
op_sent_has(void *ctx, const char *id, gint64 *d)
{
    (void)ctx;
    (void)d;
    return id && (id[0] & 2);
}

static unsigned
op_from(void *ctx, const char *a)
{
    (void)ctx;
    return a ? (unsigned)(strlen(a) % 3) : 0;
}

/* `text` (`len` bytes, NUL-terminated) read by bw_sent_summary_from_row,
 * when it takes it, against json-glib's reading of the same bytes: as a
 * stored row (json_parse: up to the NUL) or as a reader's answer that
 * passed the payload check (length-bounded, as read_list parses it). */
static void
strict_vs_glib(const char *text, size_t len, bool answer, const char *what)
{
    if (answer && strlen(text) != len)
        return;     /* decode_summary leaves such an answer to json-glib */
    bw_sent_summary_t *fast = bw_sent_summary_from_row(text);
    if (fast == NULL)
        return;
    bw_sent_summary_t *slow = NULL;
    JsonNode *root = NULL;
    if (answer) {
        if (bw_reader_payload_parse_checked(text, len, &root, NULL) != BW_OK)
            root = NULL;
    } else {
        g_autoptr(JsonParser) jp = json_parser_new_immutable();
        if (json_parser_load_from_data(jp, text, -1, NULL) && json_parser_get_root(jp) != NULL)
            root = json_node_copy(json_parser_get_root(jp));
    }
    if (root == NULL || bw_sent_summary_from_json(root, &slow, NULL) != BW_OK || slow == NULL) {
        fprintf(stderr, "fuzz-signals: strict %s reader took what json-glib refuses: %.400s\n",
                what, text);
        abort();
    }
    char *f = json_text(bw_sent_summary_to_json(fast), "fast-read row");
    char *g = json_text(bw_sent_summary_to_json(slow), "json-glib row");
    if (strcmp(f, g) != 0) {
        fprintf(stderr, "fuzz-signals: strict %s reader differs:\n  %.400s\n  %.400s\n", what,
                f, g);
        abort();
    }
    g_free(f);
    g_free(g);
    json_node_unref(root);
    bw_sent_summary_free(slow);
    bw_sent_summary_free(fast);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    g_autoptr(bw_profile_t) profile = bw_profile_new(owners, NULL);
    GPtrArray *facts = g_ptr_array_new_with_free_func((GDestroyNotify)bw_mailfacts_free);
    GPtrArray *sent = g_ptr_array_new_with_free_func((GDestroyNotify)bw_sent_summary_free);
    GPtrArray *signals = g_ptr_array_new_with_free_func((GDestroyNotify)bw_signal_free);
    GPtrArray *phish = g_ptr_array_new_with_free_func((GDestroyNotify)bw_phish_free);
    size_t start = 0;
    for (unsigned part = 0; part < 64 && start < size; part++) {
        size_t end = size;
        for (size_t i = start + 1; i + 5 < size; i++)
            if (text[i - 1] == '\n' && memcmp(text + i, "From ", 5) == 0) {
                end = i;
                break;
            }
        const char *msg = text + start;
        size_t len = end - start;
        start = end;

        /* the reader's answers: the payload check the parent makes, and
         * the notable-only read against the full one */
        char *answer[3] = { NULL, NULL, NULL };
        static const guint32 reads[3] = { BW_READER_FACTS, BW_READER_NOTABLE_FACTS,
                                          BW_READER_SENT_SUMMARY };
        for (int r = 0; r < 3; r++)
            if (bw_reader_read_json(reads[r], msg, len, &answer[r], NULL) == BW_OK &&
                answer[r] != NULL &&
                bw_reader_payload_check(answer[r], strlen(answer[r]), NULL) != BW_OK) {
                fprintf(stderr, "fuzz-signals: answer %d fails the check: %.400s\n", r, answer[r]);
                abort();
            }
        if (answer[1] != NULL && (answer[0] == NULL || strcmp(answer[0], answer[1]) != 0)) {
            fprintf(stderr, "fuzz-signals: notable read differs:\n  %.400s\n  %.400s\n",
                    answer[0] ? answer[0] : "(none)", answer[1]);
            abort();
        }
        if (answer[2] != NULL)
            strict_vs_glib(answer[2], strlen(answer[2]), true, "answer");
        for (int r = 0; r < 3; r++)
            g_free(answer[r]);

        bw_mailfacts_t *m = NULL;
        if (bw_mailfacts_read(msg, len, &m, NULL) == BW_OK) {
            if (m == NULL)
                abort();
            JsonNode *n = bw_mailfacts_to_json(m);
            bw_mailfacts_t *back = NULL;
            if (bw_mailfacts_from_json(n, &back, NULL) != BW_OK)
                abort();    /* our own JSON must load */
            char *a = json_text(n, "facts");
            char *b = json_text(bw_mailfacts_to_json(back), "reloaded facts");
            if (strcmp(a, b) != 0) {
                fprintf(stderr, "fuzz-signals: reloaded facts differ:\n  %.400s\n  %.400s\n", a, b);
                abort();
            }
            g_free(a);
            g_free(b);
            bw_mailfacts_free(back);
            bw_signal_t *s = NULL;
            bw_phish_t *p = NULL;
            bw_notice_class_t c = bw_notice_judge(m, account, "fuzz.eml", &s, &p);
            if ((c == BW_NOTICE_SIGNAL) != (s != NULL) || (c == BW_NOTICE_PHISHING) != (p != NULL))
                abort();
            if (s)
                g_ptr_array_add(signals, s);
            if (p) {
                g_free(json_text(bw_phish_to_json(p, 0), "phishing"));
                g_ptr_array_add(phish, p);
            }
            g_ptr_array_add(facts, m);
        }
        /* the message's bytes as a stored row (a damaged state): the fast
         * reader refuses it or reads what json-glib reads */
        {
            char *rowtext = g_strndup(msg, len);
            strict_vs_glib(rowtext, strlen(rowtext), false, "row");
            /* ... and as a hostile reader's answer (reader.c hands on
             * only what passes the check, NUL-terminated) */
            if (bw_reader_payload_check(msg, len, NULL) == BW_OK)
                strict_vs_glib(rowtext, len, true, "answer");
            g_free(rowtext);
        }
        bw_sent_summary_t *ss = NULL;
        if (bw_sent_summary_read(msg, len, &ss, NULL) == BW_OK) {
            JsonNode *n = bw_sent_summary_to_json(ss);
            bw_sent_summary_t *back = NULL;
            if (bw_sent_summary_from_json(n, &back, NULL) != BW_OK)
                abort();
            char *a = json_text(n, "sent summary");
            char *b = json_text(bw_sent_summary_to_json(back), "reloaded sent summary");
            if (strcmp(a, b) != 0)
                abort();
            /* the state's row text, and its fast reader (which may refuse
             * a row, never read it otherwise than json-glib does) */
            char *row = bw_sent_summary_to_json_text(ss);
            bw_sent_summary_t *fast = bw_sent_summary_from_row(row);
            if (fast != NULL) {
                char *f = json_text(bw_sent_summary_to_json(fast), "fast-read sent row");
                if (strcmp(a, f) != 0)
                    abort();
                g_free(f);
                bw_sent_summary_free(fast);
            }
            g_free(row);
            g_free(a);
            g_free(b);
            bw_sent_summary_free(back);
            /* the summaries are the owner's mail */
            g_free(ss->from);
            ss->from = g_strdup("jonas.weber@mailhost.example");
            if (ss->date_unix == 0)
                ss->date_unix = 1790000000 + (gint64)part * 600;
            g_ptr_array_add(sent, ss);
        }
        /* what the sender profile learns from a sent message, its JSON
         * (the reader process sends it that way) and the profile fed */
        bw_sent_mail_t *sm = NULL;
        if (bw_sent_mail_read(msg, len, &sm, NULL) == BW_OK) {
            if (sm == NULL)
                abort();
            JsonNode *n = bw_sent_mail_to_json(sm);
            bw_sent_mail_t *back = NULL;
            if (bw_sent_mail_from_json(n, &back, NULL) != BW_OK)
                abort();
            char *a = json_text(n, "sent mail");
            char *b = json_text(bw_sent_mail_to_json(back), "reloaded sent mail");
            if (strcmp(a, b) != 0)
                abort();
            g_free(a);
            g_free(b);
            bw_sent_mail_feed(profile, back);
            bw_sent_mail_free(back);
            bw_sent_mail_free(sm);
        }
    }
    bw_mailbox_ops_t ops = { 0 };
    ops.has_sent_mail = op_has_sent;
    ops.has_message_id = op_has_id;
    ops.sent_has_message_id = op_sent_has;
    ops.received_from_count = op_from;
    GPtrArray *runs = NULL;
    if (bw_sent_anomalies_find(sent, account, &ops, &runs) != BW_OK || runs == NULL)
        abort();
    bw_reply_context_t ctx = { runs, &ops };
    for (guint i = 0; i < facts->len; i++) {
        bw_signal_t *r = NULL;
        if (bw_reply_judge(g_ptr_array_index(facts, i), account, &ctx, "fuzz.eml", &r))
            g_ptr_array_add(signals, r);
    }
    while (runs->len)
        g_ptr_array_add(signals, g_ptr_array_steal_index(runs, 0));
    g_ptr_array_unref(runs);
    g_ptr_array_sort(signals, bw_signal_compare);
    for (guint i = 0; i < signals->len; i++) {
        JsonNode *n = bw_signal_to_json(g_ptr_array_index(signals, i), 3600);
        bw_signal_t *back = NULL;
        if (bw_signal_from_json(n, &back, NULL) != BW_OK)
            abort();
        json_node_unref(n);
        bw_signal_free(back);
    }
    bw_signals_assessment_t *sa = NULL;
    if (bw_signals_assess(signals, "jonas.weber@mailhost.example", size % 2, &sa) != BW_OK)
        abort();
    bw_signals_assessment_free(sa);
    GPtrArray *tl = bw_signals_timeline(signals, phish, 32400);
    g_ptr_array_unref(tl);
    g_ptr_array_unref(facts);
    g_ptr_array_unref(sent);
    g_ptr_array_unref(signals);
    g_ptr_array_unref(phish);
    return 0;
}
