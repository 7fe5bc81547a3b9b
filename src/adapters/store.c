/* store.c: bouncewatch's state in SQLite (see store.h for the contract). */
#include "config.h"
#include "store.h"
#include "bw-reader.h"
#include "bw-signals.h"
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>
#include <sqlite3.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long a writer waits for another bouncewatch process before giving up.
 * The hook and the agent hold the write transaction for milliseconds to a
 * few seconds (a full rescan of a large mailbox), so 30 s is generous. */
#define STORE_BUSY_TIMEOUT_MS 30000

/* The write-ahead log is copied into the database (checkpoint) only by a
 * close that finds it at least this long, not by every close.  A close that
 * checkpoints syncs the log, the directory and the database, and the next
 * write starts a new log (its header and the directory synced again): 5
 * fdatasync, the hook's whole share of them after 10 new messages at 160k,
 * where it writes ~400 KB to the log.  Below the bound a close leaves the
 * log as it is: the next open reads it back (each frame checked by its
 * checksum, one pread per page: why the bound stays small), and a run that
 * only appends to it syncs nothing.  So the syncs come once in a few runs.
 *
 * Commits under synchronous=NORMAL are durable only from the checkpoint on:
 * a power loss can roll back the runs since.  That is harmless for what the
 * next run derives from the mail again, not for what records an effect
 * outside the state (the tags we wrote, a muted campaign, a notification
 * shown).  A transaction that writes those is begun with
 * bw_store_begin_durable: it commits under synchronous=FULL, which in WAL
 * mode syncs the log once at the commit, after its frames are appended
 * (SQLite's documentation of PRAGMA synchronous: "With synchronous=FULL in
 * WAL mode, an additional sync operation of the WAL file happens after each
 * transaction commit ... [which] helps ensure that transactions are durable
 * across a power loss").  That one fdatasync also covers the frames of the
 * earlier commits in the log (they precede it in the same file), the log's
 * header and its directory entry are synced when a log is started, under
 * NORMAL too; after it, recovery from the log alone restores the commit
 * whatever happened to the database file.  The level is set around that
 * transaction only (SQLite refuses to change it inside one), so the other
 * commits of a run stay unsynced.  Before (until session 15) such a handle
 * checkpointed at its close instead: 4 fdatasync (the log twice, its
 * directory, the database) and every page written twice, ~5 ms of the
 * hook's CPU after 10 new messages at 160k.  A tagged, muted or notified
 * row written outside a durable transaction (a full rescan's clearing of
 * the tags in the save, a mute from the agent) still makes its handle
 * checkpoint at its close, whatever the log's length (durable_owed). */
#define STORE_WAL_CHECKPOINT_BYTES ((gint64)1 << 20)

struct bw_store {
    sqlite3 *db;
    char *path;
    bool in_txn;
    bool durable_owed;       /* wrote tagged/muted/notified rows: checkpoint at close */
    bool sync_full;          /* in a durable transaction: synchronous=FULL until it ends */
    /* bw_store_put_signal_row's two statements, prepared once per handle
     * (a full scan writes ~26,000 rows at 160k: preparing each cost
     * ~800 M instructions) */
    sqlite3_stmt *put_signal_row, *delete_signal_row;
    /* The statements a run asks many times (meta, one item, one tagged or
     * signal row), each prepared once per handle (stmt_get): preparing
     * cost ~25k instructions a statement, ~3 M per hook after 10 new
     * messages (130 of them). */
    GHashTable *stmts;       /* SQL text (its literal's address) -> sqlite3_stmt */
    /* The snapshot's parts as this connection last read or wrote them (see
     * "snapshot parts"): the list row, and the bytes they make. */
    GBytes *parts_list;
    GBytes *parts_bytes;
    /* Inside a read transaction (bw_store_read_begin) nothing is written:
     * a damaged snapshot entry found then is dropped at its end. */
    bool reading;
    GPtrArray *drops_owed;   /* damaged_drop_t* */
};

typedef struct {
    char *message_id;
    GBytes *row;
} damaged_drop_t;

static void
damaged_drop_free(damaged_drop_t *d)
{
    g_free(d->message_id);
    g_bytes_unref(d->row);
    g_free(d);
}

static void drop_damaged_entry(bw_store_t *s, const char *message_id, GBytes *row);

