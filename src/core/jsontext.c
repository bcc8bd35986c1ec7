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
            if (e == 'u' && i + 4 < len) {
                int v = 0, k;
                for (k = 1; k <= 4; k++) {
                    int h = cr_str_hexval(key[i + (size_t)k]);
                    if (h < 0)
                        goto none;
                    v = v * 16 + h;
                }
                if (v == 0 || v > 127)
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
is_skipped(const char *key, size_t len, const char *const *skip)
{
    char name[64];

    decode_key(key, len, name, sizeof name);
    for (; skip && *skip; skip++)
        if (strcmp(name, *skip) == 0)
            return true;
    return false;
}

void
cr_jsontext_add_members(struct cr_buf *b, const char *s, size_t len,
                        const char *const *skip)
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
        if (!is_skipped(s + kstart, kend - kstart, skip)) {
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
        if (is_skipped(s + kstart, kend - kstart, one)) {
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
