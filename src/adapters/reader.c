/* reader.c: the parent side of the reader process (see reader.h and the
 * protocol in bw-reader.h). */
#include "config.h"
#include "reader.h"
#include "bw-reader.h"
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#if defined(__SANITIZE_ADDRESS__)
#define BW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BW_ASAN 1
#endif
#endif

#ifndef BW_READER_PATH
#define BW_READER_PATH "/usr/libexec/bouncewatch/bouncewatch-reader"
#endif
#define READER_NAME "bouncewatch-reader"

/* Requests in flight: enough that the reader never waits for us, few
 * enough that a restart sends little again. */
#define WINDOW 32u
/* A reader that dies before its hello this many times in a row is broken
 * (a missing library, a self-test that fails), not stopped by mail. */
#define MAX_FAILED_STARTS 3
/* What the reader may write on standard error per batch before it is cut
 * (an ASan report is a few KiB; a flood of warnings is not read by anyone). */
#define MAX_STDERR_BYTES (64u * 1024u)
#define MAX_STDERR_LINE 512u
#define READ_CHUNK 65536u

typedef struct {
    char *path;              /* a file, or NULL for data */
    GBytes *data;
    guint32 limit;           /* messages (0 = all) | BW_READER_BOUNCES_ONLY */
    guint32 first;           /* the mbox message to start from */
    guint32 count;           /* messages in the mbox, when one */
    bool mbox;
    bool answered_any;       /* a result came for it */
    /* since it was last sent to a reader: */
    bool careful;            /* sent with BW_READER_CAREFUL */
    bool got_mbox;
    unsigned got_results;
} request_t;

typedef struct {
    bw_reader_result_t res;
    char *detail;            /* owned copy of res.detail */
} pending_t;

struct bw_reader {
    bw_reader_options_t opts;
    unsigned cpu_seconds;
    gint64 wall_us;
    GArray *requests;        /* request_t */
    guint done;              /* requests before this one are finished */
    guint sent;              /* requests before this one went to the current reader */
    guint careful_end;       /* requests before this one are sent careful */
    char *careful_why;       /* why, until a culprit is found among them */
    /* the current reader */
    pid_t pid;
    int sock;
    int err;
    bool hello;
    gint64 started_us;
    gint64 progress_us;      /* the last frame, or the start of the wait */
    GByteArray *in;
    gsize in_off;
    GByteArray *outq;
    gsize out_off;
    GString *err_line;
    gsize err_bytes;
    /* over the batch */
    unsigned starts;
    int failed_starts;
    char *unavailable;       /* why no reader can run, or NULL */
    GArray *pending;         /* pending_t, handed out first */
    char *last_detail;       /* detail of the result handed out last */
};

const char *
bw_reader_fault_to_string(bw_reader_fault_t fault)
{
    switch (fault) {
    case BW_READER_FAULT_NONE: return NULL;
    case BW_READER_FAULT_CRASH: return "crash";
    case BW_READER_FAULT_TIMEOUT: return "timeout";
    case BW_READER_FAULT_GARBAGE: return "garbage";
    case BW_READER_FAULT_UNAVAILABLE: return "unavailable";
    }
    return NULL;
}

/* ------------------------------------------------------------ the program */

