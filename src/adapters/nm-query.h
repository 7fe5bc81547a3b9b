/* nm-query.h: the text of notmuch queries made from values out of mail
 * (a report's recipients and its original's subject) and config (the
 * owner's addresses).  Every function returns a new string (g_free) or
 * NULL; none reads the database. */
#ifndef BW_NM_QUERY_H
#define BW_NM_QUERY_H

#include <stdbool.h>
#include <glib.h>

/* `s` between double quotes, without the characters that could end or
 * escape them ('"', '\\', control characters). */
char *bw_nm_quote_term(const char *s);

/* to:"address" (lower-cased): the owner's mail to `address`. */
char *bw_nm_sent_to_term(const char *address);

/* A subject normalised for comparison: the prefixes bw_subject_strip
 * removes, white space squeezed, ASCII case folded ("" when nothing is
 * left). */
char *bw_nm_subject_key(const char *s);

/* subject:"phrase": the words notmuch's index (Xapian 1.4's
 * TermGenerator) made of a subject, from bw_nm_subject_key's text;
 * NULL when it holds no word.  The phrase holds word characters, single
 * spaces, the infix characters TermGenerator keeps inside a word and a
 * "+"/"#" suffix only: never '"', '(' or ')', at most ~200 bytes. */
char *bw_nm_sent_subject_term(const char *want);

/* Whether `q` is one prefix:"phrase" term (what the two functions above
 * give for plain text) that can be put between parentheses beside others
 * with the same meaning. */
bool bw_nm_plain_quoted_term(const char *q);

#endif
