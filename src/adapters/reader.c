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

/* Requests in flight per process: enough that the reader never waits for
 * us, few enough that a restart sends little again. */
#define WINDOW 32u
/* A reader that dies before its hello this many times in a row is broken
 * (a missing library, a self-test that fails), not stopped by mail. */
#define MAX_FAILED_STARTS 3
/* What the readers may write on standard error per batch before it is cut
 * (an ASan report is a few KiB; a flood of warnings is not read by anyone). */
#define MAX_STDERR_BYTES (64u * 1024u)
#define MAX_STDERR_LINE 512u
#define READ_CHUNK 65536u

/* The pool.  A batch big enough is read by up to MAX_READERS processes at
 * once, each given contiguous blocks of the inputs; the answers are merged
 * in the order the inputs were added.  A process is given its next block
 * when fewer than LOW_WATER of its inputs are left unread, so the inputs
 * go where the reading goes fastest and the processes finish together
 * (the batch waits for the last one), and while fewer than LOOKAHEAD of
 * its inputs wait to be handed out, so it never runs further ahead of the
 * merge than that (memory).  LOW_WATER is the window: as many requests in
 * flight as before.  (Blocks of 64 handed out by the merge's progress
 * alone fixed the split in advance: 215 and 192 of the 407 bounces,
 * 76.2 M and 71.2 M instructions, and on a busy machine one process
 * could sit idle while the other still had a hundred inputs.) */
#define MAX_READERS 8
#define BLOCK 8u
#define LOW_WATER WINDOW
#define LOOKAHEAD 192u
/* The end of a batch: once a process has been sent an input, no other can
 * take it, and a process tells us how far it got only every ~23 answers
 * (the reader's FLUSH_AT) or when it has nothing left to read.  With
 * LOW_WATER inputs each when the last block went out, one process could
 * still have a dozen inputs to read when the other had finished (the gap
 * between their ends: 0.4-0.8 ms median over the 407 bounces, while one
 * core idles).  So the low water follows what is left: no more than
 * 1/(2 * processes) of the inputs not finished (handed out or not), and
 * not less than TAIL_MIN, below which each hand-out would cost a process
 * a round trip through us for little. */
#define TAIL_MIN 4u
/* Inputs waiting before more than one process starts, by default.  A
 * start costs ~2.7 ms of CPU (the dynamic loading of GMime, GLib and
 * their ~20 libraries, most of it), a message 0.03-0.06 ms.  `parse
 * --json` of N random bounces of set-of-emails, one process against two
 * (perf stat -r 40, 2 cores, December): N=50 8.6-9.8 -> 7.0-8.2 ms wall
 * for +2.5 ms CPU; N=100 12.2-12.7 -> 9.1-10.3 ms for +3-5 ms; N=200 16.6
 * -> 11.8 ms for +3-4 ms.  The hook's new mail (a few messages; its goal
 * is CPU time) stays with one process; from 100 inputs the second one
 * pays for itself in wall-clock time (it was 300 when a start cost ~30 ms). */
#define DEFAULT_SPLIT 100u
/* Answers of a process ahead of the merge are taken off its socket (so it
 * never blocks on us while we wait for another) up to this size; beyond
 * it the process waits, and is not timed out while it does. */
#define MAX_AHEAD_BYTES (16u * 1024u * 1024u)
#define NO_OWNER 0xffu

typedef struct {
    char *path;              /* a file, or NULL for data */
    GBytes *data;
    guint32 limit;           /* messages (0 = all) | BW_READER_BOUNCES_ONLY */
    guint32 first;           /* the mbox message to start from */
    guint32 count;           /* messages in the mbox, when one */
    guint8 owner;            /* the process slot reading it, NO_OWNER before */
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
    char *payload;           /* owned copy of res.line / res.json */
    gsize cost;              /* what it counts towards MAX_AHEAD_BYTES */
} pending_t;

/* One slot of the pool: a process (when pid > 0) and the inputs given to
 * it, which are read in order; a process lost is replaced in its slot and
 * goes on from the first input the slot has not finished. */
