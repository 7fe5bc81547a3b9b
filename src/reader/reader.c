/* bouncewatch-reader: reads attacker-written mail for bouncewatch, confined.
 *
 * Started by bouncewatch (src/adapters/reader.c), one per batch, with the
 * socket of the protocol in bw-reader.h as its standard input and output and
 * a pipe as its standard error.  It links libbwcore only (GLib, GMime,
 * json-glib, libsodium): no notmuch, SQLite or libnotify, nothing of the
 * user's state.  Before it reads any mail it confines itself, after
 * OpenSMTPD's privilege-separated processes:
 *   - every inherited descriptor past 0, 1, 2 is closed; RLIMIT_NOFILE 8
 *     (the three, the mail file, and what iconv and GMime open briefly);
 *   - RLIMIT_FSIZE 0 (it never writes a file) and RLIMIT_CORE 0 (no core
 *     dump full of mail); RLIMIT_NPROC 0 (it never starts a process);
 *   - RLIMIT_AS 2 GiB: a message makes the parser read at most 4 MiB, an
 *     mbox at most 1 GiB (bw_parse_file); the hostile-input tests run in
 *     2 GiB.  Not under AddressSanitizer, which reserves terabytes of
 *     address space for its shadow memory;
 *   - RLIMIT_CPU: before each message the soft limit is set to the CPU time
 *     used so far plus --cpu-seconds (and up to 2 s of slack, see
 *     budget_cpu), so one message, not the batch, is bounded; SIGXCPU ends
 *     the process;
 *   - PR_SET_NO_NEW_PRIVS (no set-uid gain through exec) and
 *     PR_SET_PDEATHSIG (it dies with bouncewatch).
 * Hard limits are lowered with the soft ones (except the CPU's, which moves
 * per message), so a parser taken over by a message cannot lift them.
 * Then it parses a known report: a reader that cannot do that (a broken
 * library, a limit too tight) fails before any mail is blamed for it.
 *
 * Built a second time for `make check` only, with -DBW_TEST_HOOKS: a
 * message whose Subject holds "[bw-test:WHAT]" then crashes, hangs, spins,
 * sends garbage... so that the tests can prove the containment (never in
 * the installed program). */
#include "config.h"
#include "bw-reader.h"
#include "bw-parse.h"
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define BW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BW_ASAN 1
#endif
#endif

#define READER_MAX_FDS      8
#define READER_MAX_AS       (2048ull << 20)
#define READER_IN_CHUNK     65536

static bool json_mode;
static unsigned cpu_seconds = 3;

/* ------------------------------------------------------------ output */

static GString *out;

/* Answers are written in batches of about FLUSH_AT bytes, and whenever
 * there is no request left to read: a write and a wake-up of the parent
 * per message cost more than the parse of a small one.  A careful request
 * (the parent asks for it after a reader died) has everything produced so
 * far written before each of its messages is parsed: if that message kills
 * the process, the parent has every answer before it and knows which
 * message did it.  32 KiB is about 23 JSON lines of the bounce corpus
 * (1.4 KiB each), fewer than the requests a process has in flight (the
 * parent's window, 32), so the parent still hears of progress and sends
 * more before a process runs out; 16 KiB woke the parent twice as often
 * (`parse --json` of the 407 bounces: 0.4 ms more CPU, 0.2 ms more wall
 * time), 64 KiB saved no more wall time. */
#define FLUSH_AT 32768u
#define FLUSH_AFTER_US 500000
static bool careful;
static gint64 flushed_at;

static void
flush_out(void)
{
    size_t off = 0;
    while (off < out->len) {
        ssize_t n = write(STDOUT_FILENO, out->str + off, out->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0);   /* the parent is gone */
        off += (size_t)n;
    }
    g_string_truncate(out, 0);
    flushed_at = g_get_monotonic_time();
}