char *
bw_reader_program(void)
{
    const char *env = g_getenv("BOUNCEWATCH_READER");
    if (env != NULL && *env != '\0')
        return g_strdup(env);
    /* The build tree: the reader is built next to bouncewatch.  (An
     * installed bouncewatch has none next to it: bindir is not libexec.) */
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    if (self != NULL) {
        g_autofree char *dir = g_path_get_dirname(self);
        g_autofree char *near = g_build_filename(dir, READER_NAME, NULL);
        if (g_file_test(near, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test(near, G_FILE_TEST_IS_DIR))
            return g_steal_pointer(&near);
    }
    return g_strdup(BW_READER_PATH);
}

char *
bw_reader_identity(void)
{
    g_autofree char *program = bw_reader_program();
    struct stat sb;
    if (stat(program, &sb) != 0)
        return g_strdup_printf(PACKAGE_VERSION " p%u missing", BW_READER_PROTOCOL);
    return g_strdup_printf(PACKAGE_VERSION " p%u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT ".%09ld",
                           BW_READER_PROTOCOL, (gint64)sb.st_size, (gint64)sb.st_mtim.tv_sec,
                           (long)sb.st_mtim.tv_nsec);
}

/* ------------------------------------------------------------ life cycle */

bw_reader_t *
bw_reader_new(const bw_reader_options_t *opts)
{
    bw_reader_t *r = g_new0(bw_reader_t, 1);
    if (opts != NULL)
        r->opts = *opts;
    unsigned ms = r->opts.limit_ms;
    const char *env = g_getenv("BOUNCEWATCH_READER_TIMEOUT_MS");
    if (ms == 0 && env != NULL && *env != '\0')
        ms = (unsigned)g_ascii_strtoull(env, NULL, 10);
    if (ms == 0) {
        ms = BW_READER_DEFAULT_LIMIT_MS;
#ifdef BW_ASAN
        ms *= 10;   /* a sanitizer build runs several times slower */
#endif
    }
    ms = CLAMP(ms, 100u, 3600u * 1000u);
    r->cpu_seconds = (ms + 999) / 1000;
    r->wall_us = (gint64)ms * 3 * 1000;
    r->requests = g_array_new(FALSE, TRUE, sizeof(request_t));
    r->pending = g_array_new(FALSE, TRUE, sizeof(pending_t));
    r->sock = r->err = -1;
    r->in = g_byte_array_new();
    r->outq = g_byte_array_new();
    r->err_line = g_string_new(NULL);
    return r;
}

static void
say(bw_reader_t *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
say(bw_reader_t *r, const char *fmt, ...)
{
    if (r->opts.log == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r->opts.log(r->opts.log_data, line);
}

/* One line of the reader's standard error, made safe for a terminal or a
 * log (it may quote the mail: escape sequences must not get through). */
static void
relay_err_line(bw_reader_t *r, const char *s, gsize len)
{
    if (r->err_bytes >= MAX_STDERR_BYTES)
        return;
    g_autofree char *raw = g_strndup(s, len);
    g_autofree char *safe = bw_text_sanitize(raw, MAX_STDERR_LINE);
    g_autofree char *line = g_strconcat(READER_NAME ": ", safe, NULL);
    /* What is passed on counts. */
    r->err_bytes += strlen(line) + 1;
    if (r->err_bytes >= MAX_STDERR_BYTES) {
        say(r, READER_NAME ": %s", _("(more output not shown)"));
        return;
    }
    if (r->opts.log)
        r->opts.log(r->opts.log_data, line);
}

/* Reads what the reader wrote on standard error; at_end: it has exited,
 * read to the end and pass on an unfinished last line too. */
static void
drain_err(bw_reader_t *r, bool at_end)
{
    if (r->err < 0)
        return;
    char buf[4096];
    for (;;) {
        ssize_t n = read(r->err, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0) {
                close(r->err);
                r->err = -1;
            }
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                relay_err_line(r, r->err_line->str, r->err_line->len);
                g_string_truncate(r->err_line, 0);
            } else if (r->err_line->len < MAX_STDERR_LINE + 1) {
                g_string_append_c(r->err_line, buf[i]);
            }
        }
    }
    if (at_end && r->err_line->len > 0) {
        relay_err_line(r, r->err_line->str, r->err_line->len);
        g_string_truncate(r->err_line, 0);
    }
}

static void
close_fds(bw_reader_t *r)
{
    if (r->sock >= 0)
        close(r->sock);
    if (r->err >= 0)
        close(r->err);
    r->sock = r->err = -1;
}

/* Ends the current reader (SIGKILL unless `gently`), reaps it and returns
 * its wait status. */
static int
stop_reader(bw_reader_t *r, bool gently)
{
    int status = 0;
    if (r->pid <= 0) {
        close_fds(r);
        return 0;
    }
    if (gently) {
        /* Idle: closing its input ends it (and lets a sanitizer build run
         * its leak check).  Its standard error closes when it has exited. */
        if (r->sock >= 0) {
            close(r->sock);
            r->sock = -1;
        }
        gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (r->err >= 0) {
            gint64 left = (until - g_get_monotonic_time()) / 1000;
            if (left <= 0)
                break;
            struct pollfd p = { r->err, POLLIN, 0 };
            if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
                break;
            drain_err(r, false);
        }
        if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
            r->pid = 0;
            drain_err(r, true);
            close_fds(r);
            return status;
        }
    }
    kill(r->pid, SIGKILL);
    while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->pid = 0;
    drain_err(r, true);
    close_fds(r);
    return status;
}