typedef struct {
    guint8 slot;
    pid_t pid;
    int sock;
    int err;
    bool hello;
    bool used;               /* a process ran in this slot in this batch */
    gint64 started_us;
    gint64 progress_us;      /* the last frame */
    GByteArray *in;
    gsize in_off;
    GByteArray *outq;
    gsize out_off;
    GString *err_line;
    guint done;              /* its first input not finished (or >= owned_end) */
    guint sent;              /* its inputs before this one went to the current process */
    guint inflight;          /* sent to the current process, not finished */
    guint owned_end;         /* after its last input */
    guint waiting;           /* its inputs not handed out yet */
    guint unread;            /* its inputs not finished yet */
    guint careful_end;       /* its inputs before this one are sent careful */
    char *careful_why;       /* why, until a culprit is found among them */
    GArray *pending;         /* pending_t: its answers; those from pending_head on
                                are not handed out yet (a queue: taking the
                                first by moving the rest cost a full scan
                                ~2,000 M instructions) */
    guint pending_head;
    gsize pending_bytes;
    bool stalled;            /* too far ahead: its socket is not read */
    bool input_closed;       /* told it has nothing more to read (SHUT_WR) */
} worker_t;

struct bw_reader {
    bw_reader_options_t opts;
    unsigned cpu_seconds;
    gint64 wall_us;
    GArray *requests;        /* request_t */
    guint done;              /* requests before this one are handed out */
    guint assigned;          /* requests before this one have a slot */
    guint max_workers;
    guint split;             /* inputs waiting before a second process starts */
    worker_t workers[MAX_READERS];
    gsize err_bytes;
    /* over the batch */
    unsigned starts;
    int failed_starts;
    char *unavailable;       /* why no reader can run, or NULL */
    char *last_detail;       /* detail of the result handed out last */
    char *last_payload;
    GString *line_head;      /* what a line must start with (line_is_for) */
    bool no_more;            /* bw_reader_no_more_inputs() */
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

/* BOUNCEWATCH_READERS, else min(2, online CPUs). */
static guint
pool_size(void)
{
    const char *env = g_getenv("BOUNCEWATCH_READERS");
    guint64 n = 0;
    if (env != NULL && *env != '\0')
        n = g_ascii_strtoull(env, NULL, 10);
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus >= 2 ? 2 : 1;
    }
    return (guint)MIN(n, (guint64)MAX_READERS);
}

static guint
pool_split(void)
{
    const char *env = g_getenv("BOUNCEWATCH_READERS_SPLIT");
    if (env != NULL && *env != '\0') {
        guint64 n = g_ascii_strtoull(env, NULL, 10);
        return (guint)CLAMP(n, 1, G_MAXUINT);
    }
    return DEFAULT_SPLIT;
}

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
    r->max_workers = pool_size();
    r->split = pool_split();
    for (guint i = 0; i < MAX_READERS; i++) {
        worker_t *w = &r->workers[i];
        w->slot = (guint8)i;
        w->sock = w->err = -1;
    }
    return r;
}

/* A slot's buffers, made when it is first used. */
static void
worker_init(worker_t *w)
{
    if (w->in != NULL)
        return;
    w->in = g_byte_array_new();
    w->outq = g_byte_array_new();
    w->err_line = g_string_new(NULL);
    w->pending = g_array_new(FALSE, TRUE, sizeof(pending_t));
}

/* Before a text is made that someone reads: its language is the locale's
 * (reader.h, before_text). */
static void
text_coming(bw_reader_t *r)
{
    if (r->opts.before_text != NULL)
        r->opts.before_text();
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

/* One line of a reader's standard error, made safe for a terminal or a
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
        text_coming(r);
        say(r, READER_NAME ": %s", _("(more output not shown)"));
        return;
    }
    if (r->opts.log)
        r->opts.log(r->opts.log_data, line);
}

/* Reads what a reader wrote on standard error; at_end: it has exited,
 * read to the end and pass on an unfinished last line too. */
static void
drain_err(bw_reader_t *r, worker_t *w, bool at_end)
{
    if (w->err < 0)
        return;
    char buf[4096];
    for (;;) {
        ssize_t n = read(w->err, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0) {
                close(w->err);
                w->err = -1;
            }
            break;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                relay_err_line(r, w->err_line->str, w->err_line->len);
                g_string_truncate(w->err_line, 0);
            } else if (w->err_line->len < MAX_STDERR_LINE + 1) {
                g_string_append_c(w->err_line, buf[i]);
            }
        }
    }
    if (at_end && w->err_line->len > 0) {
        relay_err_line(r, w->err_line->str, w->err_line->len);
        g_string_truncate(w->err_line, 0);
    }
}

static void
close_fds(worker_t *w)
{
    if (w->sock >= 0)
        close(w->sock);
    if (w->err >= 0)
        close(w->err);
    w->sock = w->err = -1;
}

/* Ends a slot's process (SIGKILL unless `gently`), reaps it and returns
 * its wait status. */