static void
send_result(int index, bw_status_t status, const char *detail, const char *payload,
            size_t payload_len)
{
    size_t dlen = detail ? strlen(detail) : 0;
    bw_wire_frame_start(out, BW_READER_RESULT, (guint32)(12 + dlen + payload_len));
    bw_wire_put_u32(out, (guint32)index);
    bw_wire_put_u32(out, (guint32)status);
    bw_wire_put_u32(out, (guint32)dlen);
    if (dlen)
        g_string_append_len(out, detail, (gssize)dlen);
    if (payload_len)
        g_string_append_len(out, payload, (gssize)payload_len);
}

/* ------------------------------------------------------------ limits */

static void
limit(int resource, rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) != 0)
        return;
    /* Never above what was inherited (a caller's ulimit stays in force). */
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        want = rl.rlim_max;
    rl.rlim_cur = rl.rlim_max = want;
    (void)setrlimit(resource, &rl);
}

/* Before each message: the CPU it may use is what was used so far plus
 * cpu_seconds (RLIMIT_CPU counts the whole process).  The limit is set a
 * second above that; while less than a second of wall-clock time has
 * passed since, less than a second of CPU can have been used, so at least
 * cpu_seconds are left and no system call is needed (most messages take a
 * fraction of a millisecond). */
static rlim_t cpu_hard = RLIM_INFINITY;
static rlim_t cpu_soft_set;
static gint64 cpu_budget_at;

static void
budget_cpu(void)
{
    gint64 now = g_get_monotonic_time();
    if (cpu_budget_at != 0 && now - cpu_budget_at < G_USEC_PER_SEC)
        return;
    cpu_budget_at = now;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return;
    rlim_t used = (rlim_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1);
    rlim_t want = used + cpu_seconds + 1;
    if (cpu_hard != RLIM_INFINITY && want > cpu_hard)
        want = cpu_hard;
    if (want == cpu_soft_set)
        return;
    struct rlimit rl = { want, cpu_hard };
    if (setrlimit(RLIMIT_CPU, &rl) == 0)
        cpu_soft_set = want;
}

/* A message is about to be parsed. */
static void
before_message(void)
{
    /* (Nor do answers wait long: the parent counts time from the last one.) */
    if (careful || out->len >= FLUSH_AT ||
        (out->len > 0 && g_get_monotonic_time() - flushed_at > FLUSH_AFTER_US))
        flush_out();
    budget_cpu();
}

static void
confine(pid_t parent)
{
    /* Die with the parent; if it is already gone, do not start. */
    (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (parent > 0 && getppid() != parent)
        _exit(0);
    (void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (close_range(3, ~0u, 0) != 0) {
        for (int fd = 3; fd < 1024; fd++)
            (void)close(fd);
    }
    limit(RLIMIT_CORE, 0);
    limit(RLIMIT_FSIZE, 0);
    limit(RLIMIT_NOFILE, READER_MAX_FDS);
    limit(RLIMIT_NPROC, 0);
#ifndef BW_ASAN
    limit(RLIMIT_AS, READER_MAX_AS);
#endif
    struct rlimit rl;
    if (getrlimit(RLIMIT_CPU, &rl) == 0)
        cpu_hard = rl.rlim_max;
    budget_cpu();
}

/* A DSN every build must read: proves GMime, iconv and the detectors work
 * under the limits before the first real message is given. */
static const char self_test_mail[] =
    "From: MAILER-DAEMON@mx.example.org\n"
    "To: owner@example.com\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Message-ID: <selftest@mx.example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
    "--B\nContent-Type: text/plain; charset=iso-8859-1\n\nYour message could not be delivered.\n\n"
    "--B\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns; mx.example.org\n\n"
    "Final-Recipient: rfc822; taro@example.jp\nAction: failed\nStatus: 5.1.1\n\n"
    "--B\nContent-Type: text/rfc822-headers\n\n"
    "From: owner@example.com\nSubject: hello\nMessage-ID: <orig@example.com>\n\n"
    "--B--\n";

static bool
self_test(void)
{
    bw_report_t *r = NULL;
    bool ok = bw_parse_bytes(self_test_mail, sizeof self_test_mail - 1, &r, NULL) == BW_OK &&
              r->bounce && r->recipients->len == 1 && r->original != NULL;
    bw_report_free(r);
    return ok;
}

/* ------------------------------------------------------------ test hooks */

#ifdef BW_TEST_HOOKS
static void
test_limits_line(const char *file, int index)
{
    struct rlimit cpu, as, fsize, core, nofile, nproc;
    getrlimit(RLIMIT_CPU, &cpu);
    getrlimit(RLIMIT_AS, &as);
    getrlimit(RLIMIT_FSIZE, &fsize);
    getrlimit(RLIMIT_CORE, &core);
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_NPROC, &nproc);
    int sig = 0;
    (void)prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0);
    int fds = 0;
    for (int fd = 0; fd < 1024; fd++)
        fds += fcntl(fd, F_GETFD) != -1;
#define LIM(x) ((x) == RLIM_INFINITY ? -1LL : (long long)(x))
    GString *g = g_string_new(NULL);
    bw_report_json_head(g, file, index);
    g_string_append_printf(g, ",\"bounce\":false,\"limits\":{\"cpu\":%lld,\"cpu_max\":%lld,"
                           "\"as\":%lld,\"fsize\":%lld,\"core\":%lld,\"nofile\":%lld,\"nproc\":%lld,"
                           "\"no_new_privs\":%d,\"pdeathsig\":%d,\"open_fds\":%d},\"error\":null}",
                           LIM(cpu.rlim_cur), LIM(cpu.rlim_max), LIM(as.rlim_cur),
                           LIM(fsize.rlim_cur), LIM(core.rlim_cur), LIM(nofile.rlim_cur),
                           LIM(nproc.rlim_cur), prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), sig, fds);