static const char *const schema_sql =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS items (message_id TEXT PRIMARY KEY,"
    "  class TEXT NOT NULL, date INTEGER NOT NULL, json TEXT NOT NULL, questions TEXT,"
    "  bin BLOB);"
    "CREATE INDEX IF NOT EXISTS items_date ON items(date);"
    "CREATE TABLE IF NOT EXISTS campaigns (id TEXT PRIMARY KEY,"
    "  json TEXT NOT NULL, muted INTEGER NOT NULL DEFAULT 0, bin BLOB, pos INTEGER);"
    "CREATE TABLE IF NOT EXISTS surges (start INTEGER NOT NULL,"
    "  json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS notified (key TEXT PRIMARY KEY,"
    "  notification_id INTEGER NOT NULL, count INTEGER NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tagged (message_id TEXT PRIMARY KEY,"
    "  tags TEXT NOT NULL);"
    /* the rows holding the signals' tags (bw_store_load_tagged_some: its
     * query's WHERE must stay this one for SQLite to use the index) */
    "CREATE INDEX IF NOT EXISTS tagged_signals ON tagged(message_id)"
    "  WHERE instr(tags, 'bw/signal') > 0 OR instr(tags, 'bw/phishing') > 0;"
    "CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY,"
    "  data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS snapshot_parts (id INTEGER PRIMARY KEY,"
    "  data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS skipped (message_id TEXT PRIMARY KEY,"
    "  file TEXT NOT NULL, cause TEXT NOT NULL, why TEXT NOT NULL,"
    "  reader TEXT NOT NULL, date INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS signal_rows (kind TEXT NOT NULL, message_id TEXT NOT NULL,"
    "  date INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, message_id));"
    /* every message of the mailbox at the last save, by a keyed 64-bit
     * hash of its Message-ID, with its number of files then (store.h) */
    "CREATE TABLE IF NOT EXISTS known_ids (h INTEGER PRIMARY KEY,"
    "  files INTEGER NOT NULL) WITHOUT ROWID;"
    /* the snapshot's entry of each item, written with its row (see
     * "snapshot rows"); the ones whose report teaches the profile */
    "CREATE TABLE IF NOT EXISTS snap_items (message_id TEXT PRIMARY KEY,"
    "  date INTEGER NOT NULL, learn INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS snap_items_date ON snap_items(date);"
    "CREATE INDEX IF NOT EXISTS snap_items_learn ON snap_items(message_id) WHERE learn<>0;";

static bool
is_corrupt_code(int rc)
{
    int primary = rc & 0xff;
    return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

static void
set_sql_detail(bw_store_t *s, char **detail, const char *what)
{
    bw_error_set(detail, BW_E_STATE, _("state store %s: %s: %s"), s->path, what,
                 s->db ? sqlite3_errmsg(s->db) : "no handle");
}

/* Run SQL without results.  Returns the SQLite code. */
static int
exec_sql(bw_store_t *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

static bw_status_t
ensure_dir(const char *path, char **detail)
{
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) != 0)
        return bw_error_set(detail, BW_E_STATE, _("cannot create the state directory %s: %s"),
                            dir, g_strerror(errno));
    /* Our own directory (it holds subjects and addresses of the mail):
     * tightened also when an older version or the user created it looser.
     * A directory given by the caller is left as it is. */
    g_autofree char *base = g_path_get_basename(dir);
    if (strcmp(base, "bouncewatch") == 0)
        (void)g_chmod(dir, 0700);
    return BW_OK;
}

/* Open the SQLite handle and set it up; returns the SQLite code of the first
 * failure so the caller can tell corruption from other errors. */
static int
open_handle(bw_store_t *s)
{
    /* Create the file ourselves with 0600: SQLite would honour the umask. */
    int fd = g_open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return SQLITE_CANTOPEN;
    (void)fchmod(fd, 0600);
    close(fd);

    int rc = sqlite3_open_v2(s->path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                             SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
    /* The first statement that reads the header finds a non-database file. */
    rc = exec_sql(s, "PRAGMA journal_mode=WAL;");
    if (rc != SQLITE_OK)
        return rc;
    /* The close decides whether to checkpoint (close_handle). */
    (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    /* Reads map the file instead of copying each page through pread(): a
     * run reads megabytes of the state (every stored report's row), and
     * the copies were a good part of its system time.  Writes still go
     * through write() (no SQLITE_MMAP_READWRITE), so a stray pointer cannot
     * scribble on the state. */
    rc = exec_sql(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF; "
                     "PRAGMA mmap_size=1073741824;");
    if (rc != SQLITE_OK)
        return rc;
    rc = exec_sql(s, schema_sql);
    if (rc != SQLITE_OK)
        return rc;
    /* items.questions and items.bin came later: a state from before gets
     * the columns (NULL: those items are classified again, and read from
     * their JSON, as before).  So did campaigns.bin and campaigns.pos
     * (NULL: the campaign is read from its JSON, in rowid order; the next
     * save writes both). */
    static const char *const added[][4] = {
        { "items", "questions", "SELECT questions FROM items LIMIT 0",
          "ALTER TABLE items ADD COLUMN questions TEXT" },
        { "items", "bin", "SELECT bin FROM items LIMIT 0", "ALTER TABLE items ADD COLUMN bin BLOB" },
        { "campaigns", "bin", "SELECT bin FROM campaigns LIMIT 0",
          "ALTER TABLE campaigns ADD COLUMN bin BLOB" },
        { "campaigns", "pos", "SELECT pos FROM campaigns LIMIT 0",
          "ALTER TABLE campaigns ADD COLUMN pos INTEGER" },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(added); i++) {
#ifdef HAVE_SQLITE3_TABLE_COLUMN_METADATA
        /* (no statement prepared: ~20k instructions each, on every open) */
        bool have = sqlite3_table_column_metadata(s->db, NULL, added[i][0], added[i][1], NULL, NULL,
                                                  NULL, NULL, NULL) == SQLITE_OK;
#else
        sqlite3_stmt *probe = NULL;
        bool have = sqlite3_prepare_v2(s->db, added[i][2], -1, &probe, NULL) == SQLITE_OK;
        sqlite3_finalize(probe);
#endif
        if (!have) {
            /* Under the write lock, asked again: two programs opening an
             * older state at once would otherwise both add the column, and
             * the second would fail ("duplicate column name").  The probe
             * is prepared after the lock is taken, so it sees the other
             * one's column.  (Tests: BOUNCEWATCH_TEST_COLUMN_GATE waits
             * here, bw_test_gate().) */
            bw_test_gate("BOUNCEWATCH_TEST_COLUMN_GATE");
            rc = exec_sql(s, "BEGIN IMMEDIATE");
            if (rc != SQLITE_OK)
                return rc;
            sqlite3_stmt *probe = NULL;
            have = sqlite3_prepare_v2(s->db, added[i][2], -1, &probe, NULL) == SQLITE_OK;
            sqlite3_finalize(probe);
            rc = have ? SQLITE_OK : exec_sql(s, added[i][3]);
            if (rc != SQLITE_OK) {
                (void)exec_sql(s, "ROLLBACK");
                return rc;
            }
            rc = exec_sql(s, "COMMIT");
            if (rc != SQLITE_OK)
                return rc;
        }
    }
    /* A cheap consistency probe: reading the schema and counting the meta
     * rows touches the pages a truncated or scribbled file breaks first. */
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key='schema'", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    int version = -1;
    if (rc == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    if (version < 0) {
        g_autofree char *sql = g_strdup_printf(
            "INSERT OR IGNORE INTO meta(key,value) VALUES('schema','%d')",
            BW_STORE_SCHEMA_VERSION);
        rc = exec_sql(s, sql);
        if (rc != SQLITE_OK)
            return rc;
    } else if (version != BW_STORE_SCHEMA_VERSION) {
        /* Derived data only: an unknown schema is treated as damage, and the
         * mail rebuilds it. */
        return SQLITE_NOTADB;
    }
    /* Files from before are tightened too. */
    (void)g_chmod(s->path, 0600);
    return SQLITE_OK;
}

static void
forget_parts(bw_store_t *s)
{
    g_clear_pointer(&s->parts_list, g_bytes_unref);
    g_clear_pointer(&s->parts_bytes, g_bytes_unref);
}

/* Whether this close copies the log into the database (see
 * STORE_WAL_CHECKPOINT_BYTES).  When it does, and no other connection is
 * open, SQLite checkpoints and removes the log; with another connection open
 * (the agent's), that one's checkpoints (at its commits, past SQLite's own
 * bound of 1000 pages) or its own close do it. */
static bool
checkpoint_at_close(const bw_store_t *s)
{
    if (s->durable_owed)
        return true;
    g_autofree char *wal = g_strconcat(s->path, "-wal", NULL);
    GStatBuf st;
    return g_stat(wal, &st) == 0 && (gint64)st.st_size >= STORE_WAL_CHECKPOINT_BYTES;
}

/* `damaged`: the file is about to be moved aside, nothing is copied. */
static void
close_handle(bw_store_t *s, bool damaged)
{
    g_clear_pointer(&s->stmts, g_hash_table_unref);   /* finalizes them */
    g_clear_pointer(&s->put_signal_row, sqlite3_finalize);
    g_clear_pointer(&s->delete_signal_row, sqlite3_finalize);
    if (s->db != NULL) {
        if (!damaged && checkpoint_at_close(s))
            (void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
        sqlite3_close_v2(s->db);
        s->db = NULL;
    }
    s->in_txn = false;
    /* a connection opened again (bw_store_reset) starts at NORMAL: a
     * durable transaction is begun on it anew, or its rows owe the close */
    s->sync_full = false;
    s->reading = false;
    g_clear_pointer(&s->drops_owed, g_ptr_array_unref);
    forget_parts(s);
}

/* How many names move_aside() tries for one backup: far more than the
 * corruptions of one second, still a bound. */
#define STORE_ASIDE_MAX_TRIES 1000u

/* Give the file at `path` a backup name nobody uses yet: path.corrupt-SECONDS,
 * else path.corrupt-SECONDS.1, .2 ...  Two corruptions within one second (or
 * a backup the user kept) must not lose the first backup, so the name is
 * claimed with link(), which fails with EEXIST instead of replacing what is
 * there (rename() would replace it): two processes cannot take the same
 * name either.  On a file system without hard links, an existence check and
 * rename() do (a race there can only happen within the same second).
 * Returns the name (g_free), or NULL with errno set (ENOENT: no file). */
static char *
claim_aside_name(const char *path, gint64 seconds)
{
    for (unsigned n = 0; n < STORE_ASIDE_MAX_TRIES; n++) {
        char *aside = n == 0
            ? g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT, path, seconds)
            : g_strdup_printf("%s.corrupt-%" G_GINT64_FORMAT ".%u", path, seconds, n);
        if (link(path, aside) == 0) {
            if (g_unlink(path) == 0)
                return aside;
            int e = errno;
            (void)g_unlink(aside);   /* the file itself is still there */
            g_free(aside);
            errno = e;
            return NULL;
        }
        int e = errno;
        if (e == EEXIST) {
            g_free(aside);
            continue;
        }
        if (e == ENOENT) {
            g_free(aside);
            errno = ENOENT;
            return NULL;
        }
        /* No hard links here (EPERM, ENOTSUP, EMLINK...). */
        if (!g_file_test(aside, G_FILE_TEST_EXISTS) && g_rename(path, aside) == 0)
            return aside;
        e = errno;
        bool taken = g_file_test(aside, G_FILE_TEST_EXISTS);
        g_free(aside);
        if (!taken) {
            errno = e;
            return NULL;
        }
    }
    errno = EEXIST;
    return NULL;
}

/* Move the file (and its WAL/SHM companions) aside, under a name of its
 * own.  *notice gets what happened (for the user); *detail, an error. */
static bw_status_t
move_aside(bw_store_t *s, char **notice, char **detail)
{
    close_handle(s, true);
    g_autofree char *aside = claim_aside_name(s->path, g_get_real_time() / G_USEC_PER_SEC);
    if (aside == NULL && errno != ENOENT)
        return bw_error_set(detail, BW_E_STATE,
                            _("state file %s is damaged and cannot be moved aside: %s"),
                            s->path, g_strerror(errno));
    if (aside == NULL) {   /* gone meanwhile: nothing to keep */
        *notice = g_strdup_printf(_("the state file %s was damaged and is being rebuilt "
                                    "from the mail"), s->path);
        return BW_OK;
    }
    static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *side = g_strconcat(s->path, suffixes[i], NULL);
        g_autofree char *side_aside = g_strconcat(aside, suffixes[i], NULL);
        (void)g_rename(side, side_aside);
    }
    *notice = g_strdup_printf(_("the state file %s was damaged; it was moved to %s "
                                "and is being rebuilt from the mail"), s->path, aside);
    return BW_OK;
}

bw_status_t
bw_store_open(const char *path, bw_store_t **out, char **rebuilt, char **detail)
{
    if (path == NULL || out == NULL)
        return BW_E_INVALID;
    if (rebuilt)
        *rebuilt = NULL;
    bw_status_t st = ensure_dir(path, detail);
    if (st != BW_OK)
        return st;
    bw_store_t *s = g_new0(bw_store_t, 1);
    s->path = g_strdup(path);
    g_autofree char *notice = NULL;
    int rc = open_handle(s);
    if (rc != SQLITE_OK && is_corrupt_code(rc)) {
        st = move_aside(s, &notice, detail);
        if (st != BW_OK) {
            bw_store_close(s);
            return st;
        }
        rc = open_handle(s);
    }
    if (rc != SQLITE_OK) {
        st = bw_error_set(detail, BW_E_STATE, _("cannot open the state file %s: %s"), path,
                          s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        bw_store_close(s);
        return st;
    }
    if (rebuilt)
        *rebuilt = g_steal_pointer(&notice);
    *out = s;
    return BW_OK;
}

void
bw_store_close(bw_store_t *s)
{
    if (s == NULL)
        return;
    if (s->in_txn)
        bw_store_rollback(s);
    close_handle(s, false);
    g_free(s->path);
    g_free(s);
}

bw_status_t
bw_store_reset(bw_store_t *s, char **notice, char **detail)
{
    g_autofree char *moved = NULL;
    bw_status_t st = move_aside(s, &moved, detail);
    if (st != BW_OK)
        return st;
    int rc = open_handle(s);
    if (rc != SQLITE_OK)
        return bw_error_set(detail, BW_E_STATE, _("cannot recreate the state file %s: %s"),
                            s->path, sqlite3_errstr(rc));
    if (notice)
        *notice = g_steal_pointer(&moved);
    return BW_OK;
}

bw_status_t
bw_store_begin(bw_store_t *s, char **detail)
{
    /* busy_timeout covers most waits; BEGIN IMMEDIATE can still return BUSY
     * at once when a reader upgrades (WAL snapshot), so retry a bounded
     * number of times with a growing pause. */
    int rc = SQLITE_BUSY;
    for (unsigned attempt = 0; attempt < 20; attempt++) {
        rc = exec_sql(s, "BEGIN IMMEDIATE");
        if (rc == SQLITE_OK) {
            s->in_txn = true;
            return BW_OK;
        }
        if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
            break;
        g_usleep(10000u * (attempt + 1));
    }
    set_sql_detail(s, detail, _("cannot start a transaction"));
    return BW_E_STATE;
}

bool
bw_store_read_begin(bw_store_t *s)
{
    if (s->in_txn || s->reading)
        return false;   /* (the caller's reads are then the open one's) */
    s->reading = exec_sql(s, "BEGIN DEFERRED") == SQLITE_OK;
    return s->reading;
}

void
bw_store_read_end(bw_store_t *s)
{
    if (!s->reading)
        return;
    (void)exec_sql(s, "COMMIT");
    s->reading = false;
    /* the damaged entries the reads found, dropped now (each only while its
     * row still holds the bytes found damaged) */
    g_autoptr(GPtrArray) owed = g_steal_pointer(&s->drops_owed);
    for (guint i = 0; owed != NULL && i < owed->len; i++) {
        const damaged_drop_t *d = g_ptr_array_index(owed, i);
        drop_damaged_entry(s, d->message_id, d->row);
    }
}

/* Back to synchronous=NORMAL after a durable transaction (outside any
 * transaction: SQLite refuses the change inside one).  Should it fail, the
 * handle stays at FULL: its later commits sync too, none is less durable. */
static void
end_durable(bw_store_t *s)
{
    if (s->sync_full && !s->in_txn && s->db != NULL &&
        exec_sql(s, "PRAGMA synchronous=NORMAL") == SQLITE_OK)
        s->sync_full = false;
}

bw_status_t
bw_store_begin_durable(bw_store_t *s, char **detail)
{
    /* (Outside a transaction only, as SQLite requires: a handle already in
     * one cannot begin another.)  When the level cannot be set, the
     * transaction is an ordinary one and the rows owe the checkpoint at
     * close as before (owe_durability). */
    if (!s->in_txn && !s->sync_full)
        s->sync_full = exec_sql(s, "PRAGMA synchronous=FULL") == SQLITE_OK;
    bw_status_t st = bw_store_begin(s, detail);
    if (st != BW_OK)
        end_durable(s);
    return st;
}

/* A tagged, muted or notified row was written: durable at the commit of
 * this transaction when it was begun durable, else owed at the close. */
static void
owe_durability(bw_store_t *s)
{
    if (!(s->in_txn && s->sync_full))
        s->durable_owed = true;
}

bw_status_t
bw_store_commit(bw_store_t *s, char **detail)
{
    int rc = exec_sql(s, "COMMIT");
    if (rc != SQLITE_OK) {
        set_sql_detail(s, detail, _("cannot commit"));
        bw_store_rollback(s);
        return BW_E_STATE;
    }
    s->in_txn = false;
    end_durable(s);
    return BW_OK;
}

void
bw_store_rollback(bw_store_t *s)
{
    if (s->db != NULL)
        (void)exec_sql(s, "ROLLBACK");
    s->in_txn = false;
    end_durable(s);
    forget_parts(s);   /* the parts this connection wrote may be undone */
}

static bw_status_t
rc_status(int rc)
{
    return rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW ? BW_OK : BW_E_STATE;
}

static void
stmt_free(gpointer st)
{
    sqlite3_finalize(st);
}

/* The statement of `sql` (a string literal: its address is the key) on this
 * handle, prepared at its first use and kept until the handle closes
 * (close_handle finalizes it first).  The caller binds, steps, and gives it
 * back with stmt_done() before it returns, on every path: one use at a
 * time, so none of these callers may call another while it holds one (none
 * does).  Returns the SQLite code of the prepare. */
static int
stmt_get(bw_store_t *s, const char *sql, sqlite3_stmt **out)
{
    *out = NULL;
    if (s->stmts == NULL)
        s->stmts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, stmt_free);
    sqlite3_stmt *st = g_hash_table_lookup(s->stmts, sql);
    if (st == NULL) {
        int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
        if (rc != SQLITE_OK) {
            sqlite3_finalize(st);
            return rc;
        }
        g_hash_table_insert(s->stmts, (gpointer)sql, st);
    }
    *out = st;
    return SQLITE_OK;
}

/* A statement of stmt_get() given back: reset (its read or write ends, as
 * sqlite3_finalize() ended it) and its bindings dropped (they point into
 * the caller's strings). */
static void
stmt_done(sqlite3_stmt *st)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

bw_status_t
bw_store_get_meta(bw_store_t *s, const char *key, char **value_out)
{
    *value_out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s, "SELECT value FROM meta WHERE key=?1", &st);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        *value_out = g_strdup((const char *)sqlite3_column_text(st, 0));
    stmt_done(st);
    return rc_status(rc);
}

bw_status_t
bw_store_set_meta(bw_store_t *s, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s, "INSERT OR REPLACE INTO meta(key,value) VALUES(?1,?2)", &st);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    rc = sqlite3_step(st);
    stmt_done(st);
    return rc_status(rc);
}

static char *
node_to_string(JsonNode *node)
{
    return bw_json_node_to_text(node);   /* (U+001F escaped) */
}

static JsonNode *
string_to_node(const char *text, size_t len)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, text, (gssize)len, NULL))
        return NULL;
    JsonNode *root = json_parser_get_root(parser);
    return root ? json_node_copy(root) : NULL;
}

static bw_status_t drop_snap_entry(bw_store_t *s, const char *message_id);

bw_status_t
bw_store_put_item(bw_store_t *s, const bw_item_t *item, char **detail)
{
    return bw_store_put_item_if_changed(s, item, NULL, false, NULL, detail);
}

/* The item's binary form (bw_item_to_variant) behind a checksum of it:
 * loading it skips json-glib (half of an incremental hook), and a damaged
 * one is refused (the row's JSON is read instead).
 *
 * The checksum is there against accidental damage (a bad sector, a torn or
 * foreign write): what it guards is that the decoder reads the very bytes
 * we wrote.  It cannot guard against someone who can write the state (they
 * can write a matching sum as well), so a cryptographic hash buys nothing
 * over a good 64-bit one here, and it cost ~9,000 instructions a row
 * (BLAKE2b-256, ~5.5 a byte: 11.8 M of a hook at 160k messages, ~60 M at
 * 1M, as every stored row is loaded).  The current form is ITEM_BIN_MAGIC,
 * the XXH64 of the variant's bytes (bw_xxh64, little-endian), then those
 * bytes: 16 bytes before them, as the 32 of the older form (the variant
 * keeps its offset's alignment).  The older form (the BLAKE2b-256 of the
 * rest, then the variant) is still read; it is written again as rows
 * change. */
#define ITEM_BIN_MAGIC "BWITEM2\0"
#define ITEM_BIN_HEAD 16u
#define ITEM_BIN_SEED 0x62772d73756d3031ull   /* "bw-sum01" */
#define ITEM_BIN_HASH 32u   /* the older form's head: its BLAKE2b-256 */

static GBytes *
item_bin(const bw_item_t *item)
{
    g_autoptr(GVariant) v = bw_item_to_variant(item);
    if (v == NULL)
        return NULL;
    gsize len = g_variant_get_size(v);
    if (len > G_MAXINT - ITEM_BIN_HEAD)
        return NULL;
    guchar *blob = g_malloc(ITEM_BIN_HEAD + len);
    g_variant_store(v, blob + ITEM_BIN_HEAD);
    memcpy(blob, ITEM_BIN_MAGIC, 8);
    guint64 sum = GUINT64_TO_LE(bw_xxh64(blob + ITEM_BIN_HEAD, len, ITEM_BIN_SEED));
    memcpy(blob + 8, &sum, 8);
    return g_bytes_new_take(blob, ITEM_BIN_HEAD + len);
}

static bw_item_t *
item_from_bin(const void *blob, gsize len)
{
    const guchar *b = blob;
    gsize head = 0;
    if (b != NULL && len > ITEM_BIN_HEAD && memcmp(b, ITEM_BIN_MAGIC, 8) == 0) {
        guint64 sum;
        memcpy(&sum, b + 8, 8);
        if (GUINT64_FROM_LE(sum) == bw_xxh64(b + ITEM_BIN_HEAD, len - ITEM_BIN_HEAD,
                                             ITEM_BIN_SEED))
            head = ITEM_BIN_HEAD;
    } else if (b != NULL && len > ITEM_BIN_HASH) {
        /* the older form */
        guchar hash[ITEM_BIN_HASH];
        crypto_generichash(hash, sizeof hash, b + ITEM_BIN_HASH, len - ITEM_BIN_HASH, NULL, 0);
        if (sodium_memcmp(hash, b, ITEM_BIN_HASH) == 0)
            head = ITEM_BIN_HASH;
    }
    if (head == 0)
        return NULL;
    bw_item_t *item = NULL;
    return bw_item_from_variant_data(b + head, len - head, &item) == BW_OK ? item : NULL;
}

/* Whether the row of `message_id` holds exactly this JSON text and these
 * questions (the few rows an incremental run may write are read back one
 * by one: a copy of every row's JSON at load cost more). */
static bool
row_holds(bw_store_t *s, const char *message_id, const char *json, const char *questions)
{
    sqlite3_stmt *st = NULL;
    if (stmt_get(s, "SELECT json, questions FROM items WHERE message_id=?1", &st) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    bool same = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *old = (const char *)sqlite3_column_text(st, 0);
        const char *old_q = (const char *)sqlite3_column_text(st, 1);
        same = old != NULL && strcmp(old, json) == 0 && g_strcmp0(old_q, questions) == 0;
    }
    stmt_done(st);
    return same;
}

