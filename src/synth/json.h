/* json.h: a small streaming JSON writer over a cr_buf (internal to
 * src/synth).
 *
 * The generator writes each resource straight into the NDJSON buffer of
 * its node and type: no tree, no allocation per resource. The writer
 * inserts commas itself, so callers only say what comes next:
 *
 *     jw_obj(w); jw_kstr(w, "status", "final"); jw_key(w, "code");
 *     jw_obj(w); ... jw_end(w); jw_end(w);
 *
 * Keys must be plain ASCII without quotes or backslashes (they are
 * constants in our code); string values are escaped. Errors (out of
 * memory) stick in the cr_buf and are checked once by the sink. These are
 * static inline functions with the short prefix jw_ because they are
 * called hundreds of times per patient; they are private to src/synth.
 * Depends on core/buf.h. */
#ifndef CR_SYNTH_JSON_H
#define CR_SYNTH_JSON_H

#include "core/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct cr_synth_jw {
    struct cr_buf *b;
    uint32_t filled;   /* bit d: the container at depth d holds an element */
    uint32_t is_arr;   /* bit d: the container at depth d is an array */
    unsigned depth;
    bool after_key;    /* a key was written; the next value needs no comma */
};

/* Start writing one top-level value into 'b' (appending). */
static inline void
jw_start(struct cr_synth_jw *w, struct cr_buf *b)
{
    w->b = b;
    w->filled = 0;
    w->is_arr = 0;
    w->depth = 0;
    w->after_key = false;
}

static inline void
jw_sep(struct cr_synth_jw *w)
{
    uint32_t bit = 1u << w->depth;

    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->filled & bit)
        cr_buf_addc(w->b, ',');
    w->filled |= bit;
}

static inline void
jw_open(struct cr_synth_jw *w, char c, bool is_arr)
{
    uint32_t bit;

    jw_sep(w);
    cr_buf_addc(w->b, c);
    w->depth++;
    bit = 1u << w->depth;
    w->filled &= ~bit;
    if (is_arr)
        w->is_arr |= bit;
    else
        w->is_arr &= ~bit;
}

/* Open an object / an array as the next value. */
static inline void
jw_obj(struct cr_synth_jw *w)
{
    jw_open(w, '{', false);
}

static inline void
jw_arr(struct cr_synth_jw *w)
{
    jw_open(w, '[', true);
}

/* Close the innermost object or array. */
static inline void
jw_end(struct cr_synth_jw *w)
{
    uint32_t bit = 1u << w->depth;

    cr_buf_addc(w->b, (w->is_arr & bit) ? ']' : '}');
    w->depth--;
}

/* The next member's key. */
static inline void
jw_key(struct cr_synth_jw *w, const char *key)
{
    jw_sep(w);
    cr_buf_addc(w->b, '"');
    cr_buf_adds(w->b, key);
    cr_buf_add(w->b, "\":", 2);
    w->after_key = true;
}

/* A string value (escaped). */
static inline void
jw_str(struct cr_synth_jw *w, const char *s)
{
    jw_sep(w);
    cr_buf_addc(w->b, '"');
    cr_buf_add_json_esc(w->b, s, strlen(s));
    cr_buf_addc(w->b, '"');
}

/* A string value made of two parts, e.g. "Patient/" and an id. */
static inline void
jw_str2(struct cr_synth_jw *w, const char *a, const char *b)
{
    jw_sep(w);
    cr_buf_addc(w->b, '"');
    cr_buf_add_json_esc(w->b, a, strlen(a));
    cr_buf_add_json_esc(w->b, b, strlen(b));
    cr_buf_addc(w->b, '"');
}

/* Append the decimal digits of 'v'. */
static inline void
jw_digits(struct cr_buf *b, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    cr_buf_add(b, tmp + sizeof tmp - n, (size_t)n);
}

/* An integer value. */
static inline void
jw_int(struct cr_synth_jw *w, int64_t v)
{
    jw_sep(w);
    jw_digits(w->b, v);
}

/* A decimal value 'v' / 10^places, written with exactly 'places' decimals
 * (1..6), e.g. jw_dec(w, 485, 1) writes 48.5. */
static inline void
jw_dec(struct cr_synth_jw *w, int64_t v, int places)
{
    int64_t scale = 1, whole, frac;
    char f[6];
    int i;

    if (places < 1)
        places = 1;
    if (places > 6)
        places = 6;
    for (i = 0; i < places; i++)
        scale *= 10;
    jw_sep(w);
    if (v < 0) {
        cr_buf_addc(w->b, '-');
        v = -v;
    }
    whole = v / scale;
    frac = v % scale;
    jw_digits(w->b, whole);
    cr_buf_addc(w->b, '.');
    for (i = places - 1; i >= 0; i--) {
        f[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    cr_buf_add(w->b, f, (size_t)places);
}

/* A boolean value. */
static inline void
jw_bool(struct cr_synth_jw *w, bool v)
{
    jw_sep(w);
    if (v)
        cr_buf_add(w->b, "true", 4);
    else
        cr_buf_add(w->b, "false", 5);
}

/* A value that is already JSON text (a constant fragment). */
static inline void
jw_raw(struct cr_synth_jw *w, const char *json)
{
    jw_sep(w);
    cr_buf_adds(w->b, json);
}

/* A string value holding the base64 encoding of 'len' bytes of 'data'. */
static inline void
jw_b64(struct cr_synth_jw *w, const char *data, size_t len)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)data;
    char q[4];
    size_t i;

    jw_sep(w);
    cr_buf_addc(w->b, '"');
    for (i = 0; i + 2 < len; i += 3) {
        q[0] = a[s[i] >> 2];
        q[1] = a[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
        q[2] = a[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
        q[3] = a[s[i + 2] & 63];
        cr_buf_add(w->b, q, 4);
    }
    if (i < len) {
        q[0] = a[s[i] >> 2];
        if (i + 1 < len) {
            q[1] = a[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
            q[2] = a[(s[i + 1] & 15) << 2];
        } else {
            q[1] = a[(s[i] & 3) << 4];
            q[2] = '=';
        }
        q[3] = '=';
        cr_buf_add(w->b, q, 4);
    }
    cr_buf_addc(w->b, '"');
}

/* Key and value together. */
static inline void
jw_kstr(struct cr_synth_jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}

static inline void
jw_kint(struct cr_synth_jw *w, const char *key, int64_t v)
{
    jw_key(w, key);
    jw_int(w, v);
}

static inline void
jw_kbool(struct cr_synth_jw *w, const char *key, bool v)
{
    jw_key(w, key);
    jw_bool(w, v);
}

static inline void
jw_kraw(struct cr_synth_jw *w, const char *key, const char *json)
{
    jw_key(w, key);
    jw_raw(w, json);
}

#endif