void
bw_reader_free(bw_reader_t *r)
{
    if (r == NULL)
        return;
    if (r->pid > 0) {
        bool idle = r->done == r->requests->len || r->sent == r->done;
        int status = stop_reader(r, idle);
        if (idle && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            if (WIFSIGNALED(status))
                say(r, _("%s ended by signal %d"), READER_NAME, WTERMSIG(status));
            else
                say(r, _("%s exited with status %d"), READER_NAME, WEXITSTATUS(status));
        }
    }
    for (guint i = 0; i < r->requests->len; i++) {
        request_t *q = &g_array_index(r->requests, request_t, i);
        g_free(q->path);
        if (q->data)
            g_bytes_unref(q->data);
    }
    g_array_unref(r->requests);
    for (guint i = 0; i < r->pending->len; i++) {
        pending_t *p = &g_array_index(r->pending, pending_t, i);
        g_free(p->detail);
        bw_report_free(p->res.report);
    }
    g_array_unref(r->pending);
    g_byte_array_unref(r->in);
    g_byte_array_unref(r->outq);
    g_string_free(r->err_line, TRUE);
    g_free(r->unavailable);
    g_free(r->last_detail);
    g_free(r->careful_why);
    g_free(r);
}

unsigned
bw_reader_starts(const bw_reader_t *r)
{
    return r->starts;
}

guint
bw_reader_add_file(bw_reader_t *r, const char *path, unsigned limit, bool bounces_only)
{
    request_t q = { 0 };
    q.path = g_strdup(path);
    q.limit = MIN(limit, ~BW_READER_FLAGS) | (bounces_only ? BW_READER_BOUNCES_ONLY : 0);
    g_array_append_val(r->requests, q);
    return r->requests->len - 1;
}

guint
bw_reader_add_read(bw_reader_t *r, const char *path, bw_reader_read_t what)
{
    static const guint32 flag[] = {
        [BW_READER_READ_FACTS] = BW_READER_FACTS,
        [BW_READER_READ_NOTABLE_FACTS] = BW_READER_NOTABLE_FACTS,
        [BW_READER_READ_SENT_SUMMARY] = BW_READER_SENT_SUMMARY,
        [BW_READER_READ_SENT_HEADERS] = BW_READER_SENT_HEADERS,
    };
    request_t q = { 0 };
    q.path = g_strdup(path);
    q.limit = flag[what];
    g_array_append_val(r->requests, q);
    return r->requests->len - 1;
}

guint
bw_reader_add_data(bw_reader_t *r, GBytes *data)
{
    request_t q = { 0 };
    q.data = g_bytes_ref(data);
    g_array_append_val(r->requests, q);
    return r->requests->len - 1;
}

/* ------------------------------------------------------------ starting */

