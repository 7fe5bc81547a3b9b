/* autoreply.c: anti-virus notices, challenge-response requests and
 * auto-replies (RFC 3834, vacation / out-of-office in several languages).
 *
 * These run last, after the DSN, ARF and vendor detectors, and only on the
 * report's own words (subject, headers, the first lines of its text: never
 * an attached or quoted original).  Ordinary mail must stay ordinary: a
 * phrase in the body alone never decides; it needs a header that says the
 * message is automatic, or a subject that says so, and mailing-list mail
 * needs an explicit auto-reply header. */
#include "bw-parse.h"
#include "bw-vendor.h"
#include <string.h>

/* Phrases are data: extend the tables, not the code.  All are matched
 * ASCII-case-insensitively as substrings (UTF-8 ones byte-exactly). */

/* Subject prefixes / phrases of auto-replies. */
static const char *const autoreply_subjects[] = {
    "auto:", "autoreply", "auto reply", "auto-reply", "auto response", "auto-response",
    "autoresponse", "automatic reply", "automatic response", "automated reply",
    "out of office", "out of the office", "out-of-office", "ooo:", "vacation reply",
    "on vacation", "away from the office", "away from my desk", "abwesenheit",
    "automatische antwort", "automatische antwort", "abwesenheitsnotiz",
    "réponse automatique", "reponse automatique", "absence du bureau",
    "respuesta automática", "respuesta automatica", "fuera de la oficina",
    "risposta automatica", "fuori sede", "fuori ufficio", "automatisch antwoord",
    "afwezigheid", "resposta automática", "resposta automatica", "autosvar",
    "automaattinen vastaus", "automatyczna odpowiedź", "автоответ",
    "автоматический ответ", "自動応答", "自動返信", "自動送信", "不在のお知らせ",
    "不在通知", "休暇のお知らせ", "自动回复", "자동 응답",
};

/* Body phrases of vacation / out-of-office text (first lines only). */
static const char *const autoreply_bodies[] = {
    "out of the office", "out of office", "on vacation", "on holiday", "on leave",
    "away from the office", "away from my desk", "currently away", "i am away",
    "i'm away", "limited access to e-mail", "limited access to email",
    "i will be back", "i'll be back", "will be back in the office", "annual leave",
    "return to the office", "returning to the office", "respond to your message",
    "will respond to you", "get back to you", "automatically generated reply",
    "this is an automatic reply", "this is an automated reply", "auto-reply",
    "nicht im büro", "abwesend", "außer haus", "ausser haus", "je suis absent",
    "absent du bureau", "en congés", "en conges", "estoy fuera", "de vacaciones",
    "fuera de la oficina", "sono fuori", "fuori ufficio", "ben afwezig",
    "不在にして", "不在のため", "休暇を", "休暇中", "お休みを", "外出して", "出張して",
    "自動返信", "自動応答",
};

/* Virus notices: subject phrases (and body ones, checked with an automatic
 * sender). */
static const char *const virus_phrases[] = {
    "virus found", "virus detected", "virus alert", "virus warning", "virus notification",
    "virus in message", "virus in your mail", "infected attachment", "contained a virus",
    "contains a virus", "containing a virus", "malware detected", "infected with",
    "banned contents alert", "virus infected", "ウイルス", "ウィルス",
};

/* Challenge-response requests. */
static const char *const challenge_phrases[] = {
    "please confirm your message", "confirm your email", "verify your email",
    "sender verification", "verification required", "authentication required",
    "awaiting your confirmation", "awaiting verification", "requires verification",
    "please verify", "spam protection", "challenge-response", "challenge response",
    "i use a spam", "approve your message", "to ensure delivery",
    "is protected by", "confirm that you are a real person", "not a robot",
};

/* Headers that name challenge-response systems. */
static const char *const challenge_headers[] = {
    "X-Boxbe-Challenge", "X-ChoiceMail-Registration-Request", "X-Spam-Arrest",
    "X-SpamArrest-Response", "X-Mailblocks", "X-Bluebottle-Request",
    "X-Challenge-Response", "X-Sanebox-Challenge", "X-Permission-Request",
};

/* Each table becomes one Aho-Corasick automaton (vendor-match.c), built
 * once: a text is read once per table whatever the number of phrases. */
enum { T_AUTOREPLY_SUBJECT, T_AUTOREPLY_BODY, T_VIRUS, T_CHALLENGE, T_COUNT };
static bw_matcher_t *matchers[T_COUNT];