static int
stop_reader(bw_reader_t *r, worker_t *w, bool gently)
{
    int status = 0;
    if (w->pid <= 0) {
        close_fds(w);
        return 0;
    }
    if (gently) {
        /* Idle: closing its input ends it (and lets a sanitizer build run
         * its leak check).  Its standard error closes when it has exited. */
        if (w->sock >= 0) {
            close(w->sock);
            w->sock = -1;
        }
        gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (w->err >= 0) {
            gint64 left = (until - g_get_monotonic_time()) / 1000;
            if (left <= 0)
                break;
            struct pollfd p = { w->err, POLLIN, 0 };
            if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
                break;
            drain_err(r, w, false);
        }
        if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
            w->pid = 0;
            drain_err(r, w, true);
            close_fds(w);
            return status;
        }
    }
    kill(w->pid, SIGKILL);
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    w->pid = 0;
    drain_err(r, w, true);
    close_fds(w);
    return status;
}

/* Ends a slot's process that has nothing to do (its input is closed, or
 * is closed now) and says so if it did not exit cleanly. */
static void
end_idle(bw_reader_t *r, worker_t *w)
{
    int status = stop_reader(r, w, true);
    if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        text_coming(r);
        if (WIFSIGNALED(status))
            say(r, _("%s ended by signal %d"), READER_NAME, WTERMSIG(status));
        else
            say(r, _("%s exited with status %d"), READER_NAME, WEXITSTATUS(status));
    }
}

static void
pending_clear(pending_t *p)
{
    g_free(p->detail);
    g_free(p->payload);
    bw_report_free(p->res.report);
}

void
bw_reader_free(bw_reader_t *r)
{
    if (r == NULL)
        return;
    /* The idle ones are told to end all at once (their input closes), then
     * waited for: one after the other, each exit was waited out alone
     * (~0.5 ms a process, at the end of every batch). */
    for (guint i = 0; i < MAX_READERS; i++) {
        worker_t *w = &r->workers[i];
        if (w->pid > 0 && w->sock >= 0 && (w->done >= w->owned_end || w->inflight == 0)) {
            close(w->sock);
            w->sock = -1;
        }
    }
    for (guint i = 0; i < MAX_READERS; i++) {
        worker_t *w = &r->workers[i];
        if (w->pid > 0) {
            bool idle = w->done >= w->owned_end || w->inflight == 0;
            if (idle)
                end_idle(r, w);
            else
                stop_reader(r, w, false);
        }
        if (w->in == NULL)
            continue;
        for (guint j = w->pending_head; j < w->pending->len; j++)
            pending_clear(&g_array_index(w->pending, pending_t, j));
        g_array_unref(w->pending);
        g_byte_array_unref(w->in);
        g_byte_array_unref(w->outq);
        g_string_free(w->err_line, TRUE);
        g_free(w->careful_why);
    }
    for (guint i = 0; i < r->requests->len; i++) {
        request_t *q = &g_array_index(r->requests, request_t, i);
        g_free(q->path);
        if (q->data)
            g_bytes_unref(q->data);
    }
    g_array_unref(r->requests);
    g_free(r->unavailable);
    g_free(r->last_detail);
    g_free(r->last_payload);
    if (r->line_head != NULL)
        g_string_free(r->line_head, TRUE);
    g_free(r);
}

unsigned
bw_reader_starts(const bw_reader_t *r)
{
    return r->starts;
}

void
bw_reader_no_more_inputs(bw_reader_t *r)
{
    r->no_more = true;
}

static guint
add_request(bw_reader_t *r, request_t *q)
{
    g_return_val_if_fail(!r->no_more, G_MAXUINT);
    q->owner = NO_OWNER;
    g_array_append_val(r->requests, *q);
    return r->requests->len - 1;
}

guint
bw_reader_add_file(bw_reader_t *r, const char *path, unsigned limit, bool bounces_only)
{
    request_t q = { 0 };
    q.path = g_strdup(path);
    q.limit = MIN(limit, ~BW_READER_FLAGS) | (bounces_only ? BW_READER_BOUNCES_ONLY : 0);
    return add_request(r, &q);
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
    return add_request(r, &q);
}

guint
bw_reader_add_data(bw_reader_t *r, GBytes *data)
{
    request_t q = { 0 };
    q.data = g_bytes_ref(data);
    return add_request(r, &q);
}

/* ------------------------------------------------------------ the slots */

static request_t *
request_at(bw_reader_t *r, guint i)
{
    return &g_array_index(r->requests, request_t, i);
}

/* The slot's first input at or after `from` (owned_end when none). */
static guint
next_owned(bw_reader_t *r, const worker_t *w, guint from)
{
    while (from < w->owned_end && request_at(r, from)->owner != w->slot)
        from++;
    return from;
}

