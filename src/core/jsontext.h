/* jsontext.h: scanning JSON text without parsing it.
 *
 * Used to bound nesting before a parser sees hostile input, and to build
 * stored resources from the client's own text (so numbers keep their
 * written form). Depends on core/buf. Thread-safe (no state). */
#ifndef CR_CORE_JSONTEXT_H
#define CR_CORE_JSONTEXT_H

#include "core/buf.h"

#include <stdbool.h>
#include <stddef.h>

/* The deepest nesting of arrays and objects in 'len' bytes of 's',
 * ignoring brackets inside strings. Safe on any bytes; stops counting
 * (and returns a value over 'limit') as soon as 'limit' is passed. */
int
cr_jsontext_depth(const char *s, size_t len, int limit);

/* In valid JSON text, the offset just past the value that starts at
 * offset 'i' (a string, number, literal, object or array). */
size_t
cr_jsontext_value_end(const char *s, size_t len, size_t i);

/* Append 'len' bytes of valid JSON text with the whitespace outside
 * strings removed. */
void
cr_jsontext_add_minified(struct cr_buf *b, const char *s, size_t len);

/* For valid JSON text holding an object, append each top-level member
 * whose key is not in the NULL-terminated list 'skip', minified, each
 * preceded by a comma: ',"k":v,"k2":v2'. Keys are compared decoded, so
 * "\\u0069d" is the key id. */
void
cr_jsontext_add_members(struct cr_buf *b, const char *s, size_t len,
                        const char *const *skip);

/* As cr_jsontext_add_members, for the members whose key is in 'keep'. */
void
cr_jsontext_add_only(struct cr_buf *b, const char *s, size_t len,
                     const char *const *keep);

/* In valid JSON text holding an object, find the top-level member 'key'
 * (compared decoded) and give its value's span [*out_start, *out_end).
 * Returns false if there is no such member. */
bool
cr_jsontext_member(const char *s, size_t len, const char *key,
                   size_t *out_start, size_t *out_end);

/* In valid JSON text holding an array, call fn(ctx, index, start, end)
 * for each item's span, in order, until it returns false. Returns the
 * number of items visited. */
typedef bool (*cr_jsontext_item_fn)(void *ctx, size_t index, size_t start,
                                    size_t end);

size_t
cr_jsontext_items(const char *s, size_t len, cr_jsontext_item_fn fn,
                  void *ctx);

/* True when 'len' bytes of 's' are exactly one JSON value (RFC 8259) with
 * optional whitespace around it, nested at most 'max_depth' (1 to 256)
 * deep: strings properly escaped, without raw control characters, in valid
 * UTF-8 (no overlong forms or surrogates); numbers in JSON's grammar. As
 * strict as jansson (which reads every write) on strings: no \u0000, and
 * no \u escape of half a surrogate pair without its other half.
 * Safe on any bytes; no allocation. Used before the scanners above are
 * trusted with text that no parser of ours has read (a peer's answer). */
bool
cr_jsontext_valid(const char *s, size_t len, int max_depth);

#endif
