/* throwing-notmuch.so: LD_PRELOADed by tests/e2e/T250, it makes
 * notmuch_messages_get() throw the way notmuch 0.37's does when Xapian
 * reports a concurrent commit (DatabaseModifiedError out of get_document,
 * which notmuch does not catch there).  A real writer hits that window
 * rarely; this hits it on demand.  BW_TEST_THROWS=N: the first N calls
 * of each process throw; later calls are notmuch's own.
 * BW_TEST_THAW_THROWS=1: notmuch_message_thaw() throws as notmuch's does
 * when writing the document fails (a full disk), without writing.
 * BW_TEST_MOVE_AT=FILE: once FILE exists, the next message getter that
 * notmuch 0.37 reads the document's terms in (_notmuch_message_ensure_
 * metadata: the Message-ID, thread id, file names, tags) first does what
 * that function does when Xapian reports that the revision it reads was
 * discarded by two commits of another writer: notmuch_database_reopen()
 * on the message's database, to the newest revision, telling no one (the
 * call made as libnotmuch makes it: through its GOT entry).  It
 * then removes FILE (one move) and appends the getter's name to FILE.done.
 * (tests/e2e/T343: which read meets a real DatabaseModifiedError depends on
 * which of Xapian's blocks the writer reused; this picks the read.)
 * BW_TEST_MOVE_EVERY_OPEN=CMD: after every open of a database, the first
 * such getter first runs CMD (sh -c, a writer: its environment without
 * LD_PRELOAD and the BW_TEST_ variables), then moves notmuch's handle as
 * above, and appends the getter's name to $BW_TEST_MOVE_EVERY_OPEN_LOG:
 * another program writing during every attempt of a run (T343).
 * BW_TEST_NULL_GETTER=WHAT: the getter WHAT (a header asked of
 * notmuch_message_get_header, as "from", or the name of a getter below)
 * answers what notmuch 0.37's answers when Xapian throws while it reads the
 * document (it catches, logs and returns NULL, -1 for count_files; a
 * header it does not hold is "", not NULL): its first BW_TEST_NULL_SKIP
 * calls of each process (default 0) are notmuch's own, then
 * BW_TEST_NULL_TIMES calls (default: all) fail.  BW_TEST_NULL_LOG=FILE:
 * a line per call of WHAT, "real" or "null" (T344). */
#include <dlfcn.h>
#include <stdexcept>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>
#include <notmuch.h>
#include "elf-refs.h"

extern char **environ;

static void *
real_symbol(const char *name)
{
    /* libnotmuch is in the engine module's local scope (dlopen
     * RTLD_LOCAL), which RTLD_NEXT from here does not search. */
    void *lib = dlopen("libnotmuch.so.5", RTLD_LAZY | RTLD_NOLOAD);
    void *f = dlsym(lib ? lib : RTLD_NEXT, name);
    if (f == NULL)
        abort();
    return f;
}

extern "C" notmuch_message_t *
notmuch_messages_get(notmuch_messages_t *messages)
{
    typedef notmuch_message_t *(*get_fn)(notmuch_messages_t *);
    static get_fn real = NULL;
    if (real == NULL)
        real = (get_fn) real_symbol("notmuch_messages_get");
    static long left = -1;
    if (left < 0) {
        const char *n = getenv("BW_TEST_THROWS");
        left = n ? strtol(n, NULL, 10) : 0;
    }
    if (left > 0) {
        left--;
        throw std::runtime_error("The revision being read has been discarded");
    }
    return real(messages);
}

extern "C" notmuch_status_t
notmuch_message_thaw(notmuch_message_t *message)
{
    typedef notmuch_status_t (*thaw_fn)(notmuch_message_t *);
    static thaw_fn real = NULL;
    if (real == NULL)
        real = (thaw_fn) real_symbol("notmuch_message_thaw");
    const char *t = getenv("BW_TEST_THAW_THROWS");
    if (t != NULL && t[0] == '1')
        throw std::runtime_error("Error writing block 1234 (No space left on device)");
    return real(message);
}

