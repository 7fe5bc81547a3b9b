/* replay-main.c: runs a fuzz target without libFuzzer, for `make check`.
 *
 *   tests/fuzz/replay-NAME [FILE-OR-DIRECTORY...]
 *
 * Linked with one target (fuzz-NAME.c) in place of libFuzzer's runtime:
 * each file is handed to LLVMFuzzerTestOneInput once, under the same
 * checks as in the fuzzer (a failed check abort()s), with a time limit per
 * input (BW_FUZZ_REPLAY_TIMEOUT seconds, default 60: generous for the
 * sanitizer build, a hang still fails).  Without arguments it replays the
 * target's kept findings and seeds: tests/fuzz/crashes/NAME/ and
 * tests/fuzz/seeds/NAME/ of the source tree (BW_SRCDIR, else the path
 * compiled in).  Exit 0 when every input went through; a finding stops
 * the program (abort, sanitizer report) after naming the input. */
#include "fuzz-common.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef BW_FUZZ_TARGET
#error "BW_FUZZ_TARGET (the target's name) must be defined"
#endif
#ifndef BW_FUZZ_SRCDIR
#define BW_FUZZ_SRCDIR "."
#endif

static char current[4096];

static void
on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "replay: time limit passed on ";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0 ||
        write(STDERR_FILENO, current, strlen(current)) < 0 ||
        write(STDERR_FILENO, "\n", 1) < 0)
        _exit(2);
    abort();
}

static unsigned
replay_file(const char *path, unsigned timeout)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "replay: %s\n", err->message);
        exit(2);
    }
    g_strlcpy(current, path, sizeof current);
    /* Announced first: when the input fails, the last line names it. */
    fprintf(stderr, "replay %s: %s (%zu bytes)\n", BW_FUZZ_TARGET, path, (size_t)len);
    alarm(timeout);
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    alarm(0);
    return 1;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every regular file of a directory (not README.md), in name order; a
 * missing directory holds nothing. */
static unsigned
replay_dir(const char *dir, unsigned timeout)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d == NULL)
        return 0;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL)
        if (name[0] != '.' && strcmp(name, "README.md") != 0)
            g_ptr_array_add(names, g_build_filename(dir, name, NULL));
    g_dir_close(d);
    g_ptr_array_sort(names, compare_names);
    unsigned n = 0;
    for (guint i = 0; i < names->len; i++)
        if (g_file_test(g_ptr_array_index(names, i), G_FILE_TEST_IS_REGULAR))
            n += replay_file(g_ptr_array_index(names, i), timeout);
    return n;
}

int
main(int argc, char **argv)
{
    const char *t = g_getenv("BW_FUZZ_REPLAY_TIMEOUT");
    unsigned timeout = t != NULL && atoi(t) > 0 ? (unsigned)atoi(t) : 60;
    signal(SIGALRM, on_alarm);
    LLVMFuzzerInitialize(&argc, &argv);
    unsigned n = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            n += g_file_test(argv[i], G_FILE_TEST_IS_DIR) ? replay_dir(argv[i], timeout)
                                                          : replay_file(argv[i], timeout);
    } else {
        const char *src = g_getenv("BW_SRCDIR");
        if (src == NULL || *src == '\0')
            src = BW_FUZZ_SRCDIR;
        g_autofree char *crashes = g_build_filename(src, "tests", "fuzz", "crashes", BW_FUZZ_TARGET, NULL);
        g_autofree char *seeds = g_build_filename(src, "tests", "fuzz", "seeds", BW_FUZZ_TARGET, NULL);
        if (!g_file_test(seeds, G_FILE_TEST_IS_DIR)) {
            fprintf(stderr, "replay: no %s (set BW_SRCDIR to the source tree)\n", seeds);
            return 2;
        }
        n += replay_dir(crashes, timeout);
        n += replay_dir(seeds, timeout);
    }
    printf("replay %s: %u inputs, no finding\n", BW_FUZZ_TARGET, n);
    return 0;
}