bw_status_t
bw_store_put_item_if_changed(bw_store_t *s, const bw_item_t *item, const char *questions,
                             bool compare_stored, bool *written, char **detail)
{
    if (written)
        *written = true;
    if (item->message_id == NULL)
        return BW_E_INVALID;
    /* (what node_to_string(bw_item_to_json(item)) gives, without the tree) */
    g_autofree char *json = bw_item_to_json_text(item);
    if (json == NULL)
        return bw_error_set(detail, BW_E_INTERNAL, _("cannot serialise report %s"),
                            item->message_id);
    if (compare_stored && row_holds(s, item->message_id, json, questions)) {
        if (written)
            *written = false;
        return BW_OK;   /* the row already says exactly this */
    }
    g_autoptr(GBytes) bin = item_bin(item);
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s,
        "INSERT OR REPLACE INTO items(message_id,class,date,json,questions,bin) "
        "VALUES(?1,?2,?3,?4,?5,?6)", &st);
    if (rc != SQLITE_OK) {
        set_sql_detail(s, detail, "put item");
        return BW_E_STATE;
    }
    sqlite3_bind_text(st, 1, item->message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, bw_class_to_string(item->klass), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, item->date_unix);
    sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    if (questions)
        sqlite3_bind_text(st, 5, questions, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 5);
    gsize bin_len = 0;
    const void *bin_data = bin ? g_bytes_get_data(bin, &bin_len) : NULL;
    if (bin_data && bin_len > 0)
        sqlite3_bind_blob(st, 6, bin_data, (int)bin_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    rc = sqlite3_step(st);
    stmt_done(st);
    if (rc != SQLITE_DONE) {
        set_sql_detail(s, detail, "put item");
        return BW_E_STATE;
    }
    /* the row's snapshot entry was of the row before: gone with it (the
     * scanner writes this row's own after it, snapshot.c) */
    if (drop_snap_entry(s, item->message_id) != BW_OK) {
        set_sql_detail(s, detail, "put item");
        return BW_E_STATE;
    }
    return BW_OK;
}

bw_status_t
bw_store_delete_item(bw_store_t *s, const char *message_id)
{
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s, "DELETE FROM items WHERE message_id=?1", &st);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    stmt_done(st);
    if (rc != SQLITE_DONE)
        return BW_E_STATE;
    return drop_snap_entry(s, message_id);
}

bw_status_t
bw_store_known_id(bw_store_t *s, guint64 h, bool *found, guint *files)
{
    *found = false;
    *files = 0;
    sqlite3_stmt *st = NULL;
    if (stmt_get(s, "SELECT files FROM known_ids WHERE h=?1", &st) != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)h);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 n = sqlite3_column_int64(st, 0);
        *found = true;
        *files = n > 0 && n <= G_MAXUINT ? (guint)n : 0;
    }
    /* ready for the next lookup, holding no read of the table */
    stmt_done(st);
    return rc_status(rc);
}

/* BW_KNOWN_SYNC: the rows whose h the sorted listing lacks are deleted,
 * and the listing is cut down to the entries the table does not hold as
 * they are (*n_out of them, in h_out/files_out, g_free), which the caller
 * then inserts or replaces.  One read of the table in key order instead
 * of emptying it and writing every row again: after a removal at 160k,
 * 165k rows rewritten (~390 M instructions and ~3 MB through the log)
 * for the one or two that went. */
static bw_status_t
known_sync(bw_store_t *s, const guint64 *h, const guint *files, guint n, guint64 **h_out,
           guint **files_out, guint *n_out)
{
    *h_out = g_new(guint64, MAX(n, 1u));
    *files_out = g_new(guint, MAX(n, 1u));
    *n_out = 0;
    g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(sqlite3_int64));
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT h,files FROM known_ids ORDER BY h", -1, &st, NULL) !=
        SQLITE_OK)
        return BW_E_STATE;
    guint i = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 row = sqlite3_column_int64(st, 0);
        sqlite3_int64 row_files = sqlite3_column_int64(st, 1);
        /* the listing's entries below this row: not in the table */
        for (; i < n && (sqlite3_int64)h[i] < row; i++) {
            (*h_out)[*n_out] = h[i];
            (*files_out)[(*n_out)++] = files[i];
        }
        if (i < n && (sqlite3_int64)h[i] == row) {
            /* the last of equal keys counts (INSERT OR REPLACE's) */
            while (i + 1 < n && h[i + 1] == h[i])
                i++;
            if ((sqlite3_int64)files[i] != row_files) {
                (*h_out)[*n_out] = h[i];
                (*files_out)[(*n_out)++] = files[i];
            }
            i++;
        } else {
            g_array_append_val(gone, row);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return BW_E_STATE;
    for (; i < n; i++) {
        (*h_out)[*n_out] = h[i];
        (*files_out)[(*n_out)++] = files[i];
    }
    if (gone->len == 0)
        return BW_OK;
    if (sqlite3_prepare_v2(s->db, "DELETE FROM known_ids WHERE h=?1", -1, &st, NULL) != SQLITE_OK)
        return BW_E_STATE;
    rc = SQLITE_DONE;
    for (guint k = 0; k < gone->len && rc == SQLITE_DONE; k++) {
        sqlite3_bind_int64(st, 1, g_array_index(gone, sqlite3_int64, k));
        rc = sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

bw_status_t
bw_store_known_ids_put(bw_store_t *s, bw_known_put_t how, const guint64 *h, const guint *files,
                       guint n)
{
    if (how == BW_KNOWN_REPLACE && exec_sql(s, "DELETE FROM known_ids") != SQLITE_OK)
        return BW_E_STATE;
    g_autofree guint64 *sync_h = NULL;
    g_autofree guint *sync_files = NULL;
    if (how == BW_KNOWN_SYNC) {
        guint left = 0;
        if (known_sync(s, h, files, n, &sync_h, &sync_files, &left) != BW_OK)
            return BW_E_STATE;
        h = sync_h;
        files = sync_files;
        n = left;
    }
    /* KNOWN_ROWS rows a statement: a statement's own cost (~5k
     * instructions a row one by one) is paid once for them */
    enum { KNOWN_ROWS = 200 };
    g_autoptr(GString) many = g_string_new("INSERT OR REPLACE INTO known_ids(h,files) VALUES(?,?)");
    for (guint i = 1; i < KNOWN_ROWS; i++)
        g_string_append(many, ",(?,?)");
    int rc = SQLITE_DONE;
    guint i = 0;
    for (int pass = 0; pass < 2 && i < n && rc == SQLITE_DONE; pass++) {
        guint rows = pass == 0 ? KNOWN_ROWS : 1;
        if (n - i < rows)
            continue;
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(s->db, pass == 0 ? many->str
                                                : "INSERT OR REPLACE INTO known_ids(h,files) VALUES(?,?)",
                               -1, &st, NULL) != SQLITE_OK)
            return BW_E_STATE;
        for (; n - i >= rows && rc == SQLITE_DONE; i += rows) {
            for (guint k = 0; k < rows; k++) {
                sqlite3_bind_int64(st, (int)(2 * k + 1), (sqlite3_int64)h[i + k]);
                sqlite3_bind_int64(st, (int)(2 * k + 2), (sqlite3_int64)files[i + k]);
            }
            rc = sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    return rc == SQLITE_DONE && i == n ? BW_OK : BW_E_STATE;
}

bw_status_t
bw_store_has_item(bw_store_t *s, const char *message_id, bool *found, char **file)
{
    *found = false;
    if (file)
        *file = NULL;
    sqlite3_stmt *st = NULL;
    /* the file as the row's JSON holds it (bw_item_to_json: "file") */
    int rc = stmt_get(s, file ? "SELECT json_extract(json, '$.file') FROM items"
                                " WHERE message_id=?1"
                              : "SELECT 1 FROM items WHERE message_id=?1", &st);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found && file && sqlite3_column_type(st, 0) == SQLITE_TEXT)
        *file = g_strdup((const char *)sqlite3_column_text(st, 0));
    stmt_done(st);
    return rc_status(rc);
}

/* The number a `SELECT count(*) ...` gives. */
static bw_status_t
count_rows(bw_store_t *s, const char *sql, guint64 *count)
{
    *count = 0;
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s, sql, &st);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = (guint64)sqlite3_column_int64(st, 0);
    stmt_done(st);
    return rc_status(rc);
}

bw_status_t
bw_store_count_items(bw_store_t *s, guint64 *count)
{
    return count_rows(s, "SELECT count(*) FROM items", count);
}

bw_status_t
bw_store_load_items(bw_store_t *s, GPtrArray **out, char **detail)
{
    return bw_store_load_items_questions(s, out, NULL, detail);
}

/* A row's item from its JSON text (the binary form missing, damaged or
 * naming another row): read only then, by message-id. */
static bw_item_t *
item_from_row_json(bw_store_t *s, const char *message_id, JsonParser *parser)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT json FROM items WHERE message_id=?1", -1, &st,
                           NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    bw_item_t *item = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *json = (const char *)sqlite3_column_text(st, 0);
        int len = sqlite3_column_bytes(st, 0);
        JsonNode *node = json && json_parser_load_from_data(parser, json, len, NULL)
                       ? json_parser_get_root(parser) : NULL;
        if (node == NULL || bw_item_from_json(node, &item, NULL) != BW_OK)
            g_clear_pointer(&item, bw_item_free);
    }
    sqlite3_finalize(st);
    return item;
}

/* A loaded row: its date column, its item and its questions. */
typedef struct {
    gint64 date;
    bw_item_t *item;
    char *questions;
} loaded_row_t;

static void
loaded_row_clear(gpointer p)
{
    loaded_row_t *r = p;
    g_clear_pointer(&r->item, bw_item_free);
    g_clear_pointer(&r->questions, g_free);
}

/* ORDER BY date, message_id: the dates are integers (each checked), the
 * ids unique (the primary key), compared as SQLite's BINARY collation does
 * (memcmp, then the shorter first: strcmp on text without NUL). */
static gint
cmp_loaded_row(gconstpointer a, gconstpointer b)
{
    const loaded_row_t *x = a, *y = b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return strcmp(x->item->message_id, y->item->message_id);
}

/* The rows in the order of `sql` (one of the two below), into *rows.
 * *integer_dates is cleared when a date is not an integer. */
static bw_status_t
load_rows(bw_store_t *s, const char *sql, bool want_questions, GArray *rows, bool *integer_dates,
          char **detail)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        set_sql_detail(s, detail, "load items");
        return BW_E_STATE;
    }
    /* One parser for all rows read from JSON, its root used in place. */
    g_autoptr(JsonParser) parser = NULL;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        /* the binary form when it is whole and names this row, else the JSON */
        bw_item_t *item = item_from_bin(sqlite3_column_blob(st, 2),
                                        (gsize)sqlite3_column_bytes(st, 2));
        if (item != NULL && g_strcmp0(item->message_id, id) != 0)
            g_clear_pointer(&item, bw_item_free);
        if (item == NULL && id != NULL) {
            if (parser == NULL)
                parser = json_parser_new_immutable();
            item = item_from_row_json(s, id, parser);
        }
        if (item == NULL) {
            /* One unreadable row means the file was tampered with or is from
             * an incompatible build: treat it as damage (rebuild). */
            bw_error_set(detail, BW_E_STATE, _("state file %s holds an unreadable item (%s)"),
                         s->path, id);
            sqlite3_finalize(st);
            return BW_E_STATE;
        }
        /* the type first: reading the value may convert it */
        if (sqlite3_column_type(st, 3) != SQLITE_INTEGER)
            *integer_dates = false;
        loaded_row_t row = { sqlite3_column_int64(st, 3), item, NULL };
        if (want_questions) {
            const char *q = (const char *)sqlite3_column_text(st, 1);
            row.questions = q ? g_strndup(q, (gsize)sqlite3_column_bytes(st, 1)) : NULL;
        }
        g_array_append_val(rows, row);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        set_sql_detail(s, detail, "load items");
        return BW_E_STATE;
    }
    return BW_OK;
}

bw_status_t
bw_store_load_items_questions(bw_store_t *s, GPtrArray **out, GPtrArray **questions_out,
                              char **detail)
{
    *out = NULL;
    if (questions_out)
        *questions_out = NULL;
    /* The rows by date then message-id.  SQLite gives that order through
     * items_date plus a sorter for the ids of each date, which copies every
     * row (~1.8 kB with its binary form) whatever the ties: ~4 M
     * instructions at 1,305 rows.  So the rows come by date only (the
     * index's order) and the ids of a date are put in order here; rows
     * whose date is not an integer (not written by us) take SQLite's
     * ORDER BY as before. */
    g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(loaded_row_t));
    g_array_set_clear_func(rows, loaded_row_clear);
    bool integer_dates = true;
    bw_status_t st = load_rows(s, "SELECT message_id, questions, bin, date FROM items ORDER BY date",
                               questions_out != NULL, rows, &integer_dates, detail);
    if (st == BW_OK && !integer_dates) {
        g_array_set_size(rows, 0);
        st = load_rows(s, "SELECT message_id, questions, bin, date FROM items"
                          " ORDER BY date, message_id",
                       questions_out != NULL, rows, &integer_dates, detail);
    } else if (st == BW_OK) {
        bool ties = false;
        for (guint i = 1; i < rows->len && !ties; i++)
            ties = g_array_index(rows, loaded_row_t, i).date ==
                   g_array_index(rows, loaded_row_t, i - 1).date;
        if (ties)
            g_array_sort(rows, cmp_loaded_row);
    }
    if (st != BW_OK)
        return st;
    g_autoptr(GPtrArray) items = g_ptr_array_new_full(rows->len, (GDestroyNotify)bw_item_free);
    /* by index, not by message-id: no key copied and hashed per row */
    g_autoptr(GPtrArray) questions = questions_out
        ? g_ptr_array_new_full(rows->len, g_free) : NULL;
    for (guint i = 0; i < rows->len; i++) {
        loaded_row_t *r = &g_array_index(rows, loaded_row_t, i);
        g_ptr_array_add(items, g_steal_pointer(&r->item));
        if (questions)
            g_ptr_array_add(questions, g_steal_pointer(&r->questions));
    }
    *out = g_steal_pointer(&items);
    if (questions_out)
        *questions_out = g_steal_pointer(&questions);
    return BW_OK;
}

