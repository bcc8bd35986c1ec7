/* buf.h: growable output buffer with a hard size limit and a sticky error.
 *
 * Append freely; the first failure (out of memory, over the limit) sticks
 * in 'rc' and later appends do nothing, so callers check once at the end
 * (the sqlite3_str pattern). The contents are always NUL-terminated.
 * Depends on core/err.h and core/str.h. */
#ifndef CR_CORE_BUF_H
#define CR_CORE_BUF_H

#include "core/err.h"
#include "core/str.h"

#include <stddef.h>

struct cr_buf {
    char *ptr;      /* heap, owned by the buffer; NULL until first append */
    size_t len;
    size_t cap;
    size_t limit;   /* maximum len; 0 means SIZE_MAX/2 */
    cr_rc rc;       /* first error, sticky */
};

/* An empty buffer that may grow to 'limit' bytes (0: no practical limit). */
static inline struct cr_buf
cr_buf_make(size_t limit)
{
    struct cr_buf b = { NULL, 0, 0, limit, CR_OK };
    return b;
}

/* Append 'len' bytes. */
void
cr_buf_add(struct cr_buf *b, const void *data, size_t len);

/* Insert 'len' bytes before the contents: a header known only once the
 * body is built goes in front of it without a second buffer the body's
 * size. */
void
cr_buf_prepend(struct cr_buf *b, const void *data, size_t len);

/* Append a NUL-terminated string. */
void
cr_buf_adds(struct cr_buf *b, const char *s);

/* Append one byte. */
void
cr_buf_addc(struct cr_buf *b, char c);

/* Append printf-formatted text. */
void
cr_buf_addf(struct cr_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append a decimal integer (what "%lld" prints), without printf. */
void
cr_buf_add_int(struct cr_buf *b, long long v);

/* Append 'len' bytes of UTF-8 as the inside of a JSON string (no quotes):
 * quotes, backslashes and control characters escaped. */
void
cr_buf_add_json_esc(struct cr_buf *b, const char *s, size_t len);

/* Append a JSON string literal (with quotes) of a NUL-terminated string. */
void
cr_buf_add_json_str(struct cr_buf *b, const char *s);

/* Append a NUL-terminated string percent-encoded for a URL query
 * component: letters, digits and - . _ ~ : | , $ * / as they are, every
 * other byte as %XX (upper-case hex), so a value read back from the query
 * is the same string. */
void
cr_buf_add_url_encoded(struct cr_buf *b, const char *s);

/* Make room for 'extra' more bytes; sets rc on failure. */
void
cr_buf_reserve(struct cr_buf *b, size_t extra);

/* Forget the contents but keep the memory and the limit; clears rc. */
void
cr_buf_reset(struct cr_buf *b);

/* Give the heap memory to the caller (free() it) and reset 'b' to empty.
 * Returns an empty heap string if nothing was appended, NULL (and frees
 * the memory) if rc != CR_OK. */
char *
cr_buf_take(struct cr_buf *b, size_t *out_len);

/* Free the memory. The buffer may be reused after. */
void
cr_buf_free(struct cr_buf *b);

/* The contents as a cr_str (borrowed; valid until the next append). */
static inline struct cr_str
cr_buf_str(const struct cr_buf *b)
{
    struct cr_str s = { b->ptr ? b->ptr : "", b->len };
    return s;
}

#endif