static bool
start_reader(bw_reader_t *r)
{
    g_autofree char *program = bw_reader_program();
    int sv[2] = { -1, -1 }, ep[2] = { -1, -1 };
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        pipe2(ep, O_CLOEXEC) != 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (sv[i] >= 0)
                close(sv[i]);
            if (ep[i] >= 0)
                close(ep[i]);
        }
        g_free(r->unavailable);
        r->unavailable = g_strdup_printf("cannot start %s: %s", program, g_strerror(e));
        return false;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, sv[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, ep[1], STDERR_FILENO);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    g_autofree char *cpu = g_strdup_printf("--cpu-seconds=%u", r->cpu_seconds);
    g_autofree char *parent = g_strdup_printf("--parent=%ld", (long)getpid());
    char *argv[] = { (char *)READER_NAME, r->opts.mode == BW_READER_LINES ? (char *)"--json"
                                                                           : (char *)"--report",
                     cpu, parent, NULL };
    pid_t pid = 0;
    int rc = posix_spawn(&pid, program, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    close(ep[1]);
    if (rc != 0) {
        close(sv[0]);
        close(ep[0]);
        g_free(r->unavailable);
        r->unavailable = g_strdup_printf("cannot start %s: %s; reinstall bouncewatch (or set "
                                         "BOUNCEWATCH_READER)", program, g_strerror(rc));
        return false;
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    fcntl(ep[0], F_SETFL, fcntl(ep[0], F_GETFL) | O_NONBLOCK);
    r->pid = pid;
    r->sock = sv[0];
    r->err = ep[0];
    r->hello = false;
    r->started_us = r->progress_us = g_get_monotonic_time();
    g_byte_array_set_size(r->in, 0);
    r->in_off = 0;
    g_byte_array_set_size(r->outq, 0);
    r->out_off = 0;
    r->sent = r->done;
    r->starts++;
    return true;
}

/* ------------------------------------------------------------ results */

static void
push(bw_reader_t *r, const bw_reader_result_t *res, const char *detail)
{
    pending_t p = { *res, g_strdup(detail) };
    p.res.detail = p.detail;
    g_array_append_val(r->pending, p);
}

static void
push_end(bw_reader_t *r, guint request)
{
    bw_reader_result_t e = { .request = request, .index = -1, .end = true };
    push(r, &e, NULL);
    r->done = request + 1;
    /* Finished: its input is not sent again (a scan queues every message
     * of a mailbox). */
    request_t *q = &g_array_index(r->requests, request_t, request);
    g_clear_pointer(&q->path, g_free);
    g_clear_pointer(&q->data, g_bytes_unref);
    if (r->careful_why != NULL && r->done >= r->careful_end) {
        /* Read again one by one, none of them stopped it: not a message's
         * doing (or not one that does it every time).  Worth a line. */
        say(r, _("the reader stopped (%s) but read the same messages again without trouble"),
            r->careful_why);
        g_clear_pointer(&r->careful_why, g_free);
    }
}

/* The reader stopped while reading request r->done: that message is the
 * culprit; inside an mbox the rest of the file is read by the next one. */
static void
blame(bw_reader_t *r, bw_reader_fault_t fault, int sig, const char *detail)
{
    request_t *q = &g_array_index(r->requests, request_t, r->done);
    int index = q->mbox ? (int)q->first : -1;
    bw_reader_result_t res = { .request = r->done, .index = index, .fault = fault,
                               .signal = sig, .status = BW_E_INTERNAL };
    push(r, &res, detail);
    g_clear_pointer(&r->careful_why, g_free);   /* found */
    q->answered_any = true;
    if (q->mbox && q->first + 1 < q->count)
        q->first++;
    else
        push_end(r, r->done);
}

/* "signal 11, SIGSEGV" or "exit status 3". */
static char *
status_text(int status)
{
    if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        return g_strdup_printf("signal %d%s%s", WTERMSIG(status), abbrev ? ", SIG" : "",
                               abbrev ? abbrev : "");
    }
    if (WIFEXITED(status))
        return g_strdup_printf("exit status %d", WEXITSTATUS(status));
    return g_strdup("stopped");
}