static void
matchers_init(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        matchers[T_AUTOREPLY_SUBJECT] = bw_matcher_new(autoreply_subjects, G_N_ELEMENTS(autoreply_subjects));
        matchers[T_AUTOREPLY_BODY] = bw_matcher_new(autoreply_bodies, G_N_ELEMENTS(autoreply_bodies));
        matchers[T_VIRUS] = bw_matcher_new(virus_phrases, G_N_ELEMENTS(virus_phrases));
        matchers[T_CHALLENGE] = bw_matcher_new(challenge_phrases, G_N_ELEMENTS(challenge_phrases));
        g_once_init_leave(&once, 1);
    }
}

static bool
stop_at_first(size_t id, size_t start, size_t end, void *data)
{
    (void)id;
    (void)start;
    (void)end;
    *(bool *)data = true;
    return false;
}

static bool
any_phrase(const char *text, size_t len, int table)
{
    if (text == NULL || len == 0)
        return false;
    bool found = false;
    bw_matcher_scan(matchers[table], text, len, stop_at_first, &found);
    return found;
}

#define ANY(text, len, table) any_phrase((text), (len), (table))

/* Local parts of senders that are machines. */
static bool
sender_is_automatic(const char *from)
{
    static const char *const locals[] = {
        "mailer-daemon", "postmaster", "antivirus", "anti-virus", "virus", "viruswall",
        "mailscanner", "amavis", "virusalert", "av-", "scanmail", "mailguard",
        "noreply", "no-reply", "do-not-reply", "donotreply", "autoreply", "auto-reply",
        "autoresponder", "vacation",
    };
    if (from == NULL || *from == '\0')
        return false;
    g_autofree char *addr = bw_address_normalize(from);
    if (addr == NULL)
        return strstr(from, "MAILER-DAEMON") != NULL;
    for (unsigned i = 0; i < G_N_ELEMENTS(locals); i++)
        if (g_str_has_prefix(addr, locals[i]))
            return true;
    return false;
}

static bool
header_has(const bw_view_t *v, const char *name, const char *needle)
{
    const char *h = bw_view_header(v, name);
    return h != NULL && (needle == NULL || bw_casestr(h, strlen(h), needle) != NULL);
}

