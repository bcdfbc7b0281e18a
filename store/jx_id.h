/*
 * jx_id: validation of the names users give (project ids, actor names)
 * before they become part of a ref name, a path or a commit trailer.
 * An id is data from a user: it is checked here once, at the edge, and
 * nowhere else builds a ref or a path from an unchecked string.
 */
#ifndef JX_ID_H
#define JX_ID_H

#define JX_ID_MAX 64

/* 0 if `s` is a valid id: 1..JX_ID_MAX bytes of ASCII letters, digits, '.',
 * '_' and '-', not starting with '.' or '-', without "..", not ending in
 * ".lock" or '.'.  Otherwise JX_EINVAL with a message naming `what`
 * ("project id", "actor"), the offending value (escaped) and the rule. */
int jx_id_check(const char *what, const char *s);

#endif