#undef LIM
    send_result(index, BW_OK, NULL, g->str, g->len);
    g_string_free(g, TRUE);
}

/* The switch of a message, "[bw-test:WHAT]" in its Subject for the bounce
 * parse, "[bw-test:WHAT@KIND]" for a READ request (KIND facts, summary or
 * headers: the switch works in that read only).  Returns WHAT followed by
 * "]" when the switch is for `kind` ("" for the bounce parse), else NULL. */
static const char *
test_switch(const char *s, size_t len, const char *kind)
{
    static const char mark[] = "[bw-test:";
    const char *end = s ? s + len : NULL;
    for (const char *m = s; m != NULL && m < end;) {
        m = memmem(m, (size_t)(end - m), mark, sizeof mark - 1);
        if (m == NULL)
            return NULL;
        m += sizeof mark - 1;
        const char *close = memchr(m, ']', (size_t)(end - m));
        if (close == NULL)
            return NULL;
        const char *at = memchr(m, '@', (size_t)(close - m));
        bool mine = *kind == '\0' ? at == NULL
                                  : at != NULL && (size_t)(close - at - 1) == strlen(kind) &&
                                        memcmp(at + 1, kind, strlen(kind)) == 0;
        if (mine) {
            /* WHAT] as the hooks below compare it */
            static char what[64];
            size_t n = (size_t)((at ? at : close) - m);
            if (n + 2 > sizeof what)
                return NULL;
            memcpy(what, m, n);
            what[n] = ']';
            what[n + 1] = '\0';
            return what;
        }
        m = close;
    }
    return NULL;
}

