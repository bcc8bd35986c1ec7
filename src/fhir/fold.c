/* fold.c: folding text for case- and accent-insensitive string search
 * (cr_fhir_fold). The index and the query fold with the same function, so
 * "Zoë", "ZOE" and "zoe" meet. Depends on libc only.
 *
 * Only Latin letters are folded: lower-casing other scripts correctly
 * needs Unicode tables we do not carry, and FHIR's string search is a
 * starts-with match on what a person types, which for UK data is nearly
 * always Latin. */
#include "fhir/search.h"

#include <string.h>

/* The ASCII folding of U+00C0..U+017F, indexed by code point - 0xC0. NULL
 * means "not a letter we fold" (×, ÷): copied unchanged. */
static const char *const latin[0x180 - 0xC0] = {
    /* U+00C0 À Á Â Ã Ä Å Æ Ç È É Ê Ë Ì Í Î Ï */
    "a", "a", "a", "a", "a", "a", "ae", "c",
    "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00D0 Ð Ñ Ò Ó Ô Õ Ö × Ø Ù Ú Û Ü Ý Þ ß */
    "d", "n", "o", "o", "o", "o", "o", NULL,
    "o", "u", "u", "u", "u", "y", "th", "ss",
    /* U+00E0 à á â ã ä å æ ç è é ê ë ì í î ï */
    "a", "a", "a", "a", "a", "a", "ae", "c",
    "e", "e", "e", "e", "i", "i", "i", "i",
    /* U+00F0 ð ñ ò ó ô õ ö ÷ ø ù ú û ü ý þ ÿ */
    "d", "n", "o", "o", "o", "o", "o", NULL,
    "o", "u", "u", "u", "u", "y", "th", "y",
    /* U+0100 Ā ā Ă ă Ą ą Ć ć Ĉ ĉ Ċ ċ Č č Ď ď */
    "a", "a", "a", "a", "a", "a", "c", "c",
    "c", "c", "c", "c", "c", "c", "d", "d",
    /* U+0110 Đ đ Ē ē Ĕ ĕ Ė ė Ę ę Ě ě Ĝ ĝ Ğ ğ */
    "d", "d", "e", "e", "e", "e", "e", "e",
    "e", "e", "e", "e", "g", "g", "g", "g",
    /* U+0120 Ġ ġ Ģ ģ Ĥ ĥ Ħ ħ Ĩ ĩ Ī ī Ĭ ĭ Į į */
    "g", "g", "g", "g", "h", "h", "h", "h",
    "i", "i", "i", "i", "i", "i", "i", "i",
    /* U+0130 İ ı Ĳ ĳ Ĵ ĵ Ķ ķ ĸ Ĺ ĺ Ļ ļ Ľ ľ Ŀ */
    "i", "i", "ij", "ij", "j", "j", "k", "k",
    "k", "l", "l", "l", "l", "l", "l", "l",
    /* U+0140 ŀ Ł ł Ń ń Ņ ņ Ň ň ŉ Ŋ ŋ Ō ō Ŏ ŏ */
    "l", "l", "l", "n", "n", "n", "n", "n",
    "n", "n", "n", "n", "o", "o", "o", "o",
    /* U+0150 Ő ő Œ œ Ŕ ŕ Ŗ ŗ Ř ř Ś ś Ŝ ŝ Ş ş */
    "o", "o", "oe", "oe", "r", "r", "r", "r",
    "r", "r", "s", "s", "s", "s", "s", "s",
    /* U+0160 Š š Ţ ţ Ť ť Ŧ ŧ Ũ ũ Ū ū Ŭ ŭ Ů ů */
    "s", "s", "t", "t", "t", "t", "t", "t",
    "u", "u", "u", "u", "u", "u", "u", "u",
    /* U+0170 Ű ű Ų ų Ŵ ŵ Ŷ ŷ Ÿ Ź ź Ż ż Ž ž ſ */
    "u", "u", "u", "u", "w", "w", "y", "y",
    "y", "z", "z", "z", "z", "z", "z", "s",
};

/* The length of the valid UTF-8 sequence at 'p' (at most 'n' bytes) and
 * its code point in '*cp'; 0 if the bytes there are not valid UTF-8. */
static size_t
utf8_decode(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = p[0], min;
    size_t len;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        c &= 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

size_t
cr_fhir_fold(const char *in, size_t len, char *out, size_t out_size)
{
    const unsigned char *p = (const unsigned char *)in;
    const unsigned char *end = p + len;
    size_t o = 0;

    if (out_size == 0)
        return 0;
    while (p < end) {
        unsigned cp = 0;
        size_t n = utf8_decode(p, (size_t)(end - p), &cp);
        const char *rep = NULL;
        size_t rep_len;

        if (n == 0) {
            /* Not UTF-8: copy the byte as it is. */
            rep = (const char *)p;
            rep_len = 1;
            n = 1;
        } else if (cp < 0x80) {
            char c = (char)(cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp);
            if (o + 1 >= out_size)
                break;
            out[o++] = c;
            p += 1;
            continue;
        } else if (cp >= 0x300 && cp <= 0x36F) {
            /* A combining accent (decomposed text): dropped. */
            p += n;
            continue;
        } else if (cp >= 0xC0 && cp < 0x180 && latin[cp - 0xC0] != NULL) {
            rep = latin[cp - 0xC0];
            rep_len = strlen(rep);
        } else {
            rep = (const char *)p;
            rep_len = n;
        }
        if (o + rep_len >= out_size)
            break;
        memcpy(out + o, rep, rep_len);
        o += rep_len;
        p += n;
    }
    out[o] = '\0';
    return o;
}
