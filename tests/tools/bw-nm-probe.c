/* bw-nm-probe: what bouncewatch's notmuch source answers for the two
 * questions about every message (tests/e2e/T342-nm-xapian.sh):
 *
 *   bw-nm-probe [--between CMD] count|ids
 *   bw-nm-probe [--between CMD] --second CMD2 count+ids
 *
 * Opens the database notmuch would open (NOTMUCH_CONFIG), runs CMD (a
 * shell command, its output dropped) when given, then prints the count of every message
 * (bw_nm_source_count_messages) or every Message-ID
 * (bw_nm_source_all_ids), one a line in the order given, then a line
 * "answers: xapian=X notmuch=Y" telling which way they were answered
 * (src/adapters/nm-xapian.h).  count+ids asks both, the count first, and
 * runs CMD2 between the two questions.  Exit 1 when the source failed or
 * gave the listing up. */
#include "config.h"
#include "nm-source.h"
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

static bool
run_shell(const char *cmd)
{
    int status = 0;
    char *sh[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL };
    if (!g_spawn_sync(NULL, sh, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                      &status, NULL) ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bw-nm-probe: '%s' failed\n", cmd);
        return false;
    }
    return true;
}

static void
print_id(void *data, const char *message_id, guint files)
{
    (void)data;
    (void)files;
    printf("%s\n", message_id);
}

int
main(int argc, char **argv)
{
    const char *between = NULL, *second = NULL;
    int i = 1;
    if (argc > i + 1 && strcmp(argv[i], "--between") == 0) {
        between = argv[i + 1];
        i += 2;
    }
    if (argc > i + 1 && strcmp(argv[i], "--second") == 0) {
        second = argv[i + 1];
        i += 2;
    }
    bool both = argc == i + 1 && strcmp(argv[i], "count+ids") == 0;
    if (argc != i + 1 || (second != NULL) != both ||
        (!both && strcmp(argv[i], "count") != 0 && strcmp(argv[i], "ids") != 0)) {
        fprintf(stderr, "usage: bw-nm-probe [--between CMD] count|ids\n"
                        "       bw-nm-probe [--between CMD] --second CMD2 count+ids\n");
        return 2;
    }
    bw_nm_source_t *src = NULL;
    char *detail = NULL;
    if (bw_nm_source_open(NULL, &src, &detail) != BW_OK) {
        fprintf(stderr, "bw-nm-probe: %s\n", detail ? detail : "cannot open");
        return 1;
    }
    if (between != NULL && !run_shell(between))
        return 1;
    bool ok = true;
    if (both || strcmp(argv[i], "count") == 0)
        printf("%" G_GUINT64_FORMAT "\n", bw_nm_source_count_messages(src));
    if (second != NULL && !run_shell(second))
        return 1;
    if (both || strcmp(argv[i], "ids") == 0)
        ok = bw_nm_source_all_ids(src, print_id, NULL);
    unsigned xapian = 0, notmuch = 0;
    bw_nm_source_answers(src, &xapian, &notmuch);
    printf("answers: xapian=%u notmuch=%u\n", xapian, notmuch);
    ok = ok && !bw_nm_source_failed(src, NULL);
    bw_nm_source_close(src);
    return ok ? 0 : 1;
}