static bool
has_work(const worker_t *w)
{
    return w->done < w->owned_end;
}

/* Gives the inputs without a slot to the slots, a block at a time.  One
 * slot while few inputs wait (a start costs more than it saves); all of
 * them once enough wait, and a slot that ran in this batch keeps taking
 * blocks. */
static void
assign(bw_reader_t *r)
{
    guint len = r->requests->len;
    if (r->assigned >= len)
        return;
    guint slots = 1;
    if (len - r->done >= r->split)
        slots = r->max_workers;
    for (guint i = slots; i < r->max_workers; i++)
        if (r->workers[i].used)
            slots = i + 1;
    if (r->unavailable != NULL)
        slots = 1;
    guint low_water = LOW_WATER;
    if (slots > 1) {
        guint unfinished = len - r->assigned;
        for (guint i = 0; i < slots; i++)
            unfinished += r->workers[i].unread;
        low_water = CLAMP(unfinished / (2 * slots), TAIL_MIN, LOW_WATER);
    }
    for (bool gave = true; gave && r->assigned < len;) {
        gave = false;
        for (guint i = 0; i < slots && r->assigned < len; i++) {
            worker_t *w = &r->workers[i];
            /* The slot the merge waits for always gets one. */
            if ((w->waiting >= LOOKAHEAD || (slots > 1 && w->unread >= low_water)) &&
                r->assigned > r->done)
                continue;
            worker_init(w);
            guint left = len - r->assigned;
            guint n = MIN(BLOCK, MAX(1u, (left + slots - 1) / slots));
            if (slots > 1 && w->unread < low_water)
                n = MIN(n, low_water - w->unread);   /* (the end of a batch) */
            if (!has_work(w))
                w->done = r->assigned;
            for (guint k = 0; k < n; k++)
                request_at(r, r->assigned + k)->owner = w->slot;
            if (w->pid > 0 && w->sent >= w->owned_end)
                w->sent = r->assigned;   /* it had sent all it had */
            r->assigned += n;
            w->owned_end = r->assigned;
            w->waiting += n;
            w->unread += n;
            gave = true;
        }
    }
}

/* ------------------------------------------------------------ starting */

