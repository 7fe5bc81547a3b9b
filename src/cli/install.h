/* install.h: how bouncewatch is hooked into notmuch and into the desktop
 * session.  `bouncewatch doctor` reads it (and says what is wrong),
 * `bouncewatch setup` installs what is missing.  Only the bw_install_write*
 * functions write, and only files of their own: a hook that exists is never
 * replaced by them. */
#ifndef BW_CLI_INSTALL_H
#define BW_CLI_INSTALL_H

#include "bw.h"
#include <gio/gio.h>

/* The running program's absolute path (g_free): what setup writes into the
 * hook and the agent's unit, so they call this very program. */
char *bw_install_self(void);

/* Whether `path` is a program that answers `--version` with "bouncewatch "
 * within a few seconds (a name is looked up in PATH; *resolved, may be
 * NULL, gets the absolute path, g_free). */
bool bw_install_program_runs(const char *program, char **resolved);

/* ------------------------------------------------------------ the hook */

typedef struct {
    char *path;              /* <hook dir>/post-new */
    bool exists;
    bool executable;         /* notmuch runs it only then */
    bool binary;             /* not a text script */
    bool shell;              /* a POSIX-like shell script (sh, bash, dash, zsh, ksh) */
    bool ends_with_exit;     /* its last command is exit or exec: a line
                                appended after it would never run */
    bool ours;               /* the hook of bouncewatch (its BOUNCEWATCH= line) */
    bool calls;              /* some line runs `bouncewatch hook post-new` */
    char *program;           /* the bouncewatch that line runs (as written), or NULL */
    char *text;              /* the script, to show it (NULL: missing or binary) */
} bw_hook_t;

/* Read <dir>/post-new (at most 256 KiB). */
void bw_hook_read(const char *dir, bw_hook_t *out);
void bw_hook_clear(bw_hook_t *h);

/* Texts setup writes for `program` (g_free): the whole post-new script, the
 * one line added to a hook of the user's, the systemd user unit and the
 * XDG autostart entry of the agent. */
char *bw_install_hook_script(const char *program);
char *bw_install_hook_line(const char *program);
char *bw_install_unit(const char *program);
char *bw_install_desktop(const char *program);

/* The hook directory notmuch uses once it exists, for a hook directory
 * `hook_dir` that notmuch named but that does not exist yet: notmuch looks
 * at $XDG_CONFIG_HOME/notmuch/<profile>/hooks first and falls back to
 * <database>/.notmuch/hooks without checking it; with a database that
 * keeps no .notmuch directory there, the XDG one is the one to create
 * (g_free). */
char *bw_install_hook_dir_to_create(const char *hook_dir, const char *database);

/* ------------------------------------------------------------ the agent */

typedef struct {
    bool bus;                /* a session bus answered */
    bool running;            /* org.bouncewatch.Agent has an owner */
    bool notify_owned;       /* org.freedesktop.Notifications has an owner */
    bool notify_activatable; /* ... or D-Bus can start one */
    char *notify_name;       /* the server's name (GetServerInformation), or NULL */
    bool systemd;            /* `systemctl --user` reaches a user manager */
    bool unit_found;         /* it knows bouncewatch.service */
    bool unit_enabled;       /* ... enabled */
    char *autostart;         /* the XDG autostart entry that starts the agent
                                in a desktop session, or NULL */
    char *autostart_user;    /* $XDG_CONFIG_HOME/autostart/bouncewatch.desktop */
    bool autostart_hidden;   /* the user's entry turns it off (Hidden=true) */
} bw_agent_state_t;

void bw_agent_state_read(bw_agent_state_t *out);
void bw_agent_state_clear(bw_agent_state_t *s);

/* Run `systemctl --user ARGS...` (at most 20 s): its exit status (-1 when
 * it could not run or took too long); *out (may be NULL) its stdout. */
int bw_install_systemctl(const char *const *args, char **out);

/* ------------------------------------------------------------ writing */

/* Create `path` holding `text` (mode `mode`), never replacing a file that
 * is there: the text goes to a temporary file that is then linked to
 * `path` (EEXIST when someone was first).  Creates the directory (0700
 * when new) first. */
bool bw_install_write_new(const char *path, const char *text, int mode, GError **err);

/* Replace the file `path` by `text`, atomically and keeping its mode, only
 * when it still holds exactly `expected` (what was shown to the user). */
bool bw_install_replace(const char *path, const char *expected, const char *text,
                        GError **err);

#endif /* BW_CLI_INSTALL_H */
