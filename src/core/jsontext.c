/* jsontext.c: scanning JSON text without parsing it. Depends on core/buf.
 *
 * These routines assume text that a JSON parser has already accepted,
 * except cr_jsontext_depth, which is safe on any bytes. */
#include "core/str.h"
#include "core/jsontext.h"

#include <string.h>

/* Deepest nesting of arrays and objects in JSON text, counted without
 * parsing (so a hostile body cannot make the parser recurse). Stops
 * counting once past 'limit'. */
int
cr_jsontext_depth(const char *s, size_t len, int limit)
{
    int depth = 0, max = 0;
    bool in_str = false;
    size_t i;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max && (max = depth) > limit)
                return max;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return max;
}

/* In valid JSON text, the end of the value starting at s[i]. */
size_t
cr_jsontext_value_end(const char *s, size_t len, size_t i)
{
    int depth = 0;
    bool in_str = false;

    for (; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"') {
                in_str = false;
                if (depth == 0)
                    return i + 1;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i + 1;
            if (depth < 0)
                return i;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' ||
                                  c == '\n' || c == '\r')) {
            return i;
        }
    }
    return len;
}

void
cr_jsontext_add_minified(struct cr_buf *b, const char *s, size_t len)
{
    bool in_str = false;
    size_t i, run = 0;

    for (i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            cr_buf_add(b, s + run, i - run);
            run = i + 1;
        }
    }
    if (run < len)
        cr_buf_add(b, s + run, len - run);
}

static size_t
skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
                       s[i] == '\r'))
        i++;
    return i;
}

/* The value of the four hex digits after the 'u' at u[at] into *out;
 * false when they are not there. */