bw_status_t
bw_store_clear_items(bw_store_t *s)
{
    int rc = exec_sql(s, "DELETE FROM items");
    if (rc == SQLITE_OK)
        rc = exec_sql(s, "DELETE FROM snap_items");
    return rc_status(rc);
}

/* ------------------------------------------------------------ campaigns */

static JsonNode *
strv_node(const GPtrArray *a)
{
    JsonArray *arr = json_array_new();
    for (guint i = 0; a != NULL && i < a->len; i++)
        json_array_add_string_element(arr, g_ptr_array_index(a, i));
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, arr);
    return n;
}

static GPtrArray *
strv_from(JsonObject *o, const char *member)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    JsonNode *n = json_object_get_member(o, member);
    if (n == NULL || !JSON_NODE_HOLDS_ARRAY(n))
        return a;
    JsonArray *arr = json_node_get_array(n);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonNode *e = json_array_get_element(arr, i);
        if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
            g_ptr_array_add(a, g_strdup(json_node_get_string(e)));
    }
    return a;
}

/* The member `name` when it is a value of type `type`, else NULL: a
 * damaged row may hold anything, and json-glib's *_member_with_default
 * getters assert (a GLib critical) on arrays and objects. */
static JsonNode *
value_member(JsonObject *o, const char *name, GType type)
{
    JsonNode *n = o != NULL ? json_object_get_member(o, name) : NULL;
    return n != NULL && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == type ? n : NULL;
}

static const char *
string_member(JsonObject *o, const char *name)
{
    JsonNode *n = value_member(o, name, G_TYPE_STRING);
    return n != NULL ? json_node_get_string(n) : NULL;
}

JsonNode *
bw_store_campaign_to_json(const bw_campaign_t *c)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "id", c->id);
    json_object_set_member(o, "members", strv_node(c->members));
    json_object_set_int_member(o, "first_seen", c->first_seen);
    json_object_set_int_member(o, "last_seen", c->last_seen);
    json_object_set_member(o, "subjects", strv_node(c->subjects));
    json_object_set_member(o, "forged_senders", strv_node(c->forged_senders));
    json_object_set_member(o, "reporting_domains", strv_node(c->reporting_domains));
    json_object_set_string_member(o, "origin", bw_origin_to_string(c->origin));
    json_object_set_member(o, "fingerprint", bw_fingerprint_to_json(&c->fp));
    json_object_set_boolean_member(o, "muted", c->muted);
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

bw_campaign_t *
bw_store_campaign_from_json(JsonNode *node)
{
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        return NULL;
    JsonObject *o = json_node_get_object(node);
    const char *id = string_member(o, "id");
    if (id == NULL)
        return NULL;
    bw_campaign_t *c = g_new0(bw_campaign_t, 1);
    c->id = g_strdup(id);
    c->members = strv_from(o, "members");
    JsonNode *n = value_member(o, "first_seen", G_TYPE_INT64);
    c->first_seen = n != NULL ? json_node_get_int(n) : 0;
    n = value_member(o, "last_seen", G_TYPE_INT64);
    c->last_seen = n != NULL ? json_node_get_int(n) : 0;
    c->subjects = strv_from(o, "subjects");
    c->forged_senders = strv_from(o, "forged_senders");
    c->reporting_domains = strv_from(o, "reporting_domains");
    const char *origin = string_member(o, "origin");
    c->origin = g_strcmp0(origin, "own-account") == 0 ? BW_ORIGIN_OWN_ACCOUNT
              : g_strcmp0(origin, "foreign") == 0 ? BW_ORIGIN_FOREIGN : BW_ORIGIN_UNKNOWN;
    bw_fingerprint_from_json(json_object_get_member(o, "fingerprint"), &c->fp);
    n = value_member(o, "muted", G_TYPE_BOOLEAN);
    c->muted = n != NULL && json_node_get_boolean(n);
    return c;
}

/* The row's JSON text: what bw_json_node_to_text(bw_store_campaign_to_json(c))
 * writes, written directly (json-glib's tree and generator cost ~1,500
 * instructions a member, and a save writes the campaigns that grew, the
 * biggest ones).  A string it cannot write as json-glib does (NULL in a
 * list, invalid UTF-8) takes json-glib's way.  check_store compares both. */
static void
ctext_key(GString *out, const char *key)
{
    g_string_append_c(out, '"');
    g_string_append(out, key);
    g_string_append(out, "\":");
}

static bool
ctext_str(GString *out, const char *key, const char *value)
{
    ctext_key(out, key);
    if (value == NULL) {
        g_string_append(out, "null");
        return true;
    }
    return bw_json_string_append(out, value);
}

static bool
ctext_strv(GString *out, const char *key, const GPtrArray *a)
{
    ctext_key(out, key);
    g_string_append_c(out, '[');
    for (guint i = 0; a != NULL && i < a->len; i++) {
        if (i > 0)
            g_string_append_c(out, ',');
        if (!bw_json_string_append(out, g_ptr_array_index(a, i)))
            return false;
    }
    g_string_append_c(out, ']');
    return true;
}

static void
ctext_hash(GString *out, const char *key, guint64 h)
{
    ctext_key(out, key);
    g_string_append_printf(out, "\"%016" G_GINT64_MODIFIER "x\"", h);
}

char *
bw_store_campaign_to_text(const bw_campaign_t *c)
{
    gsize size = 512;
    for (guint i = 0; c->members != NULL && i < c->members->len; i++) {
        const char *m = g_ptr_array_index(c->members, i);
        size += m != NULL ? strlen(m) + 3 : 8;
    }
    GString *out = g_string_sized_new(size);
    g_string_append_c(out, '{');
    bool ok = ctext_str(out, "id", c->id);
    g_string_append_c(out, ',');
    ok = ok && ctext_strv(out, "members", c->members);
    g_string_append_c(out, ',');
    ctext_key(out, "first_seen");
    g_string_append_printf(out, "%" G_GINT64_FORMAT ",", c->first_seen);
    ctext_key(out, "last_seen");
    g_string_append_printf(out, "%" G_GINT64_FORMAT ",", c->last_seen);
    ok = ok && ctext_strv(out, "subjects", c->subjects);
    g_string_append_c(out, ',');
    ok = ok && ctext_strv(out, "forged_senders", c->forged_senders);
    g_string_append_c(out, ',');
    ok = ok && ctext_strv(out, "reporting_domains", c->reporting_domains);
    g_string_append_c(out, ',');
    ok = ok && ctext_str(out, "origin", bw_origin_to_string(c->origin));
    g_string_append_c(out, ',');
    const bw_fingerprint_t *fp = &c->fp;
    ctext_key(out, "fingerprint");
    g_string_append_c(out, '{');
    ctext_hash(out, "subject_template", fp->subject_template);
    g_string_append_c(out, ',');
    ctext_hash(out, "url_domains", fp->url_domains);
    g_string_append_c(out, ',');
    ctext_hash(out, "origin_network", fp->origin_network);
    g_string_append_c(out, ',');
    ctext_hash(out, "msgid_shape", fp->msgid_shape);
    g_string_append_c(out, ',');
    ctext_hash(out, "mailer", fp->mailer);
    g_string_append_c(out, ',');
    ctext_hash(out, "body_simhash", fp->body_simhash);
    g_string_append_c(out, ',');
    ctext_hash(out, "forged_sender", fp->forged_sender);
    g_string_append_c(out, ',');
    ok = ok && ctext_str(out, "subject_masked", fp->subject_masked);
    g_string_append_c(out, ',');
    ctext_hash(out, "subject_names", fp->subject_names);
    g_string_append(out, "},");
    ctext_key(out, "muted");
    g_string_append(out, c->muted ? "true}" : "false}");
    if (ok)
        return g_string_free(out, FALSE);
    g_string_free(out, TRUE);
    JsonNode *n = bw_store_campaign_to_json(c);
    char *text = node_to_string(n);
    json_node_unref(n);
    return text;
}

/* The campaign's binary form, beside its JSON in the same row (column
 * `bin`): loading it skips json-glib (2 M instructions a hook at 160k
 * messages for 18 KB of campaigns, growing with the history), and saving
 * compares it with the stored one, so that only the campaigns that changed
 * are written again (their JSON with them).
 *
 * CAMPAIGN_BIN_MAGIC, the XXH64 of the rest (bw_xxh64, little-endian, as
 * the items' form: a guard against accidental damage, see "the item's
 * binary form"), then the fields in one fixed order, little-endian:
 * first_seen, last_seen (8 bytes each), the origin (1 byte), the
 * fingerprint's eight hashes (8 bytes each, in bw_fingerprint_t's order:
 * subject_template, url_domains, origin_network, msgid_shape, mailer,
 * body_simhash, forged_sender, subject_names), then the strings: the id,
 * the masked subject, and the four lists (members, subjects, forged
 * senders, reporting domains), each a 4-byte count then its strings.  A
 * string is its 4-byte length then its bytes (no NUL); the length
 * 0xffffffff is NULL.  It holds exactly what bw_store_campaign_from_json
 * restores from the row's JSON (a list's NULL entries left out, as that
 * reader does; the muted flag is the row's column in both).  A campaign
 * with a string that is not UTF-8 gets no binary form: its JSON is read,
 * as before (json-glib's reader refuses such text, and the load must do
 * what it did).  The reader checks every length against the bytes left,
 * so any bytes give a campaign or NULL; a damaged form (its sum), or
 * one whose id is not its row's, is refused, and the row's JSON is read
 * instead. */
#define CAMPAIGN_BIN_MAGIC "BWCAMP1\0"
#define CAMPAIGN_BIN_HEAD 16u
#define CAMPAIGN_BIN_SEED 0x62772d63616d7031ull   /* "bw-camp1" */
#define CAMPAIGN_BIN_NULL 0xffffffffu

static void
cbin_u32(GByteArray *b, guint32 v)
{
    guint32 le = GUINT32_TO_LE(v);
    g_byte_array_append(b, (const guint8 *)&le, 4);
}

static void
cbin_u64(GByteArray *b, guint64 v)
{
    guint64 le = GUINT64_TO_LE(v);
    g_byte_array_append(b, (const guint8 *)&le, 8);
}

static bool
cbin_str(GByteArray *b, const char *s)
{
    if (s == NULL) {
        cbin_u32(b, CAMPAIGN_BIN_NULL);
        return true;
    }
    size_t n = strlen(s);
    if (n >= CAMPAIGN_BIN_NULL || !bw_utf8_validate(s, (gssize)n))
        return false;
    cbin_u32(b, (guint32)n);
    g_byte_array_append(b, (const guint8 *)s, (guint)n);
    return true;
}

static bool
cbin_strv(GByteArray *b, const GPtrArray *a)
{
    guint32 n = 0;
    for (guint i = 0; a != NULL && i < a->len; i++)
        n += g_ptr_array_index(a, i) != NULL;
    cbin_u32(b, n);
    for (guint i = 0; a != NULL && i < a->len; i++) {
        const char *e = g_ptr_array_index(a, i);
        if (e != NULL && !cbin_str(b, e))
            return false;
    }
    return true;
}

GBytes *
bw_store_campaign_to_bin(const bw_campaign_t *c)
{
    if (c == NULL || c->id == NULL)
        return NULL;
    GByteArray *b = g_byte_array_sized_new(256);
    g_byte_array_append(b, (const guint8 *)CAMPAIGN_BIN_MAGIC, 8);
    cbin_u64(b, 0);   /* the sum, below */
    cbin_u64(b, (guint64)c->first_seen);
    cbin_u64(b, (guint64)c->last_seen);
    guint8 origin = (guint8)c->origin;
    g_byte_array_append(b, &origin, 1);
    const bw_fingerprint_t *fp = &c->fp;
    guint64 hashes[BW_FINGERPRINT_HASHES];
    bw_fingerprint_get_hashes(fp, hashes);
    for (guint i = 0; i < G_N_ELEMENTS(hashes); i++)
        cbin_u64(b, hashes[i]);
    bool ok = cbin_str(b, c->id) && cbin_str(b, fp->subject_masked) &&
              cbin_strv(b, c->members) && cbin_strv(b, c->subjects) &&
              cbin_strv(b, c->forged_senders) && cbin_strv(b, c->reporting_domains);
    if (!ok || b->len > G_MAXINT) {
        g_byte_array_unref(b);
        return NULL;
    }
    guint64 sum = GUINT64_TO_LE(bw_xxh64(b->data + CAMPAIGN_BIN_HEAD, b->len - CAMPAIGN_BIN_HEAD,
                                         CAMPAIGN_BIN_SEED));
    memcpy(b->data + 8, &sum, 8);
    return g_byte_array_free_to_bytes(b);
}

typedef struct {
    const guchar *p;
    gsize left;
} cbin_reader_t;

static bool
cbin_get(cbin_reader_t *r, void *out, gsize n)
{
    if (r->left < n)
        return false;
    memcpy(out, r->p, n);
    r->p += n;
    r->left -= n;
    return true;
}

static bool
cbin_get_u32(cbin_reader_t *r, guint32 *v)
{
    if (!cbin_get(r, v, 4))
        return false;
    *v = GUINT32_FROM_LE(*v);
    return true;
}

static bool
cbin_get_u64(cbin_reader_t *r, guint64 *v)
{
    if (!cbin_get(r, v, 8))
        return false;
    *v = GUINT64_FROM_LE(*v);
    return true;
}

/* *out gets a copy (g_free), NULL for the NULL string. */
static bool
cbin_get_str(cbin_reader_t *r, char **out)
{
    guint32 n;
    *out = NULL;
    if (!cbin_get_u32(r, &n))
        return false;
    if (n == CAMPAIGN_BIN_NULL)
        return true;
    if (n > r->left || memchr(r->p, '\0', n) != NULL)
        return false;
    *out = g_strndup((const char *)r->p, n);
    r->p += n;
    r->left -= n;
    return true;
}