/* Returns true when the hook answered the message itself. */
static bool
test_hook(const char *m, const char *file, int index)
{
    if (m == NULL)
        return false;
    if (g_str_has_prefix(m, "crash]")) {
        raise(SIGSEGV);
    } else if (g_str_has_prefix(m, "abort]")) {
        abort();
    } else if (g_str_has_prefix(m, "hang]")) {
        for (;;)
            pause();
    } else if (g_str_has_prefix(m, "spin]")) {
        for (volatile unsigned long i = 0;; i++)
            ;
    } else if (g_str_has_prefix(m, "exit]")) {
        _exit(0);
    } else if (g_str_has_prefix(m, "garbage]")) {
        /* A frame of an unknown type. */
        flush_out();
        static const char junk[] = "Z\x10\x00\x00\x00garbage garbage!";
        (void)!write(STDOUT_FILENO, junk, sizeof junk - 1);
        for (;;)
            pause();
    } else if (g_str_has_prefix(m, "huge]")) {
        /* A frame that claims more than any answer may hold. */
        flush_out();
        static const char huge[] = "R\xff\xff\xff\x7f";
        (void)!write(STDOUT_FILENO, huge, sizeof huge - 1);
        for (;;)
            pause();
    } else if (g_str_has_prefix(m, "badreport]")) {
        if (!json_mode) {
            send_result(index, BW_OK, NULL, "\x01\x02\xff\xff", 4);
            return true;
        }
    } else if (g_str_has_prefix(m, "stderr]")) {
        for (int i = 0; i < 20000; i++)
            fprintf(stderr, "noise \x1b[31m line %d\n", i);
    } else if (g_str_has_prefix(m, "memory]")) {
        /* Address space, not memory: only a byte of each block is touched. */
        GPtrArray *hog = g_ptr_array_new();
        for (;;) {
            char *block = g_malloc(64 << 20);
            block[0] = 1;
            g_ptr_array_add(hog, block);
        }
    } else if (g_str_has_prefix(m, "writefile]")) {
        g_autofree char *name = g_strconcat(file, ".written", NULL);
        FILE *f = fopen(name, "w");
        if (f != NULL) {
            fputs("a file the reader must not be able to write\n", f);
            fclose(f);
        }
    } else if (g_str_has_prefix(m, "limits]")) {
        test_limits_line(file, index);
        return true;
    } else if (g_str_has_prefix(m, "badjson]")) {
        /* A READ answer the parent must not take: nested past the cap. */
        GString *deep = g_string_new(NULL);
        for (int i = 0; i < 1000; i++)
            g_string_append_c(deep, '[');
        for (int i = 0; i < 1000; i++)
            g_string_append_c(deep, ']');
        send_result(index, BW_OK, NULL, deep->str, deep->len);
        g_string_free(deep, TRUE);
        return true;
    } else if (g_str_has_prefix(m, "badutf8]")) {
        send_result(index, BW_OK, NULL, "{\"from\":\"\xff\xfe\"}", 13);
        return true;
    }
    return false;
}
#endif

/* ------------------------------------------------------------ requests */

typedef struct {
    const char *file;        /* as the "file" of the SPEC line */
    bool bounces_only;
    guint32 left;            /* messages still wanted (0 = all) */
    unsigned answered;       /* results sent for it */
} request_t;

static void
answer(request_t *q, int index, bw_status_t status, bw_report_t *r, const char *detail)
{
    q->answered++;
#ifdef BW_TEST_HOOKS
    const char *subject = r ? r->subject : NULL;
    if (test_hook(test_switch(subject, subject ? strlen(subject) : 0, ""), q->file, index)) {
        bw_report_free(r);
        return;
    }
#endif
    const char *why = status == BW_OK ? NULL : detail ? detail : bw_status_to_string(status);
    if (!json_mode && (status != BW_OK || (q->bounces_only && !r->bounce))) {
        send_result(index, status, why, NULL, 0);
    } else {
        /* The line, or the encoded report, goes straight into the output
         * buffer after a frame header whose length is filled in once it is
         * known. */
        gsize at = out->len;
        send_result(index, status, why, NULL, 0);
        if (json_mode)
            bw_report_json_append(out, status == BW_OK ? r : NULL, q->file, index, why);
        else
            bw_report_encode(out, r);
        guint32 len = (guint32)(out->len - at - BW_READER_FRAME_HEADER);
        for (int k = 0; k < 4; k++)
            out->str[at + 1 + k] = (char)((len >> (8 * k)) & 0xff);
    }
    bw_report_free(r);
}

static void
on_mbox(void *data, unsigned count)
{
    (void)data;
    bw_wire_frame_start(out, BW_READER_MBOX, 4);
    bw_wire_put_u32(out, count);
    if (careful)
        flush_out();
}

