/* negotiate.c: content negotiation. We speak FHIR JSON only: Accept and
 * _format must allow it (else 406), request bodies must be JSON (else
 * 415), and Prefer: return=... picks what a write answers with.
 * Depends on http/ and core/. */
#include "api/apiInt.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* True when the media type [s, s+len) (parameters stripped) is one we
 * produce. */
static bool
media_ok(const char *s, size_t len, bool is_accept)
{
    static const char *const ok[] = {
        "application/fhir+json", "application/json", "application/json+fhir",
    };
    static const char *const ranges[] = { "*/*", "application/*" };
    size_t i;

    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (len == strlen(ok[i]) && strncasecmp(s, ok[i], len) == 0)
            return true;
    if (is_accept)
        for (i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
            if (len == strlen(ranges[i]) && strncasecmp(s, ranges[i], len) == 0)
                return true;
    return false;
}

/* True when the parameters of one Accept item say q=0 ("not acceptable",
 * RFC 9110 12.4.2). */
static bool
is_q_zero(const char *params, size_t len)
{
    size_t i = 0;

    while (i < len) {
        while (i < len && (params[i] == ';' || params[i] == ' '))
            i++;
        if (i + 2 <= len && (params[i] == 'q' || params[i] == 'Q') &&
            params[i + 1] == '=') {
            size_t k = i + 2;
            bool is_zero = true;
            while (k < len && params[k] != ';') {
                if (params[k] != '0' && params[k] != '.' && params[k] != ' ')
                    is_zero = false;
                k++;
            }
            return is_zero && k > i + 2;
        }
        while (i < len && params[i] != ';')
            i++;
    }
    return false;
}

static bool
accept_ok(const char *accept)
{
    const char *p = accept;

    if (accept == NULL || *accept == '\0')
        return true;
    while (*p) {
        size_t item = strcspn(p, ",");
        size_t type = strcspn(p, ",;");
        if (type > item)
            type = item;
        if (media_ok(p, type, true) && !is_q_zero(p + type, item - type))
            return true;
        p += item;
        if (*p == ',')
            p++;
    }
    return false;
}

struct format_scan {
    const char *format;
    int count;
};

static bool
find_format(void *ctx, const char *name, const char *value)
{
    struct format_scan *f = ctx;

    if (strcmp(name, "_format") == 0) {
        f->format = value;
        f->count++;
    }
    return true;
}

bool
cr_api_negotiate(struct ctx *x)
{
    struct format_scan f = { NULL, 0 };
    const char *prefer;

    cr_http_args(x->req, find_format, &f);
    if (f.format) {
        if (strcmp(f.format, "json") != 0 &&
            !media_ok(f.format, strlen(f.format), false)) {
            cr_api_outcome(x, 406, "error", "not-supported", NULL,
                           "_format '%.60s' is not supported: this server "
                           "speaks FHIR JSON only (use _format=json or "
                           "omit it)", f.format);
            return false;
        }
    } else if (!accept_ok(cr_http_header(x->req, "Accept"))) {
        cr_api_outcome(x, 406, "error", "not-supported", NULL,
                       "Accept '%.100s' does not allow FHIR JSON: this "
                       "server answers application/fhir+json only",
                       cr_http_header(x->req, "Accept"));
        return false;
    }
    x->prefer = PREFER_REPRESENTATION;
    prefer = cr_http_header(x->req, "Prefer");
    if (prefer) {
        if (strstr(prefer, "return=minimal"))
            x->prefer = PREFER_MINIMAL;
        else if (strstr(prefer, "return=OperationOutcome"))
            x->prefer = PREFER_OUTCOME;
    }
    return true;
}

bool
cr_api_check_content_type(struct ctx *x)
{
    const char *ct = cr_http_header(x->req, "Content-Type");
    const char *params;
    size_t type_len;

    if (ct == NULL) {
        cr_api_outcome(x, 415, "error", "not-supported", NULL,
                       "the request has no Content-Type: send the resource "
                       "as application/fhir+json");
        return false;
    }
    type_len = strcspn(ct, ";");
    if (!media_ok(ct, type_len, false)) {
        cr_api_outcome(x, 415, "error", "not-supported", NULL,
                       "Content-Type '%.100s' is not supported: send the "
                       "resource as application/fhir+json", ct);
        return false;
    }
    params = ct + type_len;
    if (*params == ';') {
        const char *cs = strcasestr(params, "charset=");
        if (cs) {
            cs += 8;
            if (*cs == '"')
                cs++;
            if (strncasecmp(cs, "utf-8", 5) != 0 &&
                strncasecmp(cs, "utf8", 4) != 0) {
                cr_api_outcome(x, 415, "error", "not-supported", NULL,
                               "charset in '%.100s' is not supported: FHIR "
                               "JSON is UTF-8", ct);
                return false;
            }
        }
    }
    return true;
}