static char *
describe_death(bw_reader_t *r, int status, int *sig)
{
    *sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (*sig == SIGXCPU)
        return g_strdup_printf("reading this message took more than %u s of CPU time",
                               r->cpu_seconds);
    g_autofree char *how = status_text(status);
    if (*sig != 0)
        return g_strdup_printf("the reader crashed on this message (%s)", how);
    return g_strdup_printf("the reader stopped on this message (%s)", how);
}

/* The current reader is gone or is being put down: work out what it was
 * doing, blame that, and arrange for a new one. */
static void
reader_lost(bw_reader_t *r, bw_reader_fault_t fault, const char *why)
{
    bool was_busy = r->sent > r->done;
    bool had_hello = r->hello;
    int status = stop_reader(r, false);
    int sig = 0;
    g_autofree char *death = fault == BW_READER_FAULT_CRASH ? describe_death(r, status, &sig) : NULL;
    g_autofree char *how = fault == BW_READER_FAULT_CRASH ? status_text(status) : NULL;
    if (!had_hello) {
        /* Not a message's doing: it never got one. */
        if (++r->failed_starts >= MAX_FAILED_STARTS && r->unavailable == NULL) {
            g_autofree char *program = bw_reader_program();
            r->unavailable = g_strdup_printf("%s does not start (%s); reinstall bouncewatch",
                                             program, why ? why : how ? how : "no hello");
        }
    } else if (was_busy && r->done < r->requests->len) {
        request_t *q = &g_array_index(r->requests, request_t, r->done);
        if (q->careful || q->data != NULL) {
            blame(r, fault, sig, why ? why : death);
        } else {
            /* Its answers came in batches: any of the requests it had may
             * be the one, and answers before it may be lost.  Read them
             * again, each answer written before the next message is
             * parsed: the message that does it again is the culprit (one
             * that does not was not one). */
            r->careful_end = MAX(r->careful_end, r->sent);
            if (r->careful_why == NULL)
                r->careful_why = g_strdup(why ? why : how);
        }
    }
    /* (Idle when it died: nothing to blame, the next one goes on.) */
    r->sent = r->done;
}

/* ------------------------------------------------------------ frames */

static void
queue_request(bw_reader_t *r, guint i)
{
    request_t *q = &g_array_index(r->requests, request_t, i);
    GByteArray *o = r->outq;
    q->careful = i < r->careful_end;
    q->got_mbox = false;
    q->got_results = 0;
    if (q->data != NULL) {
        gsize n = 0;
        const guint8 *d = g_bytes_get_data(q->data, &n);
        guint8 h[BW_READER_FRAME_HEADER] = { BW_READER_REQ_DATA, (guint8)(n & 0xff),
                                             (guint8)((n >> 8) & 0xff), (guint8)((n >> 16) & 0xff),
                                             (guint8)((n >> 24) & 0xff) };
        g_byte_array_append(o, h, sizeof h);
        if (n)
            g_byte_array_append(o, d, (guint)n);
        return;
    }
    GString *g = g_string_sized_new(64 + strlen(q->path));
    bw_wire_frame_start(g, BW_READER_REQ_FILE, (guint32)(8 + strlen(q->path)));
    bw_wire_put_u32(g, q->first);
    bw_wire_put_u32(g, q->limit | (q->careful ? BW_READER_CAREFUL : 0));
    g_string_append(g, q->path);
    g_byte_array_append(o, (const guint8 *)g->str, (guint)g->len);
    g_string_free(g, TRUE);
}

/* Checks that a line is one about the input asked for: a line that
 * claimed another file, or held a line end, would falsify the output. */
static bool
line_is_for(const request_t *q, int index, const char *line, size_t len)
{
    if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len) != NULL)
        return false;
    g_autoptr(GString) head = g_string_sized_new(128);
    bw_report_json_head(head, q->path ? q->path : "-", index);
    g_string_append(head, ",\"bounce\":");
    return len > head->len && memcmp(line, head->str, head->len) == 0 &&
           line[len - 1] == '}' && bw_utf8_validate(line, (gssize)len);
}