static GPtrArray *
cbin_get_strv(cbin_reader_t *r)
{
    guint32 n;
    /* each string takes at least its 4-byte length */
    if (!cbin_get_u32(r, &n) || n > r->left / 4)
        return NULL;
    GPtrArray *a = g_ptr_array_new_full(n, g_free);
    for (guint32 i = 0; i < n; i++) {
        char *e;
        if (!cbin_get_str(r, &e) || e == NULL) {
            g_free(e);
            g_ptr_array_unref(a);
            return NULL;
        }
        g_ptr_array_add(a, e);
    }
    return a;
}

bw_campaign_t *
bw_store_campaign_from_bin(const void *blob, gsize len)
{
    const guchar *b = blob;
    if (b == NULL || len < CAMPAIGN_BIN_HEAD || memcmp(b, CAMPAIGN_BIN_MAGIC, 8) != 0)
        return NULL;
    guint64 sum;
    memcpy(&sum, b + 8, 8);
    if (GUINT64_FROM_LE(sum) != bw_xxh64(b + CAMPAIGN_BIN_HEAD, len - CAMPAIGN_BIN_HEAD,
                                         CAMPAIGN_BIN_SEED))
        return NULL;
    cbin_reader_t r = { b + CAMPAIGN_BIN_HEAD, len - CAMPAIGN_BIN_HEAD };
    bw_campaign_t *c = g_new0(bw_campaign_t, 1);
    guint64 first, last, hashes[BW_FINGERPRINT_HASHES];
    guint8 origin;
    bool ok = cbin_get_u64(&r, &first) && cbin_get_u64(&r, &last) && cbin_get(&r, &origin, 1);
    for (guint i = 0; ok && i < G_N_ELEMENTS(hashes); i++)
        ok = cbin_get_u64(&r, &hashes[i]);
    ok = ok && cbin_get_str(&r, &c->id) && c->id != NULL &&
         cbin_get_str(&r, &c->fp.subject_masked) &&
         (c->members = cbin_get_strv(&r)) != NULL &&
         (c->subjects = cbin_get_strv(&r)) != NULL &&
         (c->forged_senders = cbin_get_strv(&r)) != NULL &&
         (c->reporting_domains = cbin_get_strv(&r)) != NULL &&
         r.left == 0;
    if (!ok) {
        bw_campaign_free(c);
        return NULL;
    }
    c->first_seen = (gint64)first;
    c->last_seen = (gint64)last;
    /* as the JSON's origin text reads back */
    c->origin = origin == BW_ORIGIN_OWN_ACCOUNT ? BW_ORIGIN_OWN_ACCOUNT
              : origin == BW_ORIGIN_FOREIGN ? BW_ORIGIN_FOREIGN : BW_ORIGIN_UNKNOWN;
    bw_fingerprint_set_hashes(&c->fp, hashes);
    return c;
}

/* A stored campaign row as the save finds it. */
typedef struct {
    GBytes *bin;      /* NULL: none (an older row, or text that is not UTF-8) */
    bool muted;
    gint64 pos;       /* -1: none */
    bool seen;        /* the new set has its id */
} campaign_row_t;

static void
campaign_row_free(campaign_row_t *r)
{
    if (r->bin)
        g_bytes_unref(r->bin);
    g_free(r);
}

bw_status_t
bw_store_save_campaigns(bw_store_t *s, GPtrArray *campaigns, char **detail)
{
    /* What the rows say now: each campaign is written only when its row
     * does not already hold it (the same binary form, mute flag and
     * place), and the user's mute choices are kept. */
    g_autoptr(GHashTable) rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                       (GDestroyNotify)campaign_row_free);
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s, "SELECT id, bin, muted, pos FROM campaigns", &st);
    if (rc != SQLITE_OK) {
        set_sql_detail(s, detail, "save campaigns");
        return BW_E_STATE;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id == NULL)
            continue;
        campaign_row_t *r = g_new0(campaign_row_t, 1);
        const void *bin = sqlite3_column_blob(st, 1);
        if (bin != NULL)
            r->bin = g_bytes_new(bin, (gsize)sqlite3_column_bytes(st, 1));
        r->muted = sqlite3_column_int(st, 2) != 0;
        r->pos = sqlite3_column_type(st, 3) == SQLITE_INTEGER ? sqlite3_column_int64(st, 3) : -1;
        g_hash_table_replace(rows, g_strdup(id), r);
    }
    stmt_done(st);
    if (rc != SQLITE_DONE) {
        set_sql_detail(s, detail, "save campaigns");
        return BW_E_STATE;
    }
    for (guint i = 0; campaigns != NULL && i < campaigns->len; i++) {
        bw_campaign_t *c = g_ptr_array_index(campaigns, i);
        if (c->id == NULL)
            continue;
        campaign_row_t *r = g_hash_table_lookup(rows, c->id);
        if (r != NULL && r->muted)
            c->muted = true;
        g_autoptr(GBytes) bin = bw_store_campaign_to_bin(c);
        /* (an id twice in the set: its last entry wins, as it did) */
        bool same = r != NULL && !r->seen && r->muted == c->muted && bin != NULL &&
                    r->bin != NULL && g_bytes_equal(bin, r->bin);
        if (r != NULL)
            r->seen = true;
        if (same && r->pos == (gint64)i)
            continue;
        if (same) {
            rc = stmt_get(s, "UPDATE campaigns SET pos=?2 WHERE id=?1", &st);
            if (rc == SQLITE_OK) {
                sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, (gint64)i);
                rc = sqlite3_step(st);
                stmt_done(st);
            }
        } else {
            g_autofree char *json = bw_store_campaign_to_text(c);
            rc = stmt_get(s, "INSERT OR REPLACE INTO campaigns(id,json,muted,bin,pos) "
                             "VALUES(?1,?2,?3,?4,?5)", &st);
            if (rc == SQLITE_OK) {
                sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
                sqlite3_bind_int(st, 3, c->muted ? 1 : 0);
                if (bin != NULL)
                    sqlite3_bind_blob(st, 4, g_bytes_get_data(bin, NULL),
                                      (int)g_bytes_get_size(bin), SQLITE_STATIC);
                else
                    sqlite3_bind_null(st, 4);
                sqlite3_bind_int64(st, 5, (gint64)i);
                rc = sqlite3_step(st);
                stmt_done(st);
            }
        }
        if (rc != SQLITE_DONE) {
            set_sql_detail(s, detail, "save campaigns");
            return BW_E_STATE;
        }
    }
    /* the campaigns that are gone */
    GHashTableIter hi;
    gpointer id, val;
    g_hash_table_iter_init(&hi, rows);
    while (g_hash_table_iter_next(&hi, &id, &val)) {
        if (((campaign_row_t *)val)->seen)
            continue;
        rc = stmt_get(s, "DELETE FROM campaigns WHERE id=?1", &st);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
            stmt_done(st);
        }
        if (rc != SQLITE_DONE) {
            set_sql_detail(s, detail, "save campaigns");
            return BW_E_STATE;
        }
    }
    return BW_OK;
}

bw_status_t
bw_store_load_campaigns(bw_store_t *s, GPtrArray **out, char **detail)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    /* In the order of the last save (`pos`); rows without one (written
     * by an older version, which rewrote them all in order) by rowid. */
    int rc = stmt_get(s, "SELECT json, muted, bin, id FROM campaigns ORDER BY pos, rowid", &st);
    if (rc != SQLITE_OK) {
        set_sql_detail(s, detail, "load campaigns");
        return BW_E_STATE;
    }
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_campaign_free);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bw_campaign_t *c = bw_store_campaign_from_bin(sqlite3_column_blob(st, 2),
                                                      (gsize)sqlite3_column_bytes(st, 2));
        /* a whole form that names another row (a page of another row, a
         * foreign write: its sum holds) is not this row's campaign */
        const char *row_id = (const char *)sqlite3_column_text(st, 3);
        if (c != NULL && g_strcmp0(c->id, row_id) != 0)
            g_clear_pointer(&c, bw_campaign_free);
        if (c == NULL) {
            /* no binary form, a damaged one or another row's: the JSON */
            const char *json = (const char *)sqlite3_column_text(st, 0);
            JsonNode *n = json ? string_to_node(json, (size_t)sqlite3_column_bytes(st, 0)) : NULL;
            c = bw_store_campaign_from_json(n);
            if (n)
                json_node_unref(n);
        }
        if (c == NULL) {
            bw_error_set(detail, BW_E_STATE, _("state file %s holds an unreadable campaign"), s->path);
            stmt_done(st);
            return BW_E_STATE;
        }
        c->muted = sqlite3_column_int(st, 1) != 0;
        g_ptr_array_add(list, c);
    }
    stmt_done(st);
    if (rc != SQLITE_DONE) {
        set_sql_detail(s, detail, "load campaigns");
        return BW_E_STATE;
    }
    *out = g_steal_pointer(&list);
    return BW_OK;
}

bw_status_t
bw_store_set_muted(bw_store_t *s, const char *campaign_id, bool muted)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "UPDATE campaigns SET muted=?2 WHERE id=?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, campaign_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, muted ? 1 : 0);
    rc = sqlite3_step(st);
    bool changed = sqlite3_changes(s->db) > 0;
    if (changed)
        owe_durability(s);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return BW_E_STATE;
    /* The flag is part of the scan document: the kept one is stale now. */
    if (changed && exec_sql(s, "DELETE FROM meta WHERE key='json_key'") != SQLITE_OK)
        return BW_E_STATE;
    return changed ? BW_OK : BW_E_INVALID;
}

/* ------------------------------------------------------------ surges */

bw_status_t
bw_store_save_surges(bw_store_t *s, GPtrArray *surges)
{
    if (exec_sql(s, "DELETE FROM surges") != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "INSERT INTO surges(start,json) VALUES(?1,?2)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    for (guint i = 0; surges != NULL && i < surges->len; i++) {
        const bw_surge_t *g = g_ptr_array_index(surges, i);
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "start", g->start);
        json_object_set_int_member(o, "end", g->end);
        json_object_set_int_member(o, "count", g->count);
        json_object_set_double_member(o, "baseline_per_hour", g->baseline_per_hour);
        json_object_set_member(o, "campaigns", strv_node(g->campaigns));
        json_object_set_boolean_member(o, "ongoing", g->ongoing);
        json_object_set_string_member(o, "detector", g->detector);
        JsonNode *n = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(n, o);
        g_autofree char *json = node_to_string(n);
        json_node_unref(n);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, g->start);
        sqlite3_bind_text(st, 2, json, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            sqlite3_finalize(st);
            return BW_E_STATE;
        }
    }
    sqlite3_finalize(st);
    return BW_OK;
}

/* ------------------------------------------------------------ notified */

bw_status_t
bw_store_get_notified(bw_store_t *s, const char *key, bool *found,
                      guint32 *notification_id, unsigned *count, gint64 *when)
{
    *found = false;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
        "SELECT notification_id, count, at FROM notified WHERE key=?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = true;
        if (notification_id)
            *notification_id = (guint32)sqlite3_column_int64(st, 0);
        if (count)
            *count = (unsigned)sqlite3_column_int64(st, 1);
        if (when)
            *when = sqlite3_column_int64(st, 2);
    }
    sqlite3_finalize(st);
    return rc_status(rc);
}

bw_status_t
bw_store_set_notified(bw_store_t *s, const char *key, guint32 notification_id,
                      unsigned count, gint64 when)
{
    owe_durability(s);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
        "INSERT OR REPLACE INTO notified(key,notification_id,count,at) VALUES(?1,?2,?3,?4)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, notification_id);
    sqlite3_bind_int64(st, 3, count);
    sqlite3_bind_int64(st, 4, when);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

/* ------------------------------------------------------------ tagged */

bw_status_t
bw_store_load_tagged(bw_store_t *s, GHashTable **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT message_id, tags FROM tagged", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_hash_table_replace(h, g_strdup((const char *)sqlite3_column_text(st, 0)),
                             g_strdup((const char *)sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        g_hash_table_destroy(h);
        return BW_E_STATE;
    }
    *out = h;
    return BW_OK;
}

bw_status_t
bw_store_load_tagged_some(bw_store_t *s, const GPtrArray *ids, GHashTable **out)
{
    *out = NULL;
    sqlite3_stmt *one = NULL, *sig = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT tags FROM tagged WHERE message_id=?1", -1, &one,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "SELECT message_id, tags FROM tagged"
                                  " WHERE instr(tags, 'bw/signal') > 0 OR"
                                  " instr(tags, 'bw/phishing') > 0",
                           -1, &sig, NULL) != SQLITE_OK) {
        sqlite3_finalize(one);
        return BW_E_STATE;
    }
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    int rc = SQLITE_DONE;
    for (guint i = 0; ids != NULL && i < ids->len && rc == SQLITE_DONE; i++) {
        const char *id = g_ptr_array_index(ids, i);
        sqlite3_reset(one);
        sqlite3_bind_text(one, 1, id, -1, SQLITE_STATIC);
        rc = sqlite3_step(one);
        if (rc == SQLITE_ROW) {
            g_hash_table_replace(h, g_strdup(id),
                                 g_strdup((const char *)sqlite3_column_text(one, 0)));
            rc = sqlite3_step(one);   /* the key is unique: SQLITE_DONE */
        }
    }
    if (rc == SQLITE_DONE) {
        while ((rc = sqlite3_step(sig)) == SQLITE_ROW)
            g_hash_table_replace(h, g_strdup((const char *)sqlite3_column_text(sig, 0)),
                                 g_strdup((const char *)sqlite3_column_text(sig, 1)));
    }
    sqlite3_finalize(one);
    sqlite3_finalize(sig);
    if (rc != SQLITE_DONE) {
        g_hash_table_destroy(h);
        return BW_E_STATE;
    }
    *out = h;
    return BW_OK;
}

