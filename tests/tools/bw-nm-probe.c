/* bw-nm-probe: what bouncewatch's notmuch source answers for the two
 * questions about every message (tests/e2e/T342-nm-xapian.sh):
 *
 *   bw-nm-probe [--between CMD] count|ids
 *
 * Opens the database notmuch would open (NOTMUCH_CONFIG), runs CMD (a
 * shell command, its output dropped) when given, then prints the count of every message
 * (bw_nm_source_count_messages) or every Message-ID
 * (bw_nm_source_all_ids), one a line in the order given, then a line
 * "answers: xapian=X notmuch=Y" telling which way they were answered
 * (src/adapters/nm-xapian.h).  Exit 1 when the source failed or gave the
 * listing up. */
#include "config.h"
#include "nm-source.h"
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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
    const char *between = NULL;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--between") == 0) {
        between = argv[2];
        i = 3;
    }
    if (argc != i + 1 || (strcmp(argv[i], "count") != 0 && strcmp(argv[i], "ids") != 0)) {
        fprintf(stderr, "usage: bw-nm-probe [--between CMD] count|ids\n");
        return 2;
    }
    bw_nm_source_t *src = NULL;
    char *detail = NULL;
    if (bw_nm_source_open(NULL, &src, &detail) != BW_OK) {
        fprintf(stderr, "bw-nm-probe: %s\n", detail ? detail : "cannot open");
        return 1;
    }
    if (between != NULL) {
        int status = 0;
        char *sh[] = { (char *)"/bin/sh", (char *)"-c", (char *)between, NULL };
        if (!g_spawn_sync(NULL, sh, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                          &status, NULL) ||
            !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "bw-nm-probe: '%s' failed\n", between);
            return 1;
        }
    }
    bool ok = true;
    if (strcmp(argv[i], "count") == 0)
        printf("%" G_GUINT64_FORMAT "\n", bw_nm_source_count_messages(src));
    else
        ok = bw_nm_source_all_ids(src, print_id, NULL);
    unsigned xapian = 0, notmuch = 0;
    bw_nm_source_answers(src, &xapian, &notmuch);
    printf("answers: xapian=%u notmuch=%u\n", xapian, notmuch);
    ok = ok && !bw_nm_source_failed(src, NULL);
    bw_nm_source_close(src);
    return ok ? 0 : 1;
}