static bool
start_reader(bw_reader_t *r, worker_t *w)
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
        text_coming(r);
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
    /* glibc's per-thread cache of freed blocks holds 7 of each size by
     * default: a message allocates and frees thousands of small blocks,
     * and 64 took 1.3% of the reader's instructions off for 3% more page
     * faults (1,000: 2% and 40% more faults; callgrind and perf stat, the
     * 407 bounces).  Unless the user tunes glibc already. */
    static const char tunables[] = "GLIBC_TUNABLES=glibc.malloc.tcache_count=64";
    char **envp = environ;
    g_autofree char **own_env = NULL;
    if (g_getenv("GLIBC_TUNABLES") == NULL) {
        gsize n = environ != NULL ? g_strv_length(environ) : 0;
        own_env = g_new(char *, n + 2);
        for (gsize i = 0; i < n; i++)
            own_env[i] = environ[i];
        own_env[n] = (char *)tunables;
        own_env[n + 1] = NULL;
        envp = own_env;
    }
    pid_t pid = 0;
    int rc = posix_spawn(&pid, program, &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    close(ep[1]);
    if (rc != 0) {
        close(sv[0]);
        close(ep[0]);
        text_coming(r);
        g_free(r->unavailable);
        r->unavailable = g_strdup_printf("cannot start %s: %s; reinstall bouncewatch (or set "
                                         "BOUNCEWATCH_READER)", program, g_strerror(rc));
        return false;
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    fcntl(ep[0], F_SETFL, fcntl(ep[0], F_GETFL) | O_NONBLOCK);
    worker_init(w);
    w->pid = pid;
    w->sock = sv[0];
    w->err = ep[0];
    w->hello = false;
    w->used = true;
    w->stalled = false;
    w->input_closed = false;
    w->started_us = w->progress_us = g_get_monotonic_time();
    g_byte_array_set_size(w->in, 0);
    w->in_off = 0;
    g_byte_array_set_size(w->outq, 0);
    w->out_off = 0;
    w->sent = w->done;
    w->inflight = 0;
    r->starts++;
    return true;
}

/* ------------------------------------------------------------ results */

static void
push(worker_t *w, const bw_reader_result_t *res, const char *detail, const void *payload,
     size_t plen, gsize cost)
{
    pending_t p = { *res, g_strdup(detail), NULL, cost + sizeof(pending_t) };
    p.res.detail = p.detail;
    if (plen > 0) {
        /* A copy: the slot's input buffer moves on while it waits. */
        p.payload = g_malloc(plen + 1);
        memcpy(p.payload, payload, plen);
        p.payload[plen] = '\0';
        if (p.res.line != NULL)
            p.res.line = p.payload;
        if (p.res.json != NULL)
            p.res.json = p.payload;
    }
    w->pending_bytes += p.cost;
    g_array_append_val(w->pending, p);
}

static void
push_end(bw_reader_t *r, worker_t *w, guint request)
{
    bw_reader_result_t e = { .request = request, .index = -1, .end = true };
    push(w, &e, NULL, NULL, 0, 0);
    w->done = next_owned(r, w, request + 1);
    if (w->inflight > 0)
        w->inflight--;
    if (w->unread > 0)
        w->unread--;
    /* Finished: its input is not sent again (a scan queues every message
     * of a mailbox). */
    request_t *q = request_at(r, request);
    g_clear_pointer(&q->path, g_free);
    g_clear_pointer(&q->data, g_bytes_unref);
    if (w->careful_why != NULL && w->done >= w->careful_end) {
        /* Read again one by one, none of them stopped it: not a message's
         * doing (or not one that does it every time).  Worth a line. */
        text_coming(r);
        say(r, _("the reader stopped (%s) but read the same messages again without trouble"),
            w->careful_why);
        g_clear_pointer(&w->careful_why, g_free);
    }
}

/* A slot's process stopped while reading its input w->done: that message
 * is the culprit; inside an mbox the rest of the file is read by the next
 * one. */
static void
blame(bw_reader_t *r, worker_t *w, bw_reader_fault_t fault, int sig, const char *detail)
{
    request_t *q = request_at(r, w->done);
    int index = q->mbox ? (int)q->first : -1;
    bw_reader_result_t res = { .request = w->done, .index = index, .fault = fault,
                               .signal = sig, .status = BW_E_INTERNAL };
    push(w, &res, detail, NULL, 0, 0);
    g_clear_pointer(&w->careful_why, g_free);   /* found */
    q->answered_any = true;
    if (q->mbox && q->first + 1 < q->count)
        q->first++;
    else
        push_end(r, w, w->done);
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

/* A slot's process is gone or is being put down: work out what it was
 * doing, blame that, and let the slot start a new one. */
static void
reader_lost(bw_reader_t *r, worker_t *w, bw_reader_fault_t fault, const char *why)
{
    bool was_busy = w->inflight > 0;
    bool had_hello = w->hello;
    int status = stop_reader(r, w, false);
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
    } else if (was_busy && has_work(w)) {
        request_t *q = request_at(r, w->done);
        /* The reader writes what it has before it parses a careful message
         * (data is always careful), not after: when the message sent
         * after this one was not careful, the reader may have parsed that
         * with this one's answer still held, and died with both. */
        guint after = next_owned(r, w, w->done + 1);
        bool answer_written = after >= w->sent || after < w->careful_end;
        if ((q->careful || q->data != NULL) && answer_written) {
            blame(r, w, fault, sig, why ? why : death);
        } else {
            /* Its answers came in batches: any of the requests it had may
             * be the one, and answers before it may be lost.  Read them
             * again, each answer written before the next message is
             * parsed: the message that does it again is the culprit (one
             * that does not was not one). */
            w->careful_end = MAX(w->careful_end, w->sent);
            if (w->careful_why == NULL)
                w->careful_why = g_strdup(why ? why : how);
        }
    }
    /* (Idle when it died: nothing to blame, the next one goes on.) */
    w->sent = w->done;
    w->inflight = 0;
    w->stalled = false;
}

/* ------------------------------------------------------------ frames */

static void
put_le32(guint8 *p, guint32 v)
{
    p[0] = (guint8)(v & 0xff);
    p[1] = (guint8)((v >> 8) & 0xff);
    p[2] = (guint8)((v >> 16) & 0xff);
    p[3] = (guint8)((v >> 24) & 0xff);
}

static void
queue_request(bw_reader_t *r, worker_t *w, guint i)
{
    request_t *q = request_at(r, i);
    GByteArray *o = w->outq;
    q->careful = i < w->careful_end;
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
    /* Written straight into the queue (a GString a request cost ~100 M
     * instructions over a full scan at 160k): the frame header
     * (bw_wire_frame_start), the first message and the flags
     * (bw_wire_put_u32: little-endian), then the path. */
    G_STATIC_ASSERT(BW_READER_FRAME_HEADER == 5);
    size_t plen = strlen(q->path);
    guint8 h[BW_READER_FRAME_HEADER + 8];
    h[0] = (guint8)BW_READER_REQ_FILE;
    put_le32(h + 1, (guint32)(8 + plen));
    put_le32(h + 5, q->first);
    put_le32(h + 9, q->limit | (q->careful ? BW_READER_CAREFUL : 0));
    g_byte_array_append(o, h, sizeof h);
    g_byte_array_append(o, (const guint8 *)q->path, (guint)plen);
}

/* Checks that a line is one about the input asked for: a line that
 * claimed another file, or held a line end, would falsify the output. */
static bool
line_is_for(bw_reader_t *r, const request_t *q, int index, const char *line, size_t len)
{
    if (memchr(line, '\n', len) != NULL || memchr(line, '\0', len) != NULL)
        return false;
    /* (one buffer for every line of the batch, not one each) */
    if (r->line_head == NULL)
        r->line_head = g_string_sized_new(256);
    GString *head = r->line_head;
    g_string_truncate(head, 0);
    bw_report_json_head(head, q->path ? q->path : "-", index);
    g_string_append(head, ",\"bounce\":");
    return len > head->len && memcmp(line, head->str, head->len) == 0 &&
           line[len - 1] == '}' && bw_utf8_validate(line, (gssize)len);
}

/* Handles one frame of a slot's process.  Returns false when it broke the
 * protocol (*why says how). */
static bool
take_frame(bw_reader_t *r, worker_t *w, char type, const guint8 *body, guint32 len,
           const char **why)
{
    if (!w->hello) {
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
        w->hello = true;
        r->failed_starts = 0;
        return true;
    }
    if (w->inflight == 0 || !has_work(w)) {
        *why = "an answer nobody asked for";
        return false;
    }
    request_t *q = request_at(r, w->done);
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
        bw_reader_result_t res = { .request = w->done, .index = index,
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
            if (plen > 0 && !line_is_for(r, q, index, (const char *)payload, plen)) {
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
        push(w, &res, detail, payload, res.line != NULL || res.json != NULL ? plen : 0, len);
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
        push_end(r, w, w->done);
        return true;
    default:
        *why = "a frame of an unknown type";
        return false;
    }
}

/* Takes every complete frame from a slot's input buffer.  False on a
 * protocol error (the process has then been put down). */
static bool
take_frames(bw_reader_t *r, worker_t *w)
{
    bool ok = true;
    for (;;) {
        gsize have = w->in->len - w->in_off;
        if (have < BW_READER_FRAME_HEADER)
            break;
        const guint8 *f = w->in->data + w->in_off;
        guint32 len = bw_wire_get_u32(f + 1);
        if (len > BW_READER_MAX_FRAME) {
            reader_lost(r, w, BW_READER_FAULT_GARBAGE,
                        "the reader answered garbage on this message (a frame too large)");
            ok = false;
            break;
        }
        if (have < BW_READER_FRAME_HEADER + (gsize)len)
            break;
        const char *why = NULL;
        if (!take_frame(r, w, (char)f[0], f + BW_READER_FRAME_HEADER, len, &why)) {
            g_autofree char *what = g_strdup_printf("the reader answered garbage on this message (%s)",
                                                    why);
            reader_lost(r, w, BW_READER_FAULT_GARBAGE, what);
            ok = false;
            break;
        }
        w->in_off += BW_READER_FRAME_HEADER + len;
        w->progress_us = g_get_monotonic_time();
    }
    /* Nothing borrows from the buffer (answers are copied): drop what was
     * taken, without moving a long unfinished frame again and again. */
    if (!ok || w->in_off == w->in->len) {
        g_byte_array_set_size(w->in, 0);
        w->in_off = 0;
    } else if (w->in_off >= READ_CHUNK && w->in_off * 2 >= w->in->len) {
        g_byte_array_remove_range(w->in, 0, (guint)w->in_off);
        w->in_off = 0;
    }
    return ok;
}

/* Reads what a slot's process sent; false when it is gone. */
static bool
receive(bw_reader_t *r, worker_t *w)
{
    guint have = w->in->len;
    g_byte_array_set_size(w->in, have + READ_CHUNK);
    ssize_t got = recv(w->sock, w->in->data + have, READ_CHUNK, MSG_DONTWAIT);
    g_byte_array_set_size(w->in, have + (got > 0 ? (guint)got : 0));
    if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) {
        /* It closed its end: it died (or means to).  What it wrote before
         * counts: an answer it finished is not lost.  Told it had nothing
         * more to read and with every request answered, it ended as it
         * should. */
        if (take_frames(r, w)) {
            if (got == 0 && w->input_closed && w->inflight == 0)
                end_idle(r, w);
            else
                reader_lost(r, w, BW_READER_FAULT_CRASH, NULL);
        }
        return false;
    }
    take_frames(r, w);
    return true;
}

/* ------------------------------------------------------------ the loop */

/* Sends a slot's process what it may have, without waiting.  From its
 * start, not from its hello: the requests wait in the socket while it
 * loads and tests itself, so it reads the first of them as soon as it has
 * said hello (waiting for the hello to send them cost a round trip through
 * us, 40-100 us, at the start of every process).  A process that never
 * says hello, or says another build's, reads none of them (it is put down
 * or is no reader of ours), and a process lost before its hello is blamed
 * for no message: what it was sent is sent again to the next one
 * (reader_lost). */
static void
supply(bw_reader_t *r, worker_t *w)
{
    while (w->sent < w->owned_end && w->inflight < WINDOW) {
        w->sent = next_owned(r, w, w->sent);
        if (w->sent >= w->owned_end)
            break;
        queue_request(r, w, w->sent++);
        w->inflight++;
    }
    while (w->out_off < w->outq->len) {
        ssize_t n = send(w->sock, w->outq->data + w->out_off, w->outq->len - w->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* full (or gone: the read side will say) */
        w->out_off += (gsize)n;
    }
    if (w->out_off == w->outq->len) {
        g_byte_array_set_size(w->outq, 0);
        w->out_off = 0;
        /* Everything it will ever be asked is sent: it may end once it
         * has answered (bw_reader_no_more_inputs). */
        if (r->no_more && !w->input_closed && w->hello && w->sent >= w->owned_end &&
            r->assigned >= r->requests->len && w->pid > 0 &&
            shutdown(w->sock, SHUT_WR) == 0)
            w->input_closed = true;
    }
}

/* One round: starts the processes that are needed, feeds them, waits for
 * any of them (at most until the nearest deadline) and takes what came.
 * `head` is the slot the merge waits for; `wait_from`, when the caller
 * started waiting (time the caller spent is nobody's fault). */
static void
pump(bw_reader_t *r, worker_t *head, gint64 wait_from)
{
    /* The slots are started side by side (a start takes as long as
     * reading a few hundred messages), the head's first; once a start has
     * failed, one at a time, so that a reader that cannot start fails
     * MAX_FAILED_STARTS times in a row, not that many per slot. */
    bool starting = false;
    for (guint i = 0; i < MAX_READERS && r->failed_starts > 0; i++)
        if (r->workers[i].pid > 0 && !r->workers[i].hello)
            starting = true;
    for (guint k = 0; k <= r->max_workers && !starting && r->unavailable == NULL; k++) {
        worker_t *w = k == 0 ? head : &r->workers[k - 1];
        if (w->pid <= 0 && has_work(w)) {
            if (!start_reader(r, w))
                return;   /* r->unavailable says why */
            /* Its first requests go into its socket now, not after the
             * next slot's start: posix_spawn returns once the new process
             * has exec'd, which on a busy machine took 5-9 ms (it waits
             * for a CPU), and the process started first had loaded
             * itself and sat waiting for its requests meanwhile. */
            supply(r, w);
            starting = r->failed_starts > 0;
        }
    }
    struct pollfd p[2 * MAX_READERS];
    worker_t *of[2 * MAX_READERS];
    nfds_t n = 0;
    gint64 now = g_get_monotonic_time();
    gint64 deadline = G_MAXINT64;
    for (guint i = 0; i < MAX_READERS; i++) {
        worker_t *w = &r->workers[i];
        if (w->pid <= 0)
            continue;
        supply(r, w);
        /* Far ahead of the merge: left to wait (it may block writing to
         * us, it never waits for the head); its clock does not run. */
        w->stalled = w != head && w->pending_bytes >= MAX_AHEAD_BYTES;
        if (w->stalled)
            w->progress_us = now;
        if (!w->hello || w->inflight > 0) {
            gint64 d = MAX(w->hello ? w->progress_us : w->started_us, wait_from) + r->wall_us;
            if (d <= now) {
                g_autofree char *what = g_strdup_printf(
                    w->hello ? "reading this message took more than %.0f s"
                             : "the reader did not start within %.0f s", r->wall_us / 1e6);
                reader_lost(r, w, BW_READER_FAULT_TIMEOUT, what);
                return;
            }
            deadline = MIN(deadline, d);
        }
        if (!w->stalled) {
            short ev = (short)(POLLIN | (w->out_off < w->outq->len ? POLLOUT : 0));
            p[n] = (struct pollfd){ w->sock, ev, 0 };
            of[n++] = w;
        }
        if (w->err >= 0) {
            p[n] = (struct pollfd){ w->err, POLLIN, 0 };
            of[n++] = w;
        }
    }
    if (n == 0)
        return;
    int left_ms = deadline == G_MAXINT64 ? -1 : (int)MIN((deadline - now + 999) / 1000, G_MAXINT);
    int got = poll(p, n, left_ms);
    if (got < 0 && errno != EINTR) {
        reader_lost(r, head->pid > 0 ? head : of[0], BW_READER_FAULT_CRASH, NULL);
        return;
    }
    if (got <= 0)
        return;
    for (nfds_t i = 0; i < n; i++) {
        worker_t *w = of[i];
        if (w->pid <= 0 || p[i].revents == 0)
            continue;   /* (lost while this round was handled) */
        if (p[i].fd == w->err) {
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
                drain_err(r, w, false);
        } else if (p[i].fd == w->sock && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
            receive(r, w);
        }
    }
}

static void
hand_out(bw_reader_t *r, worker_t *w, bw_reader_result_t *res)
{
    pending_t p = g_array_index(w->pending, pending_t, w->pending_head);
    w->pending_head++;
    if (w->pending_head == w->pending->len) {
        g_array_set_size(w->pending, 0);
        w->pending_head = 0;
    } else if (w->pending_head >= 1024 && w->pending_head * 2 >= w->pending->len) {
        /* those handed out are dropped in one move, now and then */
        g_array_remove_range(w->pending, 0, w->pending_head);
        w->pending_head = 0;
    }
    w->pending_bytes -= MIN(w->pending_bytes, p.cost);
    r->last_detail = p.detail;
    r->last_payload = p.payload;
    *res = p.res;
    if (res->end) {
        r->done = res->request + 1;
        w->waiting--;
    }
}

bool
bw_reader_next(bw_reader_t *r, bw_reader_result_t *res)
{
    memset(res, 0, sizeof *res);
    g_clear_pointer(&r->last_detail, g_free);
    g_clear_pointer(&r->last_payload, g_free);
    gint64 wait_from = g_get_monotonic_time();
    for (;;) {
        if (r->done >= r->requests->len)
            return false;
        assign(r);
        worker_t *w = &r->workers[request_at(r, r->done)->owner];
        if (w->pending->len > w->pending_head) {
            hand_out(r, w, res);
            return true;
        }
        if (r->unavailable != NULL) {
            /* Nothing can be read: say so for each input left. */
            for (guint i = 0; i < MAX_READERS; i++)
                if (r->workers[i].pid > 0)
                    stop_reader(r, &r->workers[i], false);
            w->done = r->done;
            bw_reader_result_t u = { .request = r->done, .index = -1,
                                     .fault = BW_READER_FAULT_UNAVAILABLE,
                                     .status = BW_E_INTERNAL };
            push(w, &u, r->unavailable, NULL, 0, 0);
            push_end(r, w, r->done);
            continue;
        }
        pump(r, w, wait_from);
    }
}

bool
bw_reader_ready(bw_reader_t *r)
{
    if (r->done >= r->requests->len || r->unavailable != NULL)
        return true;
    assign(r);
    const worker_t *w = &r->workers[request_at(r, r->done)->owner];
    return w->pending->len > w->pending_head;
}

bool
bw_reader_check(char **why)
{
    /* A reader started for nothing: its hello says it confined itself and
     * read its known report. */
    bw_reader_t *r = bw_reader_new(NULL);
    worker_t *w = &r->workers[0];
    bool ok = false;
    while (r->unavailable == NULL && !ok) {
        if (w->pid <= 0 && !start_reader(r, w))
            break;
        if (!take_frames(r, w))
            continue;
        if (w->hello) {
            ok = true;
            break;
        }
        gint64 deadline = w->started_us + r->wall_us, now = g_get_monotonic_time();
        if (now >= deadline) {
            reader_lost(r, w, BW_READER_FAULT_TIMEOUT, "the reader did not start in time");
            continue;
        }
        struct pollfd p[2] = { { w->sock, POLLIN, 0 }, { w->err, POLLIN, 0 } };
        if (poll(p, w->err >= 0 ? 2 : 1, (int)((deadline - now + 999) / 1000)) < 0 && errno != EINTR)
            break;
        if (w->err >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
            drain_err(r, w, false);
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
            receive(r, w);
    }
    if (!ok && why != NULL)
        *why = g_strdup(r->unavailable ? r->unavailable : "the reader does not start");
    bw_reader_free(r);
    return ok;
}