bw_status_t
bw_store_set_tagged(bw_store_t *s, const char *message_id, const char *tags)
{
    owe_durability(s);
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s,
        tags ? "INSERT OR REPLACE INTO tagged(message_id,tags) VALUES(?1,?2)"
             : "DELETE FROM tagged WHERE message_id=?1", &st);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    if (tags)
        sqlite3_bind_text(st, 2, tags, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    stmt_done(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

bw_status_t
bw_store_clear_tagged(bw_store_t *s)
{
    owe_durability(s);
    return rc_status(exec_sql(s, "DELETE FROM tagged"));
}

/* ------------------------------------------------------------ signal rows */

bw_status_t
bw_store_put_signal_row(bw_store_t *s, const char *kind, const char *message_id, gint64 date,
                        const char *json)
{
    sqlite3_stmt **slot = json ? &s->put_signal_row : &s->delete_signal_row;
    if (*slot == NULL &&
        sqlite3_prepare_v3(s->db,
            json ? "INSERT OR REPLACE INTO signal_rows(kind,message_id,date,json) VALUES(?1,?2,?3,?4)"
                 : "DELETE FROM signal_rows WHERE kind=?1 AND message_id=?2",
            -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        g_clear_pointer(slot, sqlite3_finalize);
        return BW_E_STATE;
    }
    sqlite3_stmt *st = *slot;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, message_id, -1, SQLITE_STATIC);
    if (json) {
        sqlite3_bind_int64(st, 3, date);
        sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
    }
    int rc = sqlite3_step(st);
    /* ready for the next row, holding none of this one's text */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

/* Every row of `kind`: message-id -> its JSON, or NULL without `json`. */
static bw_status_t
load_signal_rows(bw_store_t *s, const char *kind, bool json, GHashTable **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, json ? "SELECT message_id, json FROM signal_rows WHERE kind=?1"
                                            : "SELECT message_id FROM signal_rows WHERE kind=?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *text = json ? (const char *)sqlite3_column_text(st, 1) : NULL;
        if (id && (text || !json))
            g_hash_table_replace(h, g_strdup(id), g_strdup(text));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        g_hash_table_destroy(h);
        return BW_E_STATE;
    }
    *out = h;
    return BW_OK;
}

bw_status_t
bw_store_load_signal_rows(bw_store_t *s, const char *kind, GHashTable **out)
{
    return load_signal_rows(s, kind, true, out);
}

bw_status_t
bw_store_clear_signal_rows(bw_store_t *s)
{
    return rc_status(exec_sql(s, "DELETE FROM signal_rows"));
}

bw_status_t
bw_store_has_signal_row(bw_store_t *s, const char *kind, const char *message_id, bool *has)
{
    *has = false;
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s, "SELECT 1 FROM signal_rows WHERE kind=?1 AND message_id=?2", &st);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, message_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    *has = rc == SQLITE_ROW;
    stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

bw_status_t
bw_store_get_signal_row(bw_store_t *s, const char *kind, const char *message_id, char **json_out)
{
    *json_out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = stmt_get(s, "SELECT json FROM signal_rows WHERE kind=?1 AND message_id=?2", &st);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, message_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        *json_out = g_strdup((const char *)sqlite3_column_text(st, 0));
    stmt_done(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

/* ------------------------------------------------------------ snapshot */

static bw_status_t
put_blob(bw_store_t *s, int id, GBytes *data)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO snapshot(id,data) VALUES(?2,?1)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_int(st, 2, id);
    gsize len = 0;
    const void *p = data ? g_bytes_get_data(data, &len) : NULL;
    if (p == NULL || len == 0)
        rc = sqlite3_bind_zeroblob(st, 1, 0);
    else
        rc = sqlite3_bind_blob64(st, 1, p, len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

/* Read a blob row through SQLite's incremental blob I/O: the bytes go
 * straight into one buffer of ours, where a SELECT copies the whole value
 * into SQLite's memory first and then into ours (the snapshot is ~2 MB at
 * 160k messages: twice the page faults, and every overflow page through the
 * page cache).  Returns SQLITE_OK with *out NULL for an empty value; any
 * other code (no such row included) leaves the caller to the SELECT. */
static int
read_blob_direct(bw_store_t *s, const char *table, sqlite3_int64 id, GBytes **out)
{
    *out = NULL;
    sqlite3_blob *b = NULL;
    int rc = sqlite3_blob_open(s->db, "main", table, "data", id, 0, &b);
    if (rc != SQLITE_OK) {
        sqlite3_blob_close(b);
        return rc;
    }
    int len = sqlite3_blob_bytes(b);
    if (len > 0) {
        guchar *buf = g_malloc((gsize)len);
        rc = sqlite3_blob_read(b, buf, len, 0);
        if (rc == SQLITE_OK)
            *out = g_bytes_new_take(buf, (gsize)len);
        else
            g_free(buf);
    }
    int crc = sqlite3_blob_close(b);
    return rc != SQLITE_OK ? rc : crc;
}

static bw_status_t
get_blob(bw_store_t *s, int id, GBytes **out)
{
    *out = NULL;
    if (read_blob_direct(s, "snapshot", id, out) == SQLITE_OK)
        return BW_OK;
    g_clear_pointer(out, g_bytes_unref);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "SELECT data FROM snapshot WHERE id=?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_int(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int len = sqlite3_column_bytes(st, 0);
        const void *p = sqlite3_column_blob(st, 0);
        if (p != NULL && len > 0)
            *out = g_bytes_new(p, (gsize)len);
    }
    sqlite3_finalize(st);
    return rc_status(rc);
}

/* ------------------------------------------------------------ snapshot parts
 *
 * The snapshot (~2 MB at 160k messages) is made again by every save, but a
 * save after a few new messages changes little of it.  Written whole, each
 * save put ~500 pages into the WAL, read the old value's overflow pages to
 * free them, and copied them all again into the database at the checkpoint.
 * So it is stored in parts, cut where the content says (a rolling hash of the
 * last 64 bytes, as in content-defined chunking): an item added or changed
 * moves the cuts near it only, and the other parts are the same bytes as
 * before.  A save writes the parts that differ and drops those no longer
 * used, in the same transaction as everything else.
 *
 * Row 0 of `snapshot` then holds the list: PARTS_MAGIC, a nonce (random, new
 * at each save), the total length, the count, and per part its row id in
 * `snapshot_parts`, its length and the checksum of its bytes (the XXH64,
 * bw_xxh64: see "the item's binary form" above for why not a cryptographic
 * hash; it was the BLAKE2b-256 up to PARTS_MAGIC_V2, ~8.5 M instructions a
 * read at 160k messages).  Reading checks every part against its sum: a
 * damaged part, a missing one or a damaged list reads as no snapshot (the
 * caller reads the items), and the next save writes every part again.  The
 * list's own BLAKE2b is the snapshot's head: it covers the nonce and every
 * part's sum (the list is small: ~5 KiB at 160k).  Parts are never changed
 * in place, only added and deleted.
 *
 * A part is kept only when this connection read the list (the very same list
 * row, by its nonce, still stored when the save starts inside its write
 * transaction), its bytes matched their hash, and they equal the new part's
 * bytes: it keeps its hash, so a save hashes only the parts it writes (the
 * whole snapshot was hashed by every save before: ~8 M instructions at 160k
 * messages).  Anything else (another process saved meanwhile, no read, a
 * damaged part) writes every part again and deletes all the others.
 *
 * Older forms, still read (and replaced by the next save): a list of
 * PARTS_MAGIC_V2 (each part's BLAKE2b-256), and row 0 holding the whole
 * blob, or a list of PARTS_MAGIC_V1 (no hashes); both of the last start
 * with the BLAKE2b-256 of the rest, which is checked here and cut off. */
#define PARTS_MAGIC "BWSNAPP3"
#define PARTS_MAGIC_V2 "BWSNAPP2"
#define PARTS_MAGIC_V1 "BWSNAPP1"
#define PARTS_NONCE 16u
#define PARTS_HEAD (8u + PARTS_NONCE + 8u + 4u)
#define PART_HASH 32u          /* room for a part's sum of either form */
#define PART_SUM 8u            /* the current form's: XXH64, little-endian */
#define PART_SUM_SEED 0x62772d736e617033ull   /* "bw-snap3" */
#define PART_HASH_V2 32u       /* PARTS_MAGIC_V2's: BLAKE2b-256 */
#define PARTS_ENTRY_V1 (8u + 4u)
#define PARTS_ENTRY_V2 (8u + 4u + PART_HASH_V2)
#define PARTS_ENTRY (8u + 4u + PART_SUM)
#define PART_MIN 1024u
#define PART_MAX 16384u
/* A cut where the top 12 bits of the rolling hash are 0: parts of ~5 KiB. */
#define PART_CUT_MASK 0xfff0000000000000ull
/* At most this many parts (a snapshot of 1 GiB in parts of PART_MIN). */
#define PARTS_MAX_COUNT (1u << 20)
/* What the older forms start with: the BLAKE2b-256 of the rest. */
#define WHOLE_HASH 32u
G_STATIC_ASSERT(BW_STORE_SNAPSHOT_HEAD == 32u);

static void
put_u32(guchar *p, guint32 v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (guchar)(v >> (8 * i));
}

static void
put_u64(guchar *p, guint64 v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (guchar)(v >> (8 * i));
}

static guint32
get_u32(const guchar *p)
{
    guint32 v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static guint64
get_u64(const guchar *p)
{
    guint64 v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

typedef struct {
    sqlite3_int64 id;
    gsize offset;
    guint32 len;
    /* its sum as listed: PART_SUM bytes in the current form, PART_HASH_V2
     * in the second, zero in the first */
    guchar hash[PART_HASH];
} part_t;

/* The form of a list row: 3 (PARTS_MAGIC), 2, 1, or 0 (not a list). */
static int
list_form(GBytes *row)
{
    gsize n = 0;
    const guchar *p = row ? g_bytes_get_data(row, &n) : NULL;
    if (p == NULL || n < 8)
        return 0;
    return memcmp(p, PARTS_MAGIC, 8) == 0 ? 3 : memcmp(p, PARTS_MAGIC_V2, 8) == 0 ? 2
         : memcmp(p, PARTS_MAGIC_V1, 8) == 0 ? 1 : 0;
}

/* The sum of a part's bytes in the current form. */
static void
part_sum(const guchar *p, gsize n, guchar *out)
{
    guint64 v = GUINT64_TO_LE(bw_xxh64(p, n, PART_SUM_SEED));
    memcpy(out, &v, PART_SUM);
}

/* The parts of a list row of any form, checked: magic, sizes, lengths
 * adding up to the total.  Returns FALSE for anything else (not a list, or
 * damaged). */
static gboolean
parse_parts_list(GBytes *list, GArray **parts_out, gsize *total_out)
{
    gsize n = 0;
    const guchar *p = list ? g_bytes_get_data(list, &n) : NULL;
    gsize entry = 0, sum = 0;
    int form = p != NULL && n >= PARTS_HEAD ? list_form(list) : 0;
    if (form == 3) {
        entry = PARTS_ENTRY;
        sum = PART_SUM;
    } else if (form == 2) {
        entry = PARTS_ENTRY_V2;
        sum = PART_HASH_V2;
    } else if (form == 1) {
        entry = PARTS_ENTRY_V1;
    } else {
        return FALSE;
    }
    guint64 total = get_u64(p + 8 + PARTS_NONCE);
    guint32 count = get_u32(p + 8 + PARTS_NONCE + 8);
    if (count == 0 || count > PARTS_MAX_COUNT || n != PARTS_HEAD + (gsize)count * entry ||
        total > (guint64)count * PART_MAX)
        return FALSE;
    GArray *parts = g_array_sized_new(FALSE, TRUE, sizeof(part_t), count);
    g_array_set_size(parts, count);
    gsize offset = 0;
    for (guint32 i = 0; i < count; i++) {
        const guchar *e = p + PARTS_HEAD + (gsize)i * entry;
        part_t *part = &g_array_index(parts, part_t, i);
        part->id = (sqlite3_int64)get_u64(e);
        part->offset = offset;
        part->len = get_u32(e + 8);
        memcpy(part->hash, e + 12, sum);
        if (part->len == 0 || part->len > PART_MAX) {
            g_array_unref(parts);
            return FALSE;
        }
        offset += part->len;
    }
    if (offset != total) {
        g_array_unref(parts);
        return FALSE;
    }
    *parts_out = parts;
    *total_out = offset;
    return TRUE;
}

/* The snapshot's bytes from its list: every part read through one blob
 * handle moved from row to row, and compared with its sum as the list's
 * `form` gives it (3: XXH64, 2: BLAKE2b-256, 1: none: the caller checks the
 * whole).  NULL when a part is missing, its length is not the listed one or
 * its bytes do not match. */
static GBytes *
read_parts(bw_store_t *s, GArray *parts, gsize total, int form)
{
    guchar *buf = g_malloc(total);
    sqlite3_blob *b = NULL;
    int rc = SQLITE_OK;
    for (guint i = 0; i < parts->len && rc == SQLITE_OK; i++) {
        const part_t *part = &g_array_index(parts, part_t, i);
        rc = b == NULL ? sqlite3_blob_open(s->db, "main", "snapshot_parts", "data", part->id, 0, &b)
                       : sqlite3_blob_reopen(b, part->id);
        if (rc == SQLITE_OK && sqlite3_blob_bytes(b) != (int)part->len)
            rc = SQLITE_CORRUPT;
        if (rc == SQLITE_OK)
            rc = sqlite3_blob_read(b, buf + part->offset, (int)part->len, 0);
        if (rc == SQLITE_OK && form == 3) {
            guchar h[PART_SUM];
            part_sum(buf + part->offset, part->len, h);
            if (memcmp(h, part->hash, PART_SUM) != 0)
                rc = SQLITE_CORRUPT;
        } else if (rc == SQLITE_OK && form == 2) {
            guchar h[PART_HASH_V2];
            crypto_generichash(h, sizeof h, buf + part->offset, part->len, NULL, 0);
            if (sodium_memcmp(h, part->hash, PART_HASH_V2) != 0)
                rc = SQLITE_CORRUPT;
        }
    }
    sqlite3_blob_close(b);
    if (rc != SQLITE_OK) {
        g_free(buf);
        return NULL;
    }
    return g_bytes_new_take(buf, total);
}

/* A blob of the older forms, checked: the bytes after its leading hash, or
 * NULL when they do not match it. */
static GBytes *
whole_checked(GBytes *blob, guint8 *head_out)
{
    gsize n = 0;
    const guchar *p = g_bytes_get_data(blob, &n);
    if (p == NULL || n <= WHOLE_HASH)
        return NULL;
    guchar h[WHOLE_HASH];
    crypto_generichash(h, sizeof h, p + WHOLE_HASH, n - WHOLE_HASH, NULL, 0);
    if (sodium_memcmp(h, p, WHOLE_HASH) != 0)
        return NULL;
    if (head_out != NULL)
        memcpy(head_out, p, WHOLE_HASH);
    return g_bytes_new_from_bytes(blob, WHOLE_HASH, n - WHOLE_HASH);
}

/* The head of a list of the current or the second form: its BLAKE2b-256. */
static void
list_head(GBytes *row, guint8 *out)
{
    gsize n = 0;
    const guchar *p = g_bytes_get_data(row, &n);
    crypto_generichash(out, BW_STORE_SNAPSHOT_HEAD, p, n, NULL, 0);
}

/* The stored snapshot, checked: *out NULL when there is none, or it is
 * damaged (a damaged list, a missing or damaged part, a blob of an older
 * form not matching its hash); the next save then writes every part. */
static bw_status_t
get_snapshot(bw_store_t *s, GBytes **out, guint8 *head_out)
{
    *out = NULL;
    g_autoptr(GBytes) row = NULL;
    bw_status_t st = get_blob(s, 0, &row);
    if (st != BW_OK || row == NULL)
        return st;
    forget_parts(s);
    int form = list_form(row);
    if (form == 0) {
        *out = whole_checked(row, head_out);   /* stored whole */
        return BW_OK;
    }
    g_autoptr(GArray) parts = NULL;
    gsize total = 0;
    if (!parse_parts_list(row, &parts, &total))
        return BW_OK;
    g_autoptr(GBytes) bytes = read_parts(s, parts, total, form);
    if (bytes == NULL)
        return BW_OK;
    if (form == 1) {
        *out = whole_checked(bytes, head_out);
        return BW_OK;
    }
    if (head_out != NULL)
        list_head(row, head_out);
    if (form != 3) {
        *out = g_steal_pointer(&bytes);   /* checked, but not kept: another form */
        return BW_OK;
    }
    /* Checked: what a save by this connection may keep. */
    s->parts_list = g_steal_pointer(&row);
    s->parts_bytes = g_bytes_ref(bytes);
    *out = g_steal_pointer(&bytes);
    return BW_OK;
}

/* The rolling hash's table: fixed pseudo-random words (splitmix64), so that
 * every version cuts the same bytes the same way. */
static const guint64 *
gear_table(void)
{
    static guint64 table[256];
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        guint64 x = 0x62772d736e617073ull;   /* "bw-snaps" */
        for (int i = 0; i < 256; i++) {
            guint64 z = (x += 0x9e3779b97f4a7c15ull);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
            table[i] = z ^ (z >> 31);
        }
        g_once_init_leave(&done, 1);
    }
    return table;
}

/* The length of the part that starts at p (n bytes left).  It depends on
 * those bytes only, up to the cut: a part of the old snapshot whose bytes
 * start where a new part starts is that part (see put_snapshot_parts). */
static gsize
part_length(const guchar *p, gsize n, const guint64 *gear)
{
    if (n <= PART_MIN)
        return n;
    gsize end = MIN(n, (gsize)PART_MAX);
    guint64 h = 0;
    for (gsize i = PART_MIN - 64; i < PART_MIN; i++)
        h = (h << 1) + gear[p[i]];
    for (gsize i = PART_MIN; i < end; i++) {
        h = (h << 1) + gear[p[i]];
        if ((h & PART_CUT_MASK) == 0)
            return i + 1;
    }
    return end;
}

/* A key for finding a part by its bytes: length and a few of them (a match
 * is then compared in full). */
static guint64
part_key(const guchar *p, gsize len)
{
    guint64 a = 0, b = 0;
    memcpy(&a, p, MIN(len, (gsize)8));
    if (len >= 8)
        memcpy(&b, p + len - 8, 8);
    return (a * 0x9e3779b97f4a7c15ull) ^ (b + len * 0xbf58476d1ce4e5b9ull);
}

static int
exec_id(bw_store_t *s, sqlite3_stmt **st, const char *sql, sqlite3_int64 id)
{
    if (*st == NULL && sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return SQLITE_ERROR;
    sqlite3_reset(*st);
    sqlite3_bind_int64(*st, 1, id);
    return sqlite3_step(*st);
}

/* Whether the old part `op` (index i of n) is the new part at `off`: its
 * bytes are the new ones from `off`.  The cut that ended it was made by
 * these bytes alone, so the new snapshot is cut there too, unless the old
 * part ended only because the old snapshot did (its last part), where the
 * new one must end there as well.  No rolling hash is run over it. */
static gboolean
old_part_is_next(const part_t *op, guint i, guint n, const guchar *old_bytes,
                 const guchar *data, gsize off, gsize len)
{
    if (op->len > len - off || (i + 1 == n && off + op->len != len))
        return FALSE;
    return memcmp(old_bytes + op->offset, data + off, op->len) == 0;
}

static bw_status_t
put_snapshot_parts(bw_store_t *s, GBytes *snapshot)
{
    gsize len = 0;
    const guchar *data = g_bytes_get_data(snapshot, &len);
    /* What can be kept: the parts of the list this connection read and
     * checked, if that list is still the stored one. */
    g_autoptr(GBytes) stored = NULL;
    if (get_blob(s, 0, &stored) != BW_OK)
        return BW_E_STATE;
    g_autoptr(GArray) old_parts = NULL;
    gsize old_total = 0;
    g_autoptr(GBytes) old = NULL;   /* the bytes as read, held while compared */
    const guchar *old_bytes = NULL;
    if (stored != NULL && s->parts_list != NULL && s->parts_bytes != NULL &&
        g_bytes_equal(stored, s->parts_list) && list_form(stored) == 3 &&
        parse_parts_list(stored, &old_parts, &old_total) &&
        g_bytes_get_size(s->parts_bytes) == old_total) {
        old = g_bytes_ref(s->parts_bytes);
        old_bytes = g_bytes_get_data(old, NULL);
    } else {
        g_clear_pointer(&old_parts, g_array_unref);
    }
    forget_parts(s);
    /* key -> index+1 of the first old part with that key */
    g_autoptr(GHashTable) by_key = g_hash_table_new(g_int64_hash, g_int64_equal);
    g_autoptr(GArray) keys = g_array_new(FALSE, FALSE, sizeof(guint64));
    guint old_n = old_parts ? old_parts->len : 0;
    if (old_parts != NULL) {
        g_array_set_size(keys, old_n);
        for (guint i = 0; i < old_n; i++) {
            const part_t *op = &g_array_index(old_parts, part_t, i);
            g_array_index(keys, guint64, i) = part_key(old_bytes + op->offset, op->len);
        }
        for (guint i = 0; i < old_n; i++) {
            guint64 *k = &g_array_index(keys, guint64, i);
            if (!g_hash_table_contains(by_key, k))
                g_hash_table_insert(by_key, k, GUINT_TO_POINTER(i + 1));
        }
    }

    const guint64 *gear = gear_table();
    g_autoptr(GArray) parts = g_array_new(FALSE, FALSE, sizeof(part_t));
    /* the row ids kept (a row may be listed twice: same bytes) */
    g_autoptr(GHashTable) kept = g_hash_table_new(g_int64_hash, g_int64_equal);
    sqlite3_stmt *ins = NULL, *del = NULL;
    bw_status_t res = BW_OK;
    if (old_parts == NULL && exec_sql(s, "DELETE FROM snapshot_parts") != SQLITE_OK)
        res = BW_E_STATE;
    if (res == BW_OK &&
        sqlite3_prepare_v2(s->db, "INSERT INTO snapshot_parts(data) VALUES(?1)", -1, &ins,
                           NULL) != SQLITE_OK)
        res = BW_E_STATE;
    guint next = 0;   /* the old part after the last one kept: the likely next */
    for (gsize off = 0; res == BW_OK && off < len;) {
        part_t part = { 0 };
        part.offset = off;
        const part_t *op = NULL;
        guint idx = 0;
        if (next < old_n &&
            old_part_is_next(&g_array_index(old_parts, part_t, next), next, old_n, old_bytes,
                             data, off, len)) {
            idx = next + 1;
            op = &g_array_index(old_parts, part_t, next);
            part.len = op->len;
        } else {
            part.len = (guint32)part_length(data + off, len - off, gear);
            guint64 k = part_key(data + off, part.len);
            idx = GPOINTER_TO_UINT(g_hash_table_lookup(by_key, &k));
            op = idx > 0 ? &g_array_index(old_parts, part_t, idx - 1) : NULL;
            if (op != NULL && (op->len != part.len ||
                               memcmp(old_bytes + op->offset, data + off, part.len) != 0))
                op = NULL;
        }
        if (op != NULL) {
            part.id = op->id;
            memcpy(part.hash, op->hash, PART_SUM);
            g_hash_table_add(kept, (gpointer)&op->id);
            next = idx;
        } else {
            part_sum(data + off, part.len, part.hash);
            sqlite3_reset(ins);
            sqlite3_bind_blob(ins, 1, data + off, (int)part.len, SQLITE_STATIC);
            if (sqlite3_step(ins) != SQLITE_DONE)
                res = BW_E_STATE;
            part.id = sqlite3_last_insert_rowid(s->db);
        }
        g_array_append_val(parts, part);
        off += part.len;
        if (parts->len > PARTS_MAX_COUNT)
            res = BW_E_STATE;
    }
    sqlite3_finalize(ins);
    /* The old parts not kept go (a new part never takes the row id of one
     * still listed: those rows exist while the new ones are inserted). */
    for (guint i = 0; res == BW_OK && i < old_n; i++) {
        const part_t *op = &g_array_index(old_parts, part_t, i);
        if (!g_hash_table_contains(kept, &op->id) &&
            exec_id(s, &del, "DELETE FROM snapshot_parts WHERE id=?1", op->id) != SQLITE_DONE)
            res = BW_E_STATE;
    }
    sqlite3_finalize(del);
    if (res != BW_OK)
        return res;

    gsize list_len = PARTS_HEAD + (gsize)parts->len * PARTS_ENTRY;
    guchar *list = g_malloc(list_len);
    memcpy(list, PARTS_MAGIC, 8);
    randombytes_buf(list + 8, PARTS_NONCE);
    put_u64(list + 8 + PARTS_NONCE, len);
    put_u32(list + 8 + PARTS_NONCE + 8, parts->len);
    for (guint i = 0; i < parts->len; i++) {
        const part_t *part = &g_array_index(parts, part_t, i);
        guchar *e = list + PARTS_HEAD + (gsize)i * PARTS_ENTRY;
        put_u64(e, (guint64)part->id);
        put_u32(e + 8, part->len);
        memcpy(e + 12, part->hash, PART_SUM);
    }
    g_autoptr(GBytes) list_bytes = g_bytes_new_take(list, list_len);
    res = put_blob(s, 0, list_bytes);
    if (res == BW_OK) {
        s->parts_list = g_bytes_ref(list_bytes);
        s->parts_bytes = g_bytes_ref(snapshot);
    }
    return res;
}

bw_status_t
bw_store_put_snapshot(bw_store_t *s, GBytes *data)
{
    gsize len = 0;
    const guchar *p = data ? g_bytes_get_data(data, &len) : NULL;
    if (p == NULL || len == 0) {
        forget_parts(s);
        if (exec_sql(s, "DELETE FROM snapshot_parts") != SQLITE_OK)
            return BW_E_STATE;
        return put_blob(s, 0, NULL);
    }
    return put_snapshot_parts(s, data);
}

bw_status_t
bw_store_get_snapshot(bw_store_t *s, GBytes **out, guint8 *head_out)
{
    return get_snapshot(s, out, head_out);
}

bw_status_t
bw_store_get_snapshot_head(bw_store_t *s, guint8 *out)
{
    /* The list row only (a few KiB), through the blob handle: not the
     * parts.  A blob of an older form: its first bytes, its hash. */
    g_autoptr(GBytes) row = NULL;
    if (get_blob(s, 0, &row) != BW_OK || row == NULL)
        return BW_E_STATE;
    if (list_form(row) >= 2) {
        list_head(row, out);
        return BW_OK;
    }
    gsize n = 0;
    const guchar *p = g_bytes_get_data(row, &n);
    if (n >= 8 && memcmp(p, PARTS_MAGIC_V1, 8) == 0) {
        g_autoptr(GArray) parts = NULL;
        gsize total = 0;
        if (!parse_parts_list(row, &parts, &total) || total < WHOLE_HASH)
            return BW_E_STATE;
        g_autoptr(GBytes) first = NULL;
        gsize have = 0;
        /* the head may span parts (PART_MIN is larger than any head asked) */
        for (guint i = 0; i < parts->len && have < WHOLE_HASH; i++) {
            const part_t *part = &g_array_index(parts, part_t, i);
            g_clear_pointer(&first, g_bytes_unref);
            if (read_blob_direct(s, "snapshot_parts", part->id, &first) != SQLITE_OK ||
                first == NULL || g_bytes_get_size(first) != part->len)
                return BW_E_STATE;
            gsize take = MIN(WHOLE_HASH - have, (gsize)part->len);
            memcpy(out + have, g_bytes_get_data(first, NULL), take);
            have += take;
        }
        return have == WHOLE_HASH ? BW_OK : BW_E_STATE;
    }
    if (n < WHOLE_HASH)
        return BW_E_STATE;
    memcpy(out, p, WHOLE_HASH);
    return BW_OK;
}

bw_status_t
bw_store_put_sent_answers(bw_store_t *s, GBytes *data)
{
    return put_blob(s, 1, data);
}

bw_status_t
bw_store_get_sent_answers(bw_store_t *s, GBytes **out)
{
    return get_blob(s, 1, out);
}

/* ------------------------------------------------------------ snapshot rows
 *
 * The scanner's snapshot (src/app/snapshot.c) kept as rows: each item's
 * entry in `snap_items`, keyed like its row of `items`, and the sent
 * messages the profile learnt from in row 2 of `snapshot`.  A save writes
 * only the rows it changes: an item row written drops its entry
 * (bw_store_put_item_if_changed), the scanner writes the new one after it.
 *
 * Each unit keeps the checksum of its own bytes with them: SNAP_ROW_MAGIC
 * (a form of its own per kind), the XXH64 of the bytes that follow
 * (little-endian), then those bytes (a serialised GVariant, trusted by its
 * reader because of the sum: see snapshot.c).  A unit whose sum does not
 * hold is refused; a damaged entry is also deleted (only while it still
 * holds the bytes found damaged), so that the entries no longer count as
 * many as the items: every reader then falls back as it does without a
 * snapshot, and the next save writes the missing entry again from its
 * item (bw_store_snap_entry_ids).  A sum is only ever computed over bytes
 * the scanner built, never over bytes read back. */
#define SNAP_ENTRY_MAGIC "BWSNENT2"
#define SNAP_SENT_MAGIC "BWSNSNT1"
#define SNAP_ROW_HEAD 16u
#define SNAP_ROW_SEED 0x62772d736e617034ull   /* "bw-snap4" */
#define SNAP_SENT_ROW 2

static GBytes *
snap_row(const char *magic, GBytes *data)
{
    gsize n = 0;
    const guchar *p = data ? g_bytes_get_data(data, &n) : NULL;
    if (n > (gsize)G_MAXINT - SNAP_ROW_HEAD)
        return NULL;
    guchar *row = g_malloc(SNAP_ROW_HEAD + n);
    memcpy(row, magic, 8);
    guint64 sum = GUINT64_TO_LE(bw_xxh64(p, n, SNAP_ROW_SEED));
    memcpy(row + 8, &sum, 8);
    if (n > 0)
        memcpy(row + SNAP_ROW_HEAD, p, n);
    return g_bytes_new_take(row, SNAP_ROW_HEAD + n);
}

/* The bytes of a stored unit of form `magic`, checked, copied into a
 * buffer of ours (g_malloc's alignment: the GVariant's 8 after the 16 of
 * the head), or NULL when they do not check. */
static GBytes *
snap_row_checked(const char *magic, const void *blob, gsize len)
{
    const guchar *b = blob;
    if (b == NULL || len < SNAP_ROW_HEAD || memcmp(b, magic, 8) != 0)
        return NULL;
    guint64 sum;
    memcpy(&sum, b + 8, 8);
    if (GUINT64_FROM_LE(sum) != bw_xxh64(b + SNAP_ROW_HEAD, len - SNAP_ROW_HEAD, SNAP_ROW_SEED))
        return NULL;
    g_autoptr(GBytes) whole = g_bytes_new(b, len);
    return g_bytes_new_from_bytes(whole, SNAP_ROW_HEAD, len - SNAP_ROW_HEAD);
}

static bw_status_t
drop_snap_entry(bw_store_t *s, const char *message_id)
{
    sqlite3_stmt *st = NULL;
    if (stmt_get(s, "DELETE FROM snap_items WHERE message_id=?1", &st) != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    stmt_done(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

bw_status_t
bw_store_put_snap_entry(bw_store_t *s, const char *message_id, gint64 date, bool learn,
                        GBytes *entry)
{
    if (message_id == NULL || entry == NULL)
        return BW_E_INVALID;
    g_autoptr(GBytes) row = snap_row(SNAP_ENTRY_MAGIC, entry);
    if (row == NULL)
        return BW_E_INVALID;
    sqlite3_stmt *st = NULL;
    if (stmt_get(s, "INSERT OR REPLACE INTO snap_items(message_id,date,learn,data)"
                    " VALUES(?1,?2,?3,?4)", &st) != SQLITE_OK)
        return BW_E_STATE;
    gsize n = 0;
    const void *p = g_bytes_get_data(row, &n);
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, date);
    sqlite3_bind_int(st, 3, learn ? 1 : 0);
    sqlite3_bind_blob64(st, 4, p, n, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    stmt_done(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

void
bw_store_snap_entry_free(bw_store_snap_entry_t *e)
{
    if (e == NULL)
        return;
    g_free(e->message_id);
    g_clear_pointer(&e->entry, g_bytes_unref);
    g_free(e);
}

/* By date, then Message-ID as SQLite's BINARY collation orders it (the
 * items' order: cmp_loaded_row). */
static gint
cmp_snap_entry(gconstpointer a, gconstpointer b)
{
    const bw_store_snap_entry_t *x = *(bw_store_snap_entry_t *const *)a;
    const bw_store_snap_entry_t *y = *(bw_store_snap_entry_t *const *)b;
    if (x->date != y->date)
        return x->date < y->date ? -1 : 1;
    return strcmp(x->message_id, y->message_id);
}

/* Delete the entry of `message_id` while it holds `row` (a damaged one),
 * in a transaction of its own unless one is open: best effort. */
static void
drop_damaged_entry(bw_store_t *s, const char *message_id, GBytes *row)
{
    if (s->reading) {
        if (s->drops_owed == NULL)
            s->drops_owed = g_ptr_array_new_with_free_func((GDestroyNotify)damaged_drop_free);
        if (s->drops_owed->len < 100000u) {   /* bounded: the rest wait for another run */
            damaged_drop_t *d = g_new(damaged_drop_t, 1);
            d->message_id = g_strdup(message_id);
            d->row = g_bytes_ref(row);
            g_ptr_array_add(s->drops_owed, d);
        }
        return;
    }
    bool own = !s->in_txn;
    if (own && bw_store_begin(s, NULL) != BW_OK)
        return;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "DELETE FROM snap_items"
                                       " WHERE message_id=?1 AND CAST(data AS BLOB)=?2",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        gsize n = 0;
        const void *p = g_bytes_get_data(row, &n);
        sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 2, p ? p : "", n, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (!own)
        return;
    if (rc == SQLITE_DONE)
        bw_store_commit(s, NULL);
    else
        bw_store_rollback(s);
}

bw_status_t
bw_store_load_snap_entries(bw_store_t *s, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT message_id, date, learn, data FROM snap_items"
                                  " ORDER BY date", -1, &st, NULL) != SQLITE_OK)
        return BW_E_STATE;
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func(
        (GDestroyNotify)bw_store_snap_entry_free);
    g_autofree char *bad_id = NULL;
    g_autoptr(GBytes) bad_row = NULL;
    bool ties = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const void *blob = sqlite3_column_blob(st, 3);
        gsize len = (gsize)sqlite3_column_bytes(st, 3);
        if (id == NULL)
            break;
        GBytes *entry = sqlite3_column_type(st, 1) == SQLITE_INTEGER
                      ? snap_row_checked(SNAP_ENTRY_MAGIC, blob, len) : NULL;
        if (entry == NULL) {
            bad_id = g_strdup(id);
            bad_row = g_bytes_new(blob, blob ? len : 0);
            break;
        }
        bw_store_snap_entry_t *e = g_new0(bw_store_snap_entry_t, 1);
        e->message_id = g_strdup(id);
        e->date = sqlite3_column_int64(st, 1);
        e->learn = sqlite3_column_int(st, 2) != 0;
        e->entry = entry;
        if (list->len > 0 &&
            ((bw_store_snap_entry_t *)g_ptr_array_index(list, list->len - 1))->date == e->date)
            ties = true;
        g_ptr_array_add(list, e);
    }
    sqlite3_finalize(st);
    if (bad_id != NULL) {
        drop_damaged_entry(s, bad_id, bad_row);
        return BW_E_STATE;
    }
    if (rc != SQLITE_DONE)
        return BW_E_STATE;
    if (ties)
        g_ptr_array_sort(list, cmp_snap_entry);
    *out = g_steal_pointer(&list);
    return BW_OK;
}

bw_status_t
bw_store_each_snap_entry(bw_store_t *s, bw_store_snap_entry_fn each, void *data)
{
    sqlite3_stmt *st = NULL;
    /* in the table's own order: through snap_items_date each row cost a
     * second descent of the table (~1.2 k instructions a row); the caller
     * sorts them */
    if (stmt_get(s, "SELECT message_id, date, learn, data FROM snap_items", &st) != SQLITE_OK)
        return BW_E_STATE;
    g_autofree char *bad_id = NULL;
    g_autoptr(GBytes) bad_row = NULL;
    bool stopped = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const guchar *blob = sqlite3_column_blob(st, 3);
        gsize len = (gsize)sqlite3_column_bytes(st, 3);
        if (id == NULL || sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
            stopped = true;
            break;
        }
        /* checked as snap_row_checked does, read in place */
        guint64 sum = 0;
        if (blob == NULL || len < SNAP_ROW_HEAD || memcmp(blob, SNAP_ENTRY_MAGIC, 8) != 0 ||
            (memcpy(&sum, blob + 8, 8),
             GUINT64_FROM_LE(sum) != bw_xxh64(blob + SNAP_ROW_HEAD, len - SNAP_ROW_HEAD,
                                              SNAP_ROW_SEED))) {
            bad_id = g_strdup(id);
            bad_row = g_bytes_new(blob, blob ? len : 0);
            break;
        }
        if (!each(data, id, sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2) != 0,
                  blob + SNAP_ROW_HEAD, len - SNAP_ROW_HEAD)) {
            stopped = true;
            break;
        }
    }
    stmt_done(st);
    if (bad_id != NULL) {
        drop_damaged_entry(s, bad_id, bad_row);
        return BW_E_STATE;
    }
    return stopped || rc != SQLITE_DONE ? BW_E_STATE : BW_OK;
}

bw_status_t
bw_store_load_item(bw_store_t *s, const char *message_id, bw_item_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (message_id == NULL ||
        stmt_get(s, "SELECT bin FROM items WHERE message_id=?1", &st) != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bw_item_t *item = NULL;
    if (rc == SQLITE_ROW)
        item = item_from_bin(sqlite3_column_blob(st, 0), (gsize)sqlite3_column_bytes(st, 0));
    stmt_done(st);
    if (rc != SQLITE_ROW)
        return BW_E_STATE;
    /* the binary form when it is whole and names this row, else the JSON */
    if (item != NULL && g_strcmp0(item->message_id, message_id) != 0)
        g_clear_pointer(&item, bw_item_free);
    if (item == NULL) {
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        item = item_from_row_json(s, message_id, parser);
    }
    *out = item;
    return item != NULL ? BW_OK : BW_E_STATE;
}

bw_status_t
bw_store_snap_entry_refuse(bw_store_t *s, const char *message_id)
{
    /* the row as it is now, dropped only while it still is */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT data FROM snap_items WHERE message_id=?1", -1, &st,
                           NULL) != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    g_autoptr(GBytes) row = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(st, 0);
        row = g_bytes_new(p, p ? (gsize)sqlite3_column_bytes(st, 0) : 0);
    }
    sqlite3_finalize(st);
    if (row != NULL)
        drop_damaged_entry(s, message_id, row);
    return BW_OK;
}

/* Message-IDs (owned keys) of the rows a query gives in its first column. */
static bw_status_t
id_set(bw_store_t *s, const char *sql, GHashTable **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return BW_E_STATE;
    g_autoptr(GHashTable) h = g_hash_table_new_full(bw_str_hash, g_str_equal, g_free, NULL);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (id != NULL)
            g_hash_table_add(h, g_strdup(id));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return BW_E_STATE;
    *out = g_steal_pointer(&h);
    return BW_OK;
}

bw_status_t
bw_store_snap_learning(bw_store_t *s, GHashTable **out)
{
    /* (the WHERE of snap_items_learn: SQLite reads that index alone) */
    return id_set(s, "SELECT message_id FROM snap_items WHERE learn<>0", out);
}

bw_status_t
bw_store_snap_entry_ids(bw_store_t *s, GHashTable **out)
{
    return id_set(s, "SELECT message_id FROM snap_items", out);
}

bw_status_t
bw_store_count_snap_entries(bw_store_t *s, guint64 *count)
{
    return count_rows(s, "SELECT count(*) FROM snap_items", count);
}

bw_status_t
bw_store_put_snap_sent(bw_store_t *s, GBytes *data, bool *written)
{
    if (written)
        *written = false;
    g_autoptr(GBytes) row = snap_row(SNAP_SENT_MAGIC, data);
    if (row == NULL)
        return BW_E_INVALID;
    /* not written again when the stored row is these bytes (its head and
     * length compared first: the sum of the same bytes) */
    g_autoptr(GBytes) old = NULL;
    if (get_blob(s, SNAP_SENT_ROW, &old) == BW_OK && old != NULL && g_bytes_equal(old, row))
        return BW_OK;
    if (written)
        *written = true;
    return put_blob(s, SNAP_SENT_ROW, row);
}

bw_status_t
bw_store_get_snap_sent(bw_store_t *s, GBytes **out)
{
    *out = NULL;
    g_autoptr(GBytes) row = NULL;
    if (get_blob(s, SNAP_SENT_ROW, &row) != BW_OK || row == NULL)
        return BW_E_STATE;
    gsize n = 0;
    const void *p = g_bytes_get_data(row, &n);
    *out = snap_row_checked(SNAP_SENT_MAGIC, p, n);
    return *out != NULL ? BW_OK : BW_E_STATE;
}

/* ------------------------------------------------------------ skipped */

bw_status_t
bw_store_load_skipped(bw_store_t *s, GPtrArray **out)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
        "SELECT message_id, file, cause, why, reader, date FROM skipped ORDER BY date, message_id",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)bw_skipped_free);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bw_skipped_t *k = g_new0(bw_skipped_t, 1);
        k->message_id = g_strdup((const char *)sqlite3_column_text(st, 0));
        k->file = g_strdup((const char *)sqlite3_column_text(st, 1));
        k->cause = g_strdup((const char *)sqlite3_column_text(st, 2));
        k->why = g_strdup((const char *)sqlite3_column_text(st, 3));
        k->reader = g_strdup((const char *)sqlite3_column_text(st, 4));
        k->date = sqlite3_column_int64(st, 5);
        if (k->message_id == NULL) {
            bw_skipped_free(k);
            continue;
        }
        g_ptr_array_add(list, k);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(list);
        return BW_E_STATE;
    }
    *out = list;
    return BW_OK;
}

bw_status_t
bw_store_put_skipped(bw_store_t *s, const bw_skipped_t *k)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
        "INSERT OR REPLACE INTO skipped(message_id,file,cause,why,reader,date)"
        " VALUES(?1,?2,?3,?4,?5,?6)", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, k->message_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->file ? k->file : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->cause ? k->cause : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, k->why ? k->why : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, k->reader ? k->reader : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, k->date);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

bw_status_t
bw_store_delete_skipped(bw_store_t *s, const char *message_id)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "DELETE FROM skipped WHERE message_id=?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return BW_E_STATE;
    sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BW_OK : BW_E_STATE;
}

bw_status_t
bw_store_retry_skipped(bw_store_t *s)
{
    /* No reader build is "the one that failed" any more: the next run
     * reads them all again. */
    return rc_status(exec_sql(s, "UPDATE skipped SET reader=''"));
}
