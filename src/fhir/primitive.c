/* primitive.c: the FHIR R4 primitive types' lexical rules, hand-coded from
 * the regular expressions on the R4 datatypes page (hl7.org/fhir/R4/
 * datatypes.html), plus the NHS number check digit. Each check is a small
 * scanner, not a regex engine: validation runs on every write. Depends on
 * libc only. */
#include "fhir/fhirInt.h"

#include <string.h>

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* FHIR's \s: the ASCII whitespace Java regexes mean. */
static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

/* 'n' digits at s[*i], advancing; the value in *out. */
static bool
digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;

    if (len - *i < (size_t)n)
        return false;
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (!is_digit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return true;
}

static bool
lit(const char *s, size_t len, size_t *i, char c)
{
    if (*i < len && s[*i] == c) {
        (*i)++;
        return true;
    }
    return false;
}

static int
days_in_month(int y, int m)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return mdays[m - 1];
}

/* Date part: YYYY, YYYY-MM or YYYY-MM-DD (year 0001..9999, month 01..12,
 * a day that exists in that month). '*parts' gets 1, 2 or 3. */
static bool
date_part(const char *s, size_t len, size_t *i, int *parts)
{
    int y, m, d;

    if (!digits(s, len, i, 4, &y) || y == 0)
        return false;
    *parts = 1;
    if (!lit(s, len, i, '-'))
        return true;
    if (!digits(s, len, i, 2, &m) || m < 1 || m > 12)
        return false;
    *parts = 2;
    if (!lit(s, len, i, '-'))
        return true;
    if (!digits(s, len, i, 2, &d) || d < 1 || d > days_in_month(y, m))
        return false;
    *parts = 3;
    return true;
}

/* hh:mm:ss(.fraction)? with hh 00..23, mm 00..59, ss 00..60. */
static bool
time_part(const char *s, size_t len, size_t *i)
{
    int h, m, sec;
    size_t start;

    if (!digits(s, len, i, 2, &h) || h > 23 || !lit(s, len, i, ':') ||
        !digits(s, len, i, 2, &m) || m > 59 || !lit(s, len, i, ':') ||
        !digits(s, len, i, 2, &sec) || sec > 60)
        return false;
    if (lit(s, len, i, '.')) {
        start = *i;
        while (*i < len && is_digit(s[*i]))
            (*i)++;
        if (*i == start)
            return false;
    }
    return true;
}

/* Z, or +hh:mm / -hh:mm with hh:mm up to 14:00. */
static bool
zone_part(const char *s, size_t len, size_t *i)
{
    int h, m;

    if (lit(s, len, i, 'Z'))
        return true;
    if (!lit(s, len, i, '+') && !lit(s, len, i, '-'))
        return false;
    if (!digits(s, len, i, 2, &h) || !lit(s, len, i, ':') ||
        !digits(s, len, i, 2, &m) || m > 59)
        return false;
    return h < 14 || (h == 14 && m == 0);
}

static bool
check_date(const char *s, size_t len)
{
    size_t i = 0;
    int parts;

    return date_part(s, len, &i, &parts) && i == len;
}

static bool
check_datetime(const char *s, size_t len)
{
    size_t i = 0;
    int parts;

    if (!date_part(s, len, &i, &parts))
        return false;
    if (i == len)
        return true;
    /* A time needs a full date and a zone. */
    return parts == 3 && lit(s, len, &i, 'T') && time_part(s, len, &i) &&
           zone_part(s, len, &i) && i == len;
}

static bool
check_instant(const char *s, size_t len)
{
    size_t i = 0;
    int parts;

    return date_part(s, len, &i, &parts) && parts == 3 &&
           lit(s, len, &i, 'T') && time_part(s, len, &i) &&
           zone_part(s, len, &i) && i == len;
}

static bool
check_time(const char *s, size_t len)
{
    size_t i = 0;

    return time_part(s, len, &i) && i == len;
}

/* [^\s]+(\s[^\s]+)*: no leading, trailing or doubled whitespace. */
static bool
check_code(const char *s, size_t len)
{
    if (len == 0 || is_space(s[0]) || is_space(s[len - 1]))
        return false;
    for (size_t i = 1; i < len; i++) {
        if (is_space(s[i]) && is_space(s[i - 1]))
            return false;
    }
    return true;
}

/* \S*: uri, url, canonical. */
static bool
check_uri(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (is_space(s[i]))
            return false;
    }
    return true;
}

/* urn:oid:[0-2](\.(0|[1-9][0-9]*))+ */
static bool
check_oid(const char *s, size_t len)
{
    size_t i = 8;
    int arcs = 0;

    if (len < 8 || memcmp(s, "urn:oid:", 8) != 0)
        return false;
    if (i >= len || s[i] < '0' || s[i] > '2')
        return false;
    i++;
    while (i < len) {
        size_t start;
        if (s[i] != '.')
            return false;
        start = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start || (s[start] == '0' && i - start > 1))
            return false;
        arcs++;
    }
    return arcs > 0;
}

/* urn:uuid: then 8-4-4-4-12 lower-case hex digits. */
static bool
check_uuid(const char *s, size_t len)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (len != 9 + sizeof shape - 1 || memcmp(s, "urn:uuid:", 9) != 0)
        return false;
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        char c = s[9 + i];
        if (shape[i] == '-') {
            if (c != '-')
                return false;
        } else if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
            return false;
        }
    }
    return true;
}

/* Base64 (RFC 4648 alphabet), whitespace allowed between characters, a
 * multiple of four characters, '=' padding (at most two) only at the end. */