/* Handles one frame of the reader.  Returns false when it broke the
 * protocol (*why says how). */
static bool
take_frame(bw_reader_t *r, char type, const guint8 *body, guint32 len, const char **why)
{
    if (!r->hello) {
        if (type != BW_READER_HELLO || len < 4) {
            *why = "no hello";
            return false;
        }
        guint32 version = bw_wire_get_u32(body);
        g_autofree char *build = g_strndup((const char *)body + 4, len - 4);
        if (version != BW_READER_PROTOCOL ||
            strcmp(build, READER_NAME " " PACKAGE_VERSION) != 0) {
            g_autofree char *program = bw_reader_program();
            g_autofree char *safe = g_utf8_make_valid(build, -1);
            g_free(r->unavailable);
            r->unavailable = g_strdup_printf("%s is another build (%s, protocol %u; this is "
                                             PACKAGE_VERSION ", protocol %u): reinstall bouncewatch",
                                             program, g_strcanon(safe, "abcdefghijklmnopqrstuvwxyz"
                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_ ", '?'),
                                             version, BW_READER_PROTOCOL);
            *why = "another build";
            return false;
        }
        r->hello = true;
        r->failed_starts = 0;
        return true;
    }
    if (r->done >= r->sent) {
        *why = "an answer nobody asked for";
        return false;
    }
    request_t *q = &g_array_index(r->requests, request_t, r->done);
    switch (type) {
    case BW_READER_MBOX: {
        /* First thing for a file; again, with the same count, for an mbox
         * resumed after a culprit. */
        guint32 count = len == 4 ? bw_wire_get_u32(body) : 0;
        if (len != 4 || q->data != NULL || (q->limit & BW_READER_READS) || q->got_mbox ||
            q->got_results > 0 ||
            count > BW_MAX_MBOX_MESSAGES || (q->mbox ? count != q->count : q->answered_any)) {
            *why = "a bad mbox frame";
            return false;
        }
        q->mbox = q->got_mbox = true;
        q->count = count;
        return true;
    }
    case BW_READER_RESULT: {
        if (len < 12) {
            *why = "a short result";
            return false;
        }
        gint32 index = (gint32)bw_wire_get_u32(body);
        guint32 status = bw_wire_get_u32(body + 4), dlen = bw_wire_get_u32(body + 8);
        /* Messages of an mbox in order from where it (re)started; -1 for
         * a plain file, or for the file itself when nothing else came. */
        bool index_ok = index == -1 ? q->got_results == 0
                                    : q->got_mbox && index >= (gint32)q->first &&
                                      (guint32)index < q->count;
        if (!index_ok || status >= BW_STATUS_LAST || dlen > len - 12) {
            *why = "a result out of order";
            return false;
        }
        const char *detail_raw = (const char *)body + 12;
        const guint8 *payload = body + 12 + dlen;
        size_t plen = len - 12 - dlen;
        bw_reader_result_t res = { .request = r->done, .index = index,
                                   .status = (bw_status_t)status };
        g_autofree char *detail = dlen ? g_utf8_make_valid(detail_raw, (gssize)dlen) : NULL;
        if (q->limit & BW_READER_READS) {
            /* One answer, about the file; JSON nobody parsed yet. */
            if (index != -1 || (plen > 0 && status != BW_OK) ||
                (plen > 0 && bw_reader_payload_check((const char *)payload, plen, NULL) != BW_OK)) {
                *why = "a damaged answer";
                return false;
            }
            res.json = plen ? (const char *)payload : NULL;
            res.json_len = plen;
        } else if (r->opts.mode == BW_READER_LINES) {
            if (plen > 0 && !line_is_for(q, index, (const char *)payload, plen)) {
                *why = "a line about something else";
                return false;
            }
            res.line = plen ? (const char *)payload : NULL;
            res.line_len = plen;
        } else if (status == BW_OK && plen > 0) {
            g_autofree char *bad = NULL;
            if (bw_report_decode(payload, plen, &res.report, &bad) != BW_OK) {
                *why = "a damaged report";
                return false;
            }
        } else if (status == BW_OK && !(q->limit & BW_READER_BOUNCES_ONLY)) {
            *why = "a result without its report";
            return false;
        }
        if (status != BW_OK && detail == NULL)
            detail = g_strdup(bw_status_to_string((bw_status_t)status));
        push(r, &res, detail);
        q->answered_any = true;
        q->got_results++;
        if (index >= 0)
            q->first = (guint32)index + 1;
        return true;
    }
    case BW_READER_END:
        if (len != 0 || ((q->limit & BW_READER_READS) && q->got_results == 0)) {
            *why = "a bad end frame";
            return false;
        }
        push_end(r, r->done);
        return true;
    default:
        *why = "a frame of an unknown type";
        return false;
    }
}

/* Takes every complete frame from the input buffer.  False on a protocol
 * error (the reader has then been put down). */
static bool
take_frames(bw_reader_t *r)
{
    for (;;) {
        gsize have = r->in->len - r->in_off;
        if (have < BW_READER_FRAME_HEADER)
            return true;
        const guint8 *f = r->in->data + r->in_off;
        guint32 len = bw_wire_get_u32(f + 1);
        if (len > BW_READER_MAX_FRAME) {
            reader_lost(r, BW_READER_FAULT_GARBAGE,
                        "the reader answered garbage on this message (a frame too large)");
            return false;
        }
        if (have < BW_READER_FRAME_HEADER + (gsize)len)
            return true;
        const char *why = NULL;
        if (!take_frame(r, (char)f[0], f + BW_READER_FRAME_HEADER, len, &why)) {
            g_autofree char *what = g_strdup_printf("the reader answered garbage on this message (%s)",
                                                    why);
            reader_lost(r, BW_READER_FAULT_GARBAGE, what);
            return false;
        }
        r->in_off += BW_READER_FRAME_HEADER + len;
        r->progress_us = g_get_monotonic_time();
        if (r->pending->len > 0)
            return true;   /* hand it out before reading further */
    }
}

/* ------------------------------------------------------------ the loop */

static bool
hand_out(bw_reader_t *r, bw_reader_result_t *res)
{
    pending_t p = g_array_index(r->pending, pending_t, 0);
    g_array_remove_index(r->pending, 0);
    g_free(r->last_detail);
    r->last_detail = p.detail;
    *res = p.res;
    return true;
}

bool
bw_reader_next(bw_reader_t *r, bw_reader_result_t *res)
{
    memset(res, 0, sizeof *res);
    g_clear_pointer(&r->last_detail, g_free);
    /* The line handed out last lived in the input buffer: now it may go. */
    if (r->in_off > 0 && r->in_off == r->in->len) {
        g_byte_array_set_size(r->in, 0);
        r->in_off = 0;
    } else if (r->in_off > READ_CHUNK) {
        g_byte_array_remove_range(r->in, 0, (guint)r->in_off);
        r->in_off = 0;
    }
    gint64 wait_from = g_get_monotonic_time();
    for (;;) {
        if (r->pending->len > 0)
            return hand_out(r, res);
        if (r->done >= r->requests->len)
            return false;
        if (r->unavailable != NULL) {
            /* Nothing can be read: say so for each input left. */
            if (r->pid > 0)
                stop_reader(r, false);
            bw_reader_result_t u = { .request = r->done, .index = -1,
                                     .fault = BW_READER_FAULT_UNAVAILABLE,
                                     .status = BW_E_INTERNAL };
            push(r, &u, r->unavailable);
            push_end(r, r->done);
            continue;
        }
        if (r->pid <= 0) {
            if (!start_reader(r))
                continue;   /* r->unavailable says why */
            wait_from = r->started_us;
        }
        if (!take_frames(r))
            continue;
        if (r->pending->len > 0)
            continue;
        /* Keep the reader supplied. */
        while (r->hello && r->sent < r->requests->len && r->sent - r->done < WINDOW)
            queue_request(r, r->sent++);
        while (r->out_off < r->outq->len) {
            ssize_t n = send(r->sock, r->outq->data + r->out_off, r->outq->len - r->out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;   /* full (or gone: the read side will say) */
            r->out_off += (gsize)n;
        }
        if (r->out_off == r->outq->len) {
            g_byte_array_set_size(r->outq, 0);
            r->out_off = 0;
        }
        gint64 now = g_get_monotonic_time();
        gint64 deadline = MAX(r->progress_us, wait_from) + r->wall_us;
        if (now >= deadline) {
            g_autofree char *what = g_strdup_printf(
                r->hello ? "reading this message took more than %.0f s"
                         : "the reader did not start within %.0f s", r->wall_us / 1e6);
            reader_lost(r, BW_READER_FAULT_TIMEOUT, what);
            wait_from = g_get_monotonic_time();
            continue;
        }
        struct pollfd p[2] = {
            { r->sock, (short)(POLLIN | (r->out_off < r->outq->len ? POLLOUT : 0)), 0 },
            { r->err, POLLIN, 0 },
        };
        int left_ms = (int)MIN((deadline - now + 999) / 1000, G_MAXINT);
        int n = poll(p, r->err >= 0 ? 2 : 1, left_ms);
        if (n < 0 && errno != EINTR) {
            reader_lost(r, BW_READER_FAULT_CRASH, NULL);
            continue;
        }
        if (r->err >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
            drain_err(r, false);
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            /* Straight into the input buffer (a line is handed out from
             * there, not copied). */
            guint have = r->in->len;
            g_byte_array_set_size(r->in, have + READ_CHUNK);
            ssize_t got = recv(r->sock, r->in->data + have, READ_CHUNK, MSG_DONTWAIT);
            g_byte_array_set_size(r->in, have + (got > 0 ? (guint)got : 0));
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
                /* It closed its end: it died (or means to). */
                reader_lost(r, BW_READER_FAULT_CRASH, NULL);
                wait_from = g_get_monotonic_time();
            }
        }
    }
}

bool
bw_reader_check(char **why)
{
    /* A reader started for nothing: its hello says it confined itself and
     * read its known report. */
    bw_reader_t *r = bw_reader_new(NULL);
    bool ok = false;
    while (r->unavailable == NULL && !ok) {
        if (r->pid <= 0 && !start_reader(r))
            break;
        if (!take_frames(r))
            continue;
        if (r->hello) {
            ok = true;
            break;
        }
        gint64 deadline = r->started_us + r->wall_us, now = g_get_monotonic_time();
        if (now >= deadline) {
            reader_lost(r, BW_READER_FAULT_TIMEOUT, "the reader did not start in time");
            continue;
        }
        struct pollfd p[2] = { { r->sock, POLLIN, 0 }, { r->err, POLLIN, 0 } };
        if (poll(p, r->err >= 0 ? 2 : 1, (int)((deadline - now + 999) / 1000)) < 0 && errno != EINTR)
            break;
        if (r->err >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
            drain_err(r, false);
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            guint have = r->in->len;
            g_byte_array_set_size(r->in, have + READ_CHUNK);
            ssize_t got = recv(r->sock, r->in->data + have, READ_CHUNK, MSG_DONTWAIT);
            g_byte_array_set_size(r->in, have + (got > 0 ? (guint)got : 0));
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
                reader_lost(r, BW_READER_FAULT_CRASH, NULL);
        }
    }
    if (!ok && why != NULL)
        *why = g_strdup(r->unavailable ? r->unavailable : "the reader does not start");
    bw_reader_free(r);
    return ok;
}