static bool
hex4(const unsigned char *u, size_t len, size_t at, unsigned *out)
{
    unsigned v = 0;
    size_t k;

    if (at + 4 >= len)
        return false;
    for (k = 1; k <= 4; k++) {
        int h = cr_str_hexval((char)u[at + k]);
        if (h < 0)
            return false;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return true;
}

/* Decode the key text (with its quotes) into out; keys longer than the
 * buffer, or with escapes for non-ASCII characters, decode to "" (they
 * can match no skip key, which are all short ASCII names). */
static void
decode_key(const char *key, size_t len, char *out, size_t size)
{
    size_t i, o = 0;

    for (i = 1; i + 1 < len; i++) {
        char c = key[i];
        if (c == '\\') {
            char e = key[++i];
            if (e == 'u') {
                unsigned v;
                if (!hex4((const unsigned char *)key, len, i, &v) ||
                    v == 0 || v > 127)
                    goto none;
                c = (char)v;
                i += 4;
            } else if (e == '"' || e == '\\' || e == '/') {
                c = e;
            } else {
                goto none;
            }
        }
        if (o + 1 >= size)
            goto none;
        out[o++] = c;
    }
    out[o] = '\0';
    return;
none:
    out[0] = '\0';
}

static bool
is_listed(const char *key, size_t len, const char *const *list)
{
    char name[64];

    decode_key(key, len, name, sizeof name);
    for (; list && *list; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

/* The members whose key is in 'list' (keep) or not in it (!keep). */
static void
add_members(struct cr_buf *b, const char *s, size_t len,
            const char *const *list, bool keep)
{
    size_t i = skip_ws(s, len, 0);

    if (i >= len || s[i] != '{')
        return;
    i++;
    for (;;) {
        size_t kstart, kend, vstart, vend;
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != '"')
            return;
        kstart = i;
        kend = cr_jsontext_value_end(s, len, i);
        i = skip_ws(s, len, kend);
        if (i >= len || s[i] != ':')
            return;
        vstart = skip_ws(s, len, i + 1);
        vend = cr_jsontext_value_end(s, len, vstart);
        if (is_listed(s + kstart, kend - kstart, list) == keep) {
            cr_buf_addc(b, ',');
            cr_buf_add(b, s + kstart, kend - kstart);
            cr_buf_addc(b, ':');
            cr_jsontext_add_minified(b, s + vstart, vend - vstart);
        }
        i = skip_ws(s, len, vend);
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        return;
    }
}

void
cr_jsontext_add_members(struct cr_buf *b, const char *s, size_t len,
                        const char *const *skip)
{
    add_members(b, s, len, skip, false);
}

void
cr_jsontext_add_only(struct cr_buf *b, const char *s, size_t len,
                     const char *const *keep)
{
    add_members(b, s, len, keep, true);
}

bool
cr_jsontext_member(const char *s, size_t len, const char *key,
                   size_t *out_start, size_t *out_end)
{
    const char *const one[] = { key, NULL };
    size_t i = skip_ws(s, len, 0);

    if (i >= len || s[i] != '{')
        return false;
    i++;
    for (;;) {
        size_t kstart, kend, vstart, vend;
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != '"')
            return false;
        kstart = i;
        kend = cr_jsontext_value_end(s, len, i);
        i = skip_ws(s, len, kend);
        if (i >= len || s[i] != ':')
            return false;
        vstart = skip_ws(s, len, i + 1);
        vend = cr_jsontext_value_end(s, len, vstart);
        if (is_listed(s + kstart, kend - kstart, one)) {
            *out_start = vstart;
            *out_end = vend;
            return true;
        }
        i = skip_ws(s, len, vend);
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        return false;
    }
}

size_t
cr_jsontext_items(const char *s, size_t len, cr_jsontext_item_fn fn,
                  void *ctx)
{
    size_t i = skip_ws(s, len, 0), n = 0;

    if (i >= len || s[i] != '[')
        return 0;
    i = skip_ws(s, len, i + 1);
    if (i < len && s[i] == ']')
        return 0;
    while (i < len) {
        size_t end = cr_jsontext_value_end(s, len, i);
        if (!fn(ctx, n++, i, end))
            break;
        i = skip_ws(s, len, end);
        if (i >= len || s[i] != ',')
            break;
        i = skip_ws(s, len, i + 1);
    }
    return n;
}

/* ---- validation --------------------------------------------------------- */

/* The end of the string whose opening quote is at s[i], or 0 when it is
 * not a valid JSON string (escapes, no raw control characters, UTF-8).
 * As jansson reads strings: no \u0000, and a \u escape of half a
 * surrogate pair only followed by its other half. */
static size_t
valid_string(const char *s, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;

    for (i++; i < len; i++) {
        unsigned char c = u[i];
        size_t more, k;
        unsigned cp, min;
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (c == '\\') {
            if (++i >= len)
                return 0;
            if (u[i] == 'u') {
                unsigned v, w;
                if (!hex4(u, len, i, &v) || v == 0 ||
                    (v >= 0xdc00 && v <= 0xdfff))
                    return 0;
                i += 4;
                if (v >= 0xd800 && v <= 0xdbff) {
                    if (i + 2 >= len || u[i + 1] != '\\' ||
                        u[i + 2] != 'u' || !hex4(u, len, i + 2, &w) ||
                        w < 0xdc00 || w > 0xdfff)
                        return 0;
                    i += 6;
                }
            } else if (strchr("\"\\/bfnrt", u[i]) == NULL || u[i] == 0) {
                return 0;
            }
            continue;
        }
        if (c < 0x80)
            continue;
        if (c >= 0xc2 && c <= 0xdf)
            more = 1, cp = c & 0x1f, min = 0x80;
        else if (c >= 0xe0 && c <= 0xef)
            more = 2, cp = c & 0x0f, min = 0x800;
        else if (c >= 0xf0 && c <= 0xf4)
            more = 3, cp = c & 0x07, min = 0x10000;
        else
            return 0;
        if (i + more >= len)
            return 0;
        for (k = 1; k <= more; k++) {
            if ((u[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (u[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += more;
    }
    return 0;
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The end of the number or literal at s[i], or 0 when there is none. */
static size_t
valid_scalar(const char *s, size_t len, size_t i)
{
    static const char *const words[] = { "true", "false", "null" };
    size_t k, start;

    for (k = 0; k < 3; k++) {
        size_t n = strlen(words[k]);
        if (len - i >= n && memcmp(s + i, words[k], n) == 0)
            return i + n;
    }
    if (i < len && s[i] == '-')
        i++;
    if (i >= len || !is_digit(s[i]))
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (i < len && is_digit(s[i]))
            i++;
    if (i < len && s[i] == '.') {
        start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return 0;
    }
    return i;
}

bool
cr_jsontext_valid(const char *s, size_t len, int max_depth)
{
    char stack[256];            /* '{' or '[' per open level */
    int depth = 0;
    size_t i = 0, end;

    if (s == NULL || max_depth < 1)
        return false;
    if (max_depth > (int)sizeof stack)
        max_depth = (int)sizeof stack;
    i = skip_ws(s, len, 0);
value:
    if (i >= len)
        return false;
    if (s[i] == '{' || s[i] == '[') {
        if (depth == max_depth)
            return false;
        stack[depth++] = s[i];
        i = skip_ws(s, len, i + 1);
        if (i < len && s[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
            depth--;
            i++;
            goto after;
        }
        if (stack[depth - 1] == '[')
            goto value;
        goto key;
    }
    end = s[i] == '"' ? valid_string(s, len, i) : valid_scalar(s, len, i);
    if (end == 0)
        return false;
    i = end;
after:
    i = skip_ws(s, len, i);
    if (depth == 0)
        return i == len;
    if (i < len && s[i] == ',') {
        i = skip_ws(s, len, i + 1);
        if (stack[depth - 1] == '[')
            goto value;
        goto key;
    }
    if (i < len && s[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
        depth--;
        i++;
        goto after;
    }
    return false;
key:
    if (i >= len || s[i] != '"' || (end = valid_string(s, len, i)) == 0)
        return false;
    i = skip_ws(s, len, end);
    if (i >= len || s[i] != ':')
        return false;
    i = skip_ws(s, len, i + 1);
    goto value;
}