static bool
check_base64(const char *s, size_t len)
{
    size_t n = 0, pad = 0;

    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (is_space(c))
            continue;
        if (c == '=') {
            pad++;
        } else if (pad > 0) {
            return false;
        } else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                     is_digit(c) || c == '+' || c == '/')) {
            return false;
        }
        n++;
    }
    return n > 0 && n % 4 == 0 && pad <= 2;
}

/* JSON spelling of an integer: -?(0|[1-9][0-9]*) within [lo, hi]. */
static bool
check_int(const char *s, size_t len, long long lo, long long hi)
{
    size_t i = 0;
    long long v = 0;
    bool neg = false;

    if (lit(s, len, &i, '-'))
        neg = true;
    if (i >= len || (s[i] == '0' && len - i > 1) || len - i > 10)
        return false;
    for (; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (neg)
        v = -v;
    return v >= lo && v <= hi;
}

/* JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
check_decimal(const char *s, size_t len)
{
    size_t i = 0, start;

    lit(s, len, &i, '-');
    if (i >= len)
        return false;
    if (s[i] == '0') {
        i++;
    } else {
        start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    if (lit(s, len, &i, '.')) {
        start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    if (lit(s, len, &i, 'e') || lit(s, len, &i, 'E')) {
        if (!lit(s, len, &i, '+'))
            lit(s, len, &i, '-');
        start = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    return i == len;
}

/* No control characters other than tab, CR and LF. */
static bool
no_controls(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            return false;
    }
    return true;
}

bool
cr_fhir_valid_id(const char *s, size_t len)
{
    if (s == NULL || len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              is_digit(c) || c == '-' || c == '.'))
            return false;
    }
    return true;
}

bool
cr_fhir_nhs_number_valid(const char *s, size_t len)
{
    int sum = 0, check;

    if (s == NULL || len != 10)
        return false;
    for (size_t i = 0; i < 10; i++) {
        if (!is_digit(s[i]))
            return false;
    }
    for (size_t i = 0; i < 9; i++)
        sum += (s[i] - '0') * (int)(10 - i);
    check = 11 - sum % 11;
    if (check == 11)
        check = 0;
    return check != 10 && check == s[9] - '0';
}

const char *
cr_fhir_prim_check(unsigned p, const char *s, size_t len)
{
    if (len == 0)
        return "a non-empty string (FHIR JSON does not allow empty strings)";
    if (!no_controls(s, len))
        return "text without control characters other than tab, CR and LF";
    switch (p) {
    case CR_FHIR_P_STRING:
    case CR_FHIR_P_MARKDOWN:
    case CR_FHIR_P_XHTML:
        return NULL;
    case CR_FHIR_P_ID:
        return cr_fhir_valid_id(s, len)
                   ? NULL
                   : "an id: 1 to 64 letters, digits, '-' or '.'";
    case CR_FHIR_P_CODE:
        return check_code(s, len)
                   ? NULL
                   : "a code: no leading, trailing or repeated whitespace";
    case CR_FHIR_P_URI:
    case CR_FHIR_P_URL:
    case CR_FHIR_P_CANONICAL:
        return check_uri(s, len) ? NULL : "a URI without whitespace";
    case CR_FHIR_P_OID:
        return check_oid(s, len) ? NULL
                                 : "an OID URI such as urn:oid:1.2.3.4";
    case CR_FHIR_P_UUID:
        return check_uuid(s, len)
                   ? NULL
                   : "a UUID URI such as "
                     "urn:uuid:c757873d-ec9a-4326-a141-556f43239520 "
                     "(lower case)";
    case CR_FHIR_P_BASE64BINARY:
        return check_base64(s, len) ? NULL : "base64-encoded data";
    case CR_FHIR_P_DATE:
        return check_date(s, len)
                   ? NULL
                   : "a date: YYYY, YYYY-MM or YYYY-MM-DD, with a month "
                     "01-12 and a day that exists in that month";
    case CR_FHIR_P_DATETIME:
        return check_datetime(s, len)
                   ? NULL
                   : "a dateTime: YYYY, YYYY-MM, YYYY-MM-DD or "
                     "YYYY-MM-DDThh:mm:ss(.sss) with a time zone (Z or "
                     "+hh:mm), using real months, days and times";
    case CR_FHIR_P_INSTANT:
        return check_instant(s, len)
                   ? NULL
                   : "an instant: YYYY-MM-DDThh:mm:ss(.sss) with a time "
                     "zone (Z or +hh:mm), using real months, days and "
                     "times";
    case CR_FHIR_P_TIME:
        return check_time(s, len)
                   ? NULL
                   : "a time: hh:mm:ss(.sss), hours 00-23, no time zone";
    default:
        return "a value of another JSON type";
    }
}

bool
cr_fhir_valid_primitive(const char *type, const char *s, size_t len)
{
    unsigned p;

    if (type == NULL || s == NULL)
        return false;
    for (p = 0; p < CR_FHIR_NPRIM; p++) {
        if (strcmp(type, cr_fhir_prim_name(p)) == 0)
            break;
    }
    switch (p) {
    case CR_FHIR_NPRIM:
        return false;
    case CR_FHIR_P_BOOLEAN:
        return (len == 4 && memcmp(s, "true", 4) == 0) ||
               (len == 5 && memcmp(s, "false", 5) == 0);
    case CR_FHIR_P_INTEGER:
        return check_int(s, len, -2147483648LL, 2147483647LL);
    case CR_FHIR_P_POSITIVEINT:
        return check_int(s, len, 1, 2147483647LL);
    case CR_FHIR_P_UNSIGNEDINT:
        return check_int(s, len, 0, 2147483647LL);
    case CR_FHIR_P_DECIMAL:
        return check_decimal(s, len);
    default:
        return cr_fhir_prim_check(p, s, len) == NULL;
    }
}
