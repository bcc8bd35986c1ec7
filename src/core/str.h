/* str.h: borrowed, length-counted strings (not NUL-terminated).
 *
 * struct cr_str points into memory someone else owns; it is a value type
 * that lives on the stack. Depends on libc only. */
#ifndef CR_CORE_STR_H
#define CR_CORE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct cr_str {
    const char *ptr;
    size_t len;
};

#define CR_STR_LIT(s) ((struct cr_str){ (s), sizeof(s) - 1 })

/* A cr_str over a NUL-terminated string; NULL gives the empty string. */
static inline struct cr_str
cr_str_c(const char *s)
{
    return (struct cr_str){ s ? s : "", s ? strlen(s) : 0 };
}

/* True when 'a' holds exactly the bytes of the C string 'b'. */
static inline bool
cr_str_eq_c(struct cr_str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

/* True when 'a' and 'b' hold the same bytes. */
static inline bool
cr_str_eq(struct cr_str a, struct cr_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* True when 'a' starts with the C string 'prefix'. */
static inline bool
cr_str_starts_c(struct cr_str a, const char *prefix)
{
    size_t n = strlen(prefix);
    return a.len >= n && memcmp(a.ptr, prefix, n) == 0;
}

/* Split 'in' at the first 'sep': '*head' gets what precedes it, the return
 * value what follows. Without 'sep', '*head' is all of 'in' and the rest is
 * empty with a NULL ptr, so callers can tell "a|" from "a". */
static inline struct cr_str
cr_str_cut(struct cr_str in, char sep, struct cr_str *head)
{
    const char *p = in.len ? memchr(in.ptr, sep, in.len) : NULL;
    if (p == NULL) {
        *head = in;
        return (struct cr_str){ NULL, 0 };
    }
    head->ptr = in.ptr;
    head->len = (size_t)(p - in.ptr);
    return (struct cr_str){ p + 1, in.len - head->len - 1 };
}

/* The value of one hex digit, or -1 if 'c' is not one. */
static inline int
cr_str_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode the NUL-terminated 's' in place, as a query string's
 * names and values reach handlers: "%XX" becomes its byte, except "%00"
 * (a value never holds a NUL), and a malformed escape stays as it is.
 * Returns the new length. */
static inline size_t
cr_str_unescape(char *s)
{
    char *r = s, *w = s;

    while (*r) {
        int hi, lo;
        if (*r == '%' && (hi = cr_str_hexval(r[1])) >= 0 &&
            (lo = cr_str_hexval(r[2])) >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

#endif