static bool
on_message(void *data, int index, bw_status_t status, bw_report_t *report, const char *detail)
{
    request_t *q = data;
    answer(q, index, status, report, detail);
    if (q->left != 0 && --q->left == 0)
        return false;
    if (index >= 0)
        before_message();   /* the next message of the mbox */
    return true;
}

/* The first `max` bytes of a regular file (a FIFO or a device is no mail:
 * NULL, as is a file that cannot be read). */
static char *
read_head(const char *path, size_t max, size_t *len_out)
{
    *len_out = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return NULL;
    }
    size_t want = sb.st_size > 0 && (guint64)sb.st_size < max ? (size_t)sb.st_size : max;
    char *buf = g_try_malloc(want + 1);
    if (buf == NULL) {
        close(fd);
        return NULL;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(fd, buf + got, want - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            g_free(buf);
            return NULL;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    *len_out = got;
    return buf;
}

/* A READ request (bw-reader.h): one answer, index -1, the result's JSON. */
static void
read_request(const char *path, guint32 read)
{
    size_t len = 0;
    g_autofree char *data = read_head(path, bw_reader_read_max(read), &len);
    g_autofree char *json = NULL, *detail = NULL;
    bw_status_t st;
    if (data == NULL) {
        st = BW_E_IO;
        detail = g_strdup_printf("cannot read %s", path);
    } else {
        st = bw_reader_read_json(read, data, len, &json, &detail);
    }
#ifdef BW_TEST_HOOKS
    const char *kind = read == BW_READER_FACTS || read == BW_READER_NOTABLE_FACTS ? "facts"
                       : read == BW_READER_SENT_SUMMARY ? "summary" : "headers";
    if (test_hook(test_switch(data, len, kind), path, -1))
        return;
#endif
    const char *why = st == BW_OK ? NULL : detail ? detail : bw_status_to_string(st);
    send_result(-1, st, why, json, json ? strlen(json) : 0);
}

static void
handle(char type, const char *body, guint32 len)
{
    if (type == BW_READER_REQ_FILE && len >= 8) {
        guint32 first = bw_wire_get_u32(body), limit_flags = bw_wire_get_u32(body + 4);
        careful = (limit_flags & BW_READER_CAREFUL) != 0;
        before_message();
        g_autofree char *path = g_strndup(body + 8, len - 8);
#ifdef BW_TEST_HOOKS
        /* Which files a run reads (the tests check what is not read again). */
        /* (A READ request's line ends with what it reads.) */
        if (g_getenv("BW_TEST_READER_TRACE") != NULL) {
            guint32 rd = limit_flags & BW_READER_READS;
            fprintf(stderr, "bw-test-trace: reading %s%s\n", path,
                    rd == 0 ? "" : rd == BW_READER_FACTS || rd == BW_READER_NOTABLE_FACTS ? " (facts)"
                                 : rd == BW_READER_SENT_SUMMARY ? " (summary)" : " (headers)");
        }
#endif
        guint32 read = limit_flags & BW_READER_READS;
        if (read != 0) {
            if ((read & (read - 1)) != 0)
                _exit(2);   /* one thing to read, or not bouncewatch asking */
            read_request(path, read);
            bw_wire_frame_start(out, BW_READER_END, 0);
            return;
        }
        request_t q = { path, (limit_flags & BW_READER_BOUNCES_ONLY) != 0,
                        limit_flags & ~BW_READER_FLAGS, 0 };
        bw_parse_sink_t sink = { on_mbox, on_message, &q };
        g_autofree char *detail = NULL;
        bw_status_t st = bw_parse_file_each(path, first, &sink, &detail);
        /* The file's own error, unless its messages each got theirs. */
        if (st != BW_OK && q.answered == 0)
            answer(&q, -1, st, NULL, detail);
    } else if (type == BW_READER_REQ_DATA) {
        careful = true;
        before_message();
        request_t q = { "-", false, 0, 0 };
        bw_report_t *r = NULL;
        g_autofree char *detail = NULL;
        bw_status_t st = bw_parse_bytes(body, len, &r, &detail);
        answer(&q, -1, st, r, detail);
    } else {
        /* Not a request of this protocol: the parent is not bouncewatch. */
        _exit(2);
    }
    bw_wire_frame_start(out, BW_READER_END, 0);
}

/* Reads frames from standard input until it closes. */
static void
serve(void)
{
    GByteArray *in = g_byte_array_new();
    size_t off = 0;
    for (;;) {
        size_t have = in->len - off;
        if (have >= BW_READER_FRAME_HEADER) {
            guint32 len = bw_wire_get_u32(in->data + off + 1);
            if (len > BW_READER_MAX_FRAME)
                _exit(2);
            if (have >= BW_READER_FRAME_HEADER + (size_t)len) {
                const char *frame = (const char *)in->data + off;
                handle(frame[0], frame + BW_READER_FRAME_HEADER, len);
                off += BW_READER_FRAME_HEADER + len;
                continue;
            }
        }
        /* Nothing complete left: answer what is done, then wait. */
        flush_out();
        if (off > 0) {
            g_byte_array_remove_range(in, 0, (guint)off);
            off = 0;
        }
        guint8 chunk[READER_IN_CHUNK];
        ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        g_byte_array_append(in, chunk, (guint)n);
    }
    g_byte_array_unref(in);
}

int
main(int argc, char **argv)
{
    pid_t parent = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json_mode = true;
        else if (strcmp(argv[i], "--report") == 0)
            json_mode = false;
        else if (g_str_has_prefix(argv[i], "--cpu-seconds="))
            cpu_seconds = (unsigned)CLAMP(atoi(argv[i] + 14), 1, 3600);
        else if (g_str_has_prefix(argv[i], "--parent="))
            parent = (pid_t)atol(argv[i] + 9);
        else {
            fprintf(stderr, "bouncewatch-reader: unknown argument '%s'; this program is "
                            "started by bouncewatch, not by hand\n", argv[i]);
            return 2;
        }
    }
    /* Memory freed after a message stays for the next one: trimmed back
     * to the system and touched again, each page cost a fault (873 -> 769
     * faults over the 407 bounces, one reader). */
    (void)mallopt(M_MMAP_THRESHOLD, 32 << 20);   /* (setting one fixes both) */
    (void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
    /* As the CLI: GMime's fallback charset follows the locale. */
    setlocale(LC_ALL, "");
    confine(parent);
#ifdef BW_TEST_HOOKS
    const char *fail = g_getenv("BW_TEST_READER_FAIL");
    if (g_strcmp0(fail, "start") == 0)
        return 3;
#endif
    if (bw_init() != BW_OK || !self_test()) {
        fprintf(stderr, "bouncewatch-reader: cannot read a known report: the installation is "
                        "broken\n");
        return 4;
    }
    out = g_string_sized_new(65536);
    GString *hello = g_string_new("bouncewatch-reader " PACKAGE_VERSION);
#ifdef BW_TEST_HOOKS
    if (g_strcmp0(fail, "version") == 0)
        g_string_assign(hello, "another build");
#endif
    bw_wire_frame_start(out, BW_READER_HELLO, (guint32)(4 + hello->len));
#ifdef BW_TEST_HOOKS
    bw_wire_put_u32(out, g_strcmp0(fail, "version") == 0 ? 999u : BW_READER_PROTOCOL);
#else
    bw_wire_put_u32(out, BW_READER_PROTOCOL);
#endif
    g_string_append_len(out, hello->str, (gssize)hello->len);
    g_string_free(hello, TRUE);
    flush_out();
    serve();
#ifndef BW_ASAN
    /* Every answer is written (serve() flushes before it reads again, and
     * nothing goes through stdio but unbuffered stderr): the parent reaps
     * this process as soon as it has exited, so the end of the batch
     * waits for that, and exit()'s handlers and the destructors of ~20
     * libraries only freed what the kernel frees anyway (50-75 us at the
     * end of every batch).  A sanitizer build returns: its leak check
     * runs at exit. */
    _exit(0);
#endif
    g_string_free(out, TRUE);
    bw_shutdown();
    return 0;
}
