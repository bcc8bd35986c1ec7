/* similar.c: how alike two names are.
 *
 * Jaro-Winkler (Winkler 1990) for the comparison of names: it counts the
 * characters two strings share within a window, the transpositions among
 * them, and rewards a common prefix, so typing slips ("Jonhson" for
 * "Johnson") score close to 1 while different names score low. Soundex
 * (the American variant: H and W do not separate equal codes) for
 * blocking keys, so spellings that sound alike meet. Pure; no
 * allocation. Depends on nothing. */
#include "mpi/mpi.h"

#include <stdbool.h>
#include <string.h>

#define JW_MAX 64

double
cr_mpi_jaro_winkler(const char *a, const char *b)
{
    bool used_a[JW_MAX], used_b[JW_MAX];
    size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
    size_t window, i, j, k, matches = 0, trans = 0, prefix = 0;
    double jaro;

    if (la > JW_MAX)
        la = JW_MAX;
    if (lb > JW_MAX)
        lb = JW_MAX;
    if (la == 0 && lb == 0)
        return 1.0;
    if (la == 0 || lb == 0)
        return 0.0;
    /* characters match when equal and no further apart than this */
    window = (la > lb ? la : lb) / 2;
    window = window > 0 ? window - 1 : 0;
    memset(used_a, 0, sizeof used_a);
    memset(used_b, 0, sizeof used_b);
    for (i = 0; i < la; i++) {
        size_t lo = i > window ? i - window : 0;
        size_t hi = i + window + 1 < lb ? i + window + 1 : lb;
        for (j = lo; j < hi; j++) {
            if (used_b[j] || a[i] != b[j])
                continue;
            used_a[i] = used_b[j] = true;
            matches++;
            break;
        }
    }
    if (matches == 0)
        return 0.0;
    /* half the matched characters that are out of order */
    for (i = 0, k = 0; i < la; i++) {
        if (!used_a[i])
            continue;
        while (!used_b[k])
            k++;
        if (a[i] != b[k])
            trans++;
        k++;
    }
    jaro = ((double)matches / (double)la + (double)matches / (double)lb +
            ((double)matches - (double)trans / 2.0) / (double)matches) /
           3.0;
    if (jaro <= 0.7)
        return jaro;
    while (prefix < 4 && prefix < la && prefix < lb && a[prefix] == b[prefix])
        prefix++;
    return jaro + (double)prefix * 0.1 * (1.0 - jaro);
}

/* The Soundex digit of an upper-case letter; '0' for vowels, H, W, Y. */
static char
code_of(char c)
{
    static const char codes[] = "01230120022455012623010202";

    return codes[c - 'A'];
}

void
cr_mpi_soundex(const char *name, char out[5])
{
    size_t n = 0;
    char last = 0;

    out[0] = '\0';
    for (; name && *name && n < 4; name++) {
        char c = *name;
        char d;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c < 'A' || c > 'Z')
            continue;
        d = code_of(c);
        if (n == 0) {
            out[n++] = c;
            last = d;
            continue;
        }
        if (c == 'H' || c == 'W')
            continue;             /* they do not separate equal codes */
        if (d != '0' && d != last)
            out[n++] = d;
        last = d;                 /* a vowel separates equal codes */
    }
    if (n == 0)
        return;
    while (n < 4)
        out[n++] = '0';
    out[n] = '\0';
}