/* BW_TEST_MOVE_EVERY_OPEN (above): a move is due at the next getter. */
static bool move_due;

extern "C" notmuch_status_t
notmuch_database_open_with_config(const char *database_path, notmuch_database_mode_t mode,
                                  const char *config_path, const char *profile,
                                  notmuch_database_t **database, char **error_message)
{
    typedef notmuch_status_t (*open_fn)(const char *, notmuch_database_mode_t, const char *,
                                        const char *, notmuch_database_t **, char **);
    static open_fn real = NULL;
    if (real == NULL)
        real = (open_fn) real_symbol("notmuch_database_open_with_config");
    notmuch_status_t st = real(database_path, mode, config_path, profile, database,
                               error_message);
    if (st == NOTMUCH_STATUS_SUCCESS && getenv("BW_TEST_MOVE_EVERY_OPEN") != NULL)
        move_due = true;
    return st;
}

/* CMD of BW_TEST_MOVE_EVERY_OPEN, run to its end; abort() when it failed. */
static void
run_writer(const char *cmd)
{
    std::vector<char *> env;
    for (char **e = environ; *e != NULL; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "BW_TEST_", 8) != 0)
            env.push_back(*e);
    env.push_back(NULL);
    char sh[] = "sh", c[] = "-c";
    char *argv[] = { sh, c, const_cast<char *>(cmd), NULL };
    pid_t pid = fork();
    if (pid == 0) {
        execve("/bin/sh", argv, env.data());
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
        abort();
}

/* The silent reopen before `getter`: once when BW_TEST_MOVE_AT's file
 * exists, and after each open with BW_TEST_MOVE_EVERY_OPEN (above). */
/* BW_TEST_LOG_AT=FILE: once FILE exists, the next such getter first has
 * libnotmuch catch and log a Xapian exception (a query it cannot parse,
 * counted), as its getters do when a read fails (notmuch_message_get_date
 * then answers 0, telling only the log: notmuch_database_status_string);
 * it removes FILE and appends the getter's name to FILE.done (T343). */
static void
maybe_log(notmuch_message_t *message, const char *getter)
{
    const char *at = getenv("BW_TEST_LOG_AT");
    if (message == NULL || at == NULL || access(at, F_OK) != 0)
        return;
    typedef notmuch_database_t *(*db_fn)(const notmuch_message_t *);
    typedef notmuch_query_t *(*create_fn)(notmuch_database_t *, const char *);
    typedef notmuch_status_t (*count_fn)(notmuch_query_t *, unsigned int *);
    typedef void (*destroy_fn)(notmuch_query_t *);
    db_fn database = (db_fn) real_symbol("notmuch_message_get_database");
    create_fn create = (create_fn) real_symbol("notmuch_query_create");
    count_fn count = (count_fn) real_symbol("notmuch_query_count_messages");
    destroy_fn destroy = (destroy_fn) real_symbol("notmuch_query_destroy");
    unlink(at);
    notmuch_query_t *q = create(database(message), "date:never..nowhere");
    unsigned int n = 0;
    if (q == NULL || count(q, &n) == NOTMUCH_STATUS_SUCCESS)
        abort();   /* it must fail, and log */
    destroy(q);
    std::string done = std::string(at) + ".done";
    FILE *f = fopen(done.c_str(), "a");
    if (f != NULL) {
        fprintf(f, "%s\n", getter);
        fclose(f);
    }
}