char *
bw_subject_strip_prefixes(const char *subject)
{
    if (subject == NULL)
        return NULL;
    static const char *const prefixes[] = {
        "re:", "aw:", "sv:", "antw:", "réf:", "rif:", "r:", "fwd:", "fw:", "wg:", "tr:",
        "auto:", "autoreply:", "auto reply:", "auto-reply:", "automatic reply:",
        "out of office:", "out of office autoreply:", "out of office reply:",
        "abwesenheitsnotiz:", "automatische antwort:", "réponse automatique:",
        "respuesta automática:", "risposta automatica:", "automatisch antwoord:",
        "autosvar:", "vacation:", "[auto-reply]", "[autoreply]", "自動応答:", "自動返信:",
        "自動応答：", "自動返信：", "不在:", "不在：",
    };
    const char *s = subject;
    for (unsigned round = 0; round < 8; round++) {
        while (*s == ' ' || *s == '\t')
            s++;
        bool cut = false;
        for (unsigned i = 0; i < G_N_ELEMENTS(prefixes); i++) {
            size_t n = strlen(prefixes[i]);
            if (g_ascii_strncasecmp(s, prefixes[i], n) == 0) {
                s += n;
                cut = true;
                break;
            }
        }
        if (!cut)
            break;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    return *s ? g_strdup(s) : NULL;
}

/* The first non-empty lines of the text, squeezed: the auto-reply's own
 * words as the diagnostic. */
static char *
first_words(const char *text, size_t len)
{
    size_t n = len < 400 ? len : 400;
    /* Do not cut inside a UTF-8 sequence. */
    while (n < len && n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
        n--;
    char *s = bw_strdup_squeezed(text, n);
    if (*s == '\0') {
        g_free(s);
        return NULL;
    }
    return s;
}

/* The first address in the notice's own words that is neither its sender
 * nor its addressee: whom the blocked message was for. */
static char *
named_address(const bw_view_t *v, const bw_report_t *report, size_t head)
{
    g_autofree char *sender = bw_address_normalize(v->from);
    const char *t = v->text;
    for (size_t i = 0; i < head; i++) {
        if (t[i] != '@' || i == 0)
            continue;
        size_t b = i, e = i + 1;
        size_t lo = i > 64 ? i - 64 : 0;
        while (b > lo && t[b - 1] > ' ' && t[b - 1] != '<' && t[b - 1] != '"' && t[b - 1] != '(')
            b--;
        while (e < head && e - i < 255 && t[e] > ' ' && t[e] != '>' && t[e] != '"' && t[e] != ')')
            e++;
        g_autofree char *tok = g_strndup(t + b, e - b);
        char *addr = bw_address_normalize(tok);
        if (addr == NULL)
            continue;
        bool skip = sender != NULL && strcmp(addr, sender) == 0;
        for (guint k = 0; !skip && k < report->to->len; k++)
            skip = strcmp(addr, g_ptr_array_index(report->to, k)) == 0;
        if (!skip)
            return addr;
        g_free(addr);
        i = e;
    }
    return NULL;
}

static void
add_sender_recipient(const bw_view_t *v, bw_report_t *report, bw_reason_t reason, bool words)
{
    bw_recipient_t *r = bw_recipient_new();
    r->address = bw_address_normalize(v->from);
    r->reason = reason;
    if (words)
        r->diagnostic = first_words(v->text, v->text_len);
    g_ptr_array_add(report->recipients, r);
}

bool
bw_autoreply_detect(const bw_view_t *v, bw_report_t *report)
{
    matchers_init();
    const char *subject = v->subject ? v->subject : "";
    size_t slen = strlen(subject);
    /* Only the head of the text: quoted originals come further down. */
    size_t head = v->text_len < 2048 ? v->text_len : 2048;
    const char *as = bw_view_header(v, "Auto-Submitted");
    bool auto_replied = as != NULL && bw_casestr(as, strlen(as), "auto-replied") != NULL;
    bool auto_generated = as != NULL && bw_casestr(as, strlen(as), "auto-generated") != NULL;
    bool auto_header = auto_replied || header_has(v, "X-Autoreply", NULL) ||
                       header_has(v, "X-Autorespond", NULL) || header_has(v, "X-Auto-Reply", NULL) ||
                       header_has(v, "X-Vacation", NULL) || header_has(v, "Precedence", "auto_reply") ||
                       header_has(v, "X-Mailer", "vacation") || header_has(v, "X-Autogenerated", "reply");
    bool is_list = bw_view_header(v, "List-Id") != NULL || bw_view_header(v, "List-Unsubscribe") != NULL ||
                   header_has(v, "Precedence", "list") || header_has(v, "Precedence", "bulk");
    bool machine = auto_header || auto_generated || sender_is_automatic(v->from) ||
                   header_has(v, "Precedence", "junk") || header_has(v, "X-Auto-Response-Suppress", NULL);

    /* Anti-virus notices. */
    if (!is_list && (ANY(subject, slen, T_VIRUS) ||
                     (machine && ANY(v->text, head, T_VIRUS))) &&
        (machine || bw_casestr(v->text, head, "quarantine") != NULL)) {
        report->bounce = true;
        report->kind = BW_KIND_VIRUS;
        report->family = "antivirus";
        bw_recipient_t *r = bw_recipient_new();
        r->reason = BW_REASON_VIRUS;
        r->diagnostic = first_words(v->text, v->text_len);
        r->address = named_address(v, report, head);
        g_ptr_array_add(report->recipients, r);
        return true;
    }

    /* Challenge-response requests. */
    bool cr_header = false;
    for (unsigned i = 0; i < G_N_ELEMENTS(challenge_headers) && !cr_header; i++)
        cr_header = bw_view_header(v, challenge_headers[i]) != NULL;
    if (cr_header || (!is_list && machine && ANY(subject, slen, T_CHALLENGE) &&
                      ANY(v->text, head, T_CHALLENGE))) {
        report->bounce = true;
        report->kind = BW_KIND_CHALLENGE;
        report->family = "challenge-response";
        add_sender_recipient(v, report, BW_REASON_UNKNOWN, true);
        return true;
    }

    /* Auto-replies. */
    bool subject_says = ANY(subject, slen, T_AUTOREPLY_SUBJECT);
    bool body_says = ANY(v->text, head, T_AUTOREPLY_BODY);
    bool yes;
    if (auto_header)
        yes = true;                       /* RFC 3834 or a vacation program said so */
    else if (is_list)
        yes = false;                      /* list mail: only when clearly one */
    else
        yes = (subject_says && (body_says || machine)) ||
              (auto_generated && body_says);
    if (!yes)
        return false;
    report->bounce = true;
    report->kind = BW_KIND_AUTOREPLY;
    report->family = "rfc3834";
    add_sender_recipient(v, report, BW_REASON_VACATION, true);
    return true;
}
