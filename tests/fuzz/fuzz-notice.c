/* fuzz-notice.c: the provider JSON notices (Amazon SES/SNS), fed JSON.
 *
 * fuzz-options: -max_len=65536 -timeout=10
 * fuzz-dict: notice.dict
 *
 * The input is the JSON text of a notice.  A provider sends it as the
 * body of a mail; fuzz-parse would have to find the JSON inside mail
 * first, so most of its mutations never reach the JSON reader.  Here the
 * mutations are the JSON's own, and the target puts the mail around it:
 *   1. the JSON caps alone: bw_caps_check_json() (what stands before
 *      json-glib).  When it passes the text, json-glib must build a tree
 *      within the caps: no deeper than BW_MAX_JSON_DEPTH, no more than
 *      BW_MAX_JSON_VALUES values and names (the caps count what json-glib
 *      builds, or a bomb gets past them);
 *   2. the JSON as the body of each provider's notice mail (the senders,
 *      subjects and headers below), through bw_parse_bytes() and the checks
 *      of a parse line (bw_fuzz_check_report); a refusal by a cap must be
 *      BW_E_REFUSED with a detail naming the cap.
 * A provider reader added to the vendor code gets a row in `providers`. */
#include "fuzz-common.h"
#include "bw-private.h"
#include <string.h>

typedef struct {
    const char *name;
    const char *head;      /* the mail's header block, up to the blank line */
    const char *tail;      /* what the provider writes after the JSON */
} provider_t;

static const provider_t providers[] = {
    /* SES through an SNS e-mail subscription: the notification as the whole
     * text body, then SNS's unsubscribe footer. */
    {"sns",
     "From: AWS Notifications <no-reply@sns.amazonaws.com>\n"
     "To: ops@example.org\n"
     "Subject: AWS Notification Message\n"
     "Date: Mon, 3 Mar 2025 10:00:12 +0000\n"
     "Message-ID: <0100018f-fuzz@email.amazonses.com>\n"
     "x-amz-sns-message-id: 0b9a1c9e-0000-4000-8000-000000000001\n"
     "MIME-Version: 1.0\n"
     "Content-Type: text/plain; charset=UTF-8\n"
     "Content-Transfer-Encoding: 8bit\n",
     "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or "
     "visit the link below to unsubscribe:\nhttps://sns.us-east-1.amazonaws.com/unsubscribe.html\n"},
    /* SES feedback forwarding from its own domain, without the footer. */
    {"ses",
     "From: MAILER-DAEMON@email-bounces.amazonses.com\n"
     "To: ops@example.org\n"
     "Subject: Delivery Status Notification (Failure)\n"
     "Date: Mon, 3 Mar 2025 10:00:12 +0000\n"
     "X-SES-Outgoing: 2025.03.03-54.240.0.1\n"
     "Content-Type: text/plain; charset=us-ascii\n",
     "\n"},
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bw_fuzz_init("fuzz-notice");
    return 0;
}

/* Depth and number of values and member names of a json-glib tree, counted
 * as bw_caps_check_json counts them (a scalar or a container is one value,
 * a member name another).  Bounded: a tree deeper than the cap is reported
 * as soon as the walk passes the cap. */
static void
measure(JsonNode *node, unsigned depth, unsigned *max_depth, size_t *values)
{
    (*values)++;
    if (JSON_NODE_HOLDS_OBJECT(node) || JSON_NODE_HOLDS_ARRAY(node)) {
        depth++;
        if (depth > *max_depth)
            *max_depth = depth;
        if (depth > BW_MAX_JSON_DEPTH)
            return;
    }
    if (JSON_NODE_HOLDS_OBJECT(node)) {
        JsonObjectIter it;
        const char *name;
        JsonNode *member;
        json_object_iter_init(&it, json_node_get_object(node));
        while (json_object_iter_next(&it, &name, &member)) {
            (*values)++;
            measure(member, depth, max_depth, values);
        }
    } else if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray *a = json_node_get_array(node);
        guint n = json_array_get_length(a);
        for (guint i = 0; i < n; i++)
            measure(json_array_get_element(a, i), depth, max_depth, values);
    }
}

static void
check_caps(const char *text, size_t len)
{
    char *why = NULL;
    bw_status_t st = bw_caps_check_json(text, len, &why);
    if (st == BW_E_REFUSED) {
        if (why == NULL || strstr(why, "BW_MAX_JSON_") == NULL)
            bw_fuzz_fail("a JSON refusal that names no cap: %s", why ? why : "(none)");
        g_free(why);
        return;
    }
    if (why != NULL)
        bw_fuzz_fail("bw_caps_check_json gave a detail with status %d", st);
    if (st != BW_OK)
        return;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, text, (gssize)len, NULL))
        return;     /* stricter than the caps (e.g. a lone surrogate): not read */
    JsonNode *root = json_parser_get_root(parser);
    if (root == NULL)
        return;
    unsigned max_depth = 0;
    size_t values = 0;
    measure(root, 0, &max_depth, &values);
    if (max_depth > BW_MAX_JSON_DEPTH || values > BW_MAX_JSON_VALUES)
        bw_fuzz_fail("the caps passed JSON that json-glib reads %u deep with %zu values",
                     max_depth, values);
}

static void
check_notice(const provider_t *p, const uint8_t *data, size_t size)
{
    size_t hl = strlen(p->head), tl = strlen(p->tail);
    g_autofree char *mail = g_malloc(hl + 1 + size + tl);
    memcpy(mail, p->head, hl);
    mail[hl] = '\n';
    memcpy(mail + hl + 1, data, size);
    memcpy(mail + hl + 1 + size, p->tail, tl);
    bw_report_t *report = NULL;
    char *detail = NULL;
    bw_status_t st = bw_parse_bytes(mail, hl + 1 + size + tl, &report, &detail);
    if (st == BW_OK) {
        if (report == NULL)
            bw_fuzz_fail("%s: BW_OK without a report", p->name);
        bw_fuzz_check_report(report, p->name, -1, NULL);
    } else {
        /* SPEC section 1: a refusal names the cap. */
        if (st == BW_E_REFUSED && (detail == NULL || strstr(detail, "(limit BW_MAX_") == NULL))
            bw_fuzz_fail("%s: a refusal that names no cap: %s", p->name, detail ? detail : "(none)");
        bw_fuzz_check_report(NULL, p->name, -1, detail ? detail : bw_status_to_string(st));
    }
    bw_report_free(report);
    g_free(detail);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_caps((const char *)data, size);
    for (size_t i = 0; i < G_N_ELEMENTS(providers); i++)
        check_notice(&providers[i], data, size);
    return 0;
}
