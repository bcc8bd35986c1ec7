/* buf.c: growable, limited, sticky-error byte buffer. Depends on libc. */
#include "core/buf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cr_buf_reserve(struct cr_buf *b, size_t extra)
{
    size_t limit = b->limit ? b->limit : SIZE_MAX / 2;
    size_t need, cap;
    char *p;

    if (b->rc != CR_OK)
        return;
    if (extra > limit || b->len > limit - extra) {
        b->rc = CR_ETOOBIG;
        return;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->ptr, cap);
    if (p == NULL) {
        b->rc = CR_ENOMEM;
        return;
    }
    b->ptr = p;
    b->cap = cap;
}

void
cr_buf_add(struct cr_buf *b, const void *data, size_t len)
{
    cr_buf_reserve(b, len);
    if (b->rc != CR_OK)
        return;
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
}

void
cr_buf_prepend(struct cr_buf *b, const void *data, size_t len)
{
    cr_buf_reserve(b, len);
    if (b->rc != CR_OK)
        return;
    if (len) {
        memmove(b->ptr + len, b->ptr ? b->ptr : "", b->len);
        memcpy(b->ptr, data, len);
    }
    b->len += len;
    b->ptr[b->len] = '\0';
}

void
cr_buf_adds(struct cr_buf *b, const char *s)
{
    cr_buf_add(b, s, strlen(s));
}

void
cr_buf_addc(struct cr_buf *b, char c)
{
    cr_buf_add(b, &c, 1);
}

void
cr_buf_addf(struct cr_buf *b, const char *fmt, ...)
{
    va_list ap;
    size_t room;
    int n;

    if (b->rc != CR_OK)
        return;
    /* One pass when the text fits in what is already allocated (the
     * usual case); measure and format again only when it does not. */
    room = b->cap > b->len ? b->cap - b->len : 0;
    va_start(ap, fmt);
    n = vsnprintf(room ? b->ptr + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (room)
            b->ptr[b->len] = '\0';
        b->rc = CR_EINVAL;
        return;
    }
    if ((size_t)n < room) {
        size_t limit = b->limit ? b->limit : SIZE_MAX / 2;
        if ((size_t)n > limit || b->len > limit - (size_t)n) {
            b->ptr[b->len] = '\0';
            b->rc = CR_ETOOBIG;
            return;
        }
        b->len += (size_t)n;
        return;
    }
    if (room)
        b->ptr[b->len] = '\0';
    cr_buf_reserve(b, (size_t)n);
    if (b->rc != CR_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
cr_buf_add_int(struct cr_buf *b, long long v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                 : (unsigned long long)v;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    cr_buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

void
cr_buf_add_json_esc(struct cr_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];

        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20) {
            u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
            u[4] = hex[c >> 4]; u[5] = hex[c & 15];
        } else
            continue;
        cr_buf_add(b, s + run, i - run);
        if (esc)
            cr_buf_adds(b, esc);
        else
            cr_buf_add(b, u, 6);
        run = i + 1;
    }
    cr_buf_add(b, s + run, len - run);
}

void
cr_buf_add_json_str(struct cr_buf *b, const char *s)
{
    cr_buf_addc(b, '"');
    cr_buf_add_json_esc(b, s, strlen(s));
    cr_buf_addc(b, '"');
}

void
cr_buf_add_url_encoded(struct cr_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || strchr("-._~:|,$*/", c)) {
            cr_buf_addc(b, (char)c);
        } else {
            cr_buf_addc(b, '%');
            cr_buf_addc(b, hex[c >> 4]);
            cr_buf_addc(b, hex[c & 15]);
        }
    }
}

void
cr_buf_reset(struct cr_buf *b)
{
    b->len = 0;
    b->rc = CR_OK;
    if (b->ptr)
        b->ptr[0] = '\0';
}

char *
cr_buf_take(struct cr_buf *b, size_t *out_len)
{
    char *p;

    if (b->rc != CR_OK) {
        cr_buf_free(b);
        return NULL;
    }
    if (b->ptr == NULL) {
        cr_buf_reserve(b, 0);
        if (b->rc != CR_OK)
            return NULL;
        b->ptr[0] = '\0';
    }
    p = b->ptr;
    if (out_len)
        *out_len = b->len;
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}

void
cr_buf_free(struct cr_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
    b->rc = CR_OK;
}
