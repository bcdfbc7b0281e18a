/*
 * jx_json: prints a jx_value as JSON text (RFC 8259) for the CLI's --json
 * output.  Printing only: jixiao reads no JSON.
 *
 * The output is always valid UTF-8 and valid JSON whatever the value holds:
 * strings are bytes in jixiao, so invalid UTF-8 is replaced, and JSON has no
 * NaN or infinity.  Maps print in their sorted key order, so the same value
 * always prints the same text.
 *
 * Memory: appends to a caller-owned jx_buf; keeps nothing.  Threads: any;
 * numbers are formatted with printf, so LC_NUMERIC must be "C" (the default
 * unless the program calls setlocale).
 */
#ifndef JX_JSON_H
#define JX_JSON_H

#include <stdbool.h>

#include "jx_buf.h"
#include "jx_value.h"

/* Appends the JSON text of v to out, without a trailing newline.
 * pretty: one member or element per line, indented by 2 spaces per level,
 * "key": value; otherwise compact, without any spaces.
 * Strings and keys: '"', '\\' and control characters are escaped (\n, \t,
 * \r, \b, \f by name, the others as \u00XX); valid UTF-8 passes through;
 * each maximal invalid UTF-8 sequence becomes U+FFFD.
 * Floats print the shortest of 15-17 significant digits that reads back
 * exactly, with ".0" added to integral ones so they stay floats to a
 * reader; NaN and infinities print as null. */
void jx_json_write(jx_buf *out, const jx_value *v, bool pretty);

#endif
