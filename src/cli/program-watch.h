/* program-watch.h: the agent notices that bouncewatch was upgraded under
 * it (program-watch.c). */
#ifndef BW_PROGRAM_WATCH_H
#define BW_PROGRAM_WATCH_H

#include <glib.h>
#include <stdbool.h>

typedef struct bw_program_watch bw_program_watch_t;

/* What this process runs: its program file, the engine module this code
 * is in, the name it was started by (when a link leads there), and the
 * arguments it was started with. */
bw_program_watch_t *bw_program_watch_new(void);
void bw_program_watch_free(bw_program_watch_t *w);

/* The path of the program file or engine module when another file has
 * replaced it, or the name it was started by when that now leads to another
 * file, and that file has not changed for a moment; else NULL. */
const char *bw_program_watch_replaced(bw_program_watch_t *w);

/* Executes the program again with the same arguments; returns only when
 * that fails, having said so on stderr. */
void bw_program_watch_exec(bw_program_watch_t *w, const char *which);

#endif