/* BW_TEST_NULL_GETTER (above): TRUE when this call of `what` must fail. */
static bool
null_due(const char *what)
{
    const char *g = getenv("BW_TEST_NULL_GETTER");
    if (g == NULL || strcmp(g, what) != 0)
        return false;
    static long calls = 0;
    const char *skip = getenv("BW_TEST_NULL_SKIP");
    const char *times = getenv("BW_TEST_NULL_TIMES");
    long k = skip ? strtol(skip, NULL, 10) : 0;
    long n = times ? strtol(times, NULL, 10) : -1;
    bool fail = calls >= k && (n < 0 || calls < k + n);
    calls++;
    const char *log = getenv("BW_TEST_NULL_LOG");
    FILE *f = log != NULL ? fopen(log, "a") : NULL;
    if (f != NULL) {
        fprintf(f, "%s\n", fail ? "null" : "real");
        fclose(f);
    }
    return fail;
}

extern "C" const char *
notmuch_message_get_header(notmuch_message_t *message, const char *header)
{
    typedef const char *(*fn_t)(notmuch_message_t *, const char *);
    static fn_t real = NULL;
    if (real == NULL)
        real = (fn_t) real_symbol("notmuch_message_get_header");
    if (header != NULL && null_due(header))
        return NULL;
    return real(message, header);
}

static void
maybe_move(notmuch_message_t *message, const char *getter)
{
    maybe_log(message, getter);
    const char *at = getenv("BW_TEST_MOVE_AT");
    const char *every = getenv("BW_TEST_MOVE_EVERY_OPEN");
    bool once = at != NULL && access(at, F_OK) == 0;
    if (message == NULL || !(once || (every != NULL && move_due)))
        return;
    typedef notmuch_database_t *(*db_fn)(const notmuch_message_t *);
    typedef notmuch_status_t (*reopen_fn)(notmuch_database_t *, notmuch_database_mode_t);
    static db_fn database = NULL;
    static reopen_fn reopen = NULL;
    if (database == NULL) {
        database = (db_fn) real_symbol("notmuch_message_get_database");
        /* Called as _notmuch_message_ensure_metadata calls it: through
         * libnotmuch's own GOT entry (its PLT call), so that it reaches
         * what that call reaches (the engine's counting definition,
         * src/adapters/nm-reopen.h), not libnotmuch's function directly. */
        bw_elf_refs_t r;
        if (!bw_elf_refs(real_symbol("notmuch_database_reopen"), "notmuch_database_reopen",
                         false, &r) || r.slots == 0 || r.slots_differ)
            abort();
        reopen = (reopen_fn) r.slot_value;
    }
    std::string done;
    if (once) {
        unlink(at);
        done = std::string(at) + ".done";
    } else {
        move_due = false;
        run_writer(every);
        const char *log = getenv("BW_TEST_MOVE_EVERY_OPEN_LOG");
        done = log != NULL ? log : "";
    }
    if (reopen(database(message), NOTMUCH_DATABASE_MODE_READ_ONLY) != NOTMUCH_STATUS_SUCCESS)
        abort();   /* as notmuch's INTERNAL_ERROR */
    FILE *f = done.empty() ? NULL : fopen(done.c_str(), "a");
    if (f != NULL) {
        fprintf(f, "%s\n", getter);
        fclose(f);
    }
}

/* (`failed`: what the getter answers when reading the document failed) */
#define MOVING_GETTER(type, name, failed)                                 \
    extern "C" type name(notmuch_message_t *message)                     \
    {                                                                     \
        typedef type (*fn_t)(notmuch_message_t *);                        \
        static fn_t real = NULL;                                          \
        if (real == NULL)                                                 \
            real = (fn_t) real_symbol(#name);                             \
        maybe_move(message, #name);                                       \
        if (null_due(#name))                                              \
            return failed;                                                \
        return real(message);                                             \
    }

MOVING_GETTER(const char *, notmuch_message_get_message_id, NULL)
MOVING_GETTER(const char *, notmuch_message_get_thread_id, NULL)
MOVING_GETTER(const char *, notmuch_message_get_filename, NULL)
MOVING_GETTER(notmuch_filenames_t *, notmuch_message_get_filenames, NULL)
MOVING_GETTER(int, notmuch_message_count_files, -1)
MOVING_GETTER(notmuch_tags_t *, notmuch_message_get_tags, NULL)
