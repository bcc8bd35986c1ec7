/* route.c: which FHIR interaction target a path names.
 *
 * Accepts /fhir, /fhir/metadata, /fhir/_history, /fhir/T, /fhir/T/_history,
 * /fhir/T/id, /fhir/T/id/_history, /fhir/T/id/_history/vid, with an
 * optional trailing slash, for the served types and AuditEvent (the audit
 * log). Depends on fhir/ (type and id rules). */
#include "api/apiInt.h"

#include "fhir/fhir.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SEGS 5

cr_rc
cr_api_route(struct ctx *x, struct cr_err *err)
{
    const char *path = x->req->path;
    const char *segs[MAX_SEGS];
    size_t lens[MAX_SEGS];
    int n = 0;
    const char *p;
    struct route *r = &x->route;

    if (strncmp(path, "/fhir", 5) != 0 || (path[5] != '\0' && path[5] != '/'))
        return CR_ENOTFOUND;
    p = path + 5;
    while (*p == '/') {
        const char *s = p + 1, *e = strchr(s, '/');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len == 0 && e == NULL)
            break;    /* trailing slash */
        if (n == MAX_SEGS || len == 0)
            return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                              "no such endpoint: %s", path);
        segs[n] = s;
        lens[n] = len;
        n++;
        p = s + len;
    }
    memset(r, 0, sizeof *r);
    if (n == 0) {
        r->kind = R_SYSTEM;
        return CR_OK;
    }
    if (n == 1 && lens[0] == 8 && memcmp(segs[0], "metadata", 8) == 0) {
        r->kind = R_METADATA;
        return CR_OK;
    }
    if (n == 1 && lens[0] == 8 && memcmp(segs[0], "_history", 8) == 0) {
        r->kind = R_SYSTEM_HIST;
        return CR_OK;
    }
    if (n == 1 && lens[0] > 1 && segs[0][0] == '$') {
        r->kind = R_SYSTEM_OP;
        r->op = cr_arena_strndup(x->req->arena, segs[0] + 1, lens[0] - 1);
        return r->op ? CR_OK : CR_ENOMEM;
    }
    r->type = cr_arena_strndup(x->req->arena, segs[0], lens[0]);
    if (r->type == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    if (!cr_fhir_is_resource_type(r->type))
        return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                          "'%s' is not a FHIR R4 resource type (names are "
                          "case-sensitive, e.g. Patient)", r->type);
    /* AuditEvent is not stored as a resource; it is the audit log read
     * back (auditevent.c). */
    if (!cr_fhir_is_supported_type(r->type) &&
        strcmp(r->type, "AuditEvent") != 0)
        return cr_err_set(err, CR_ENOTFOUND, "not-supported", NULL,
                          "this server does not serve %s resources; see "
                          "/fhir/metadata for the types it serves", r->type);
    if (n == 1) {
        r->kind = R_TYPE;
        return CR_OK;
    }
    if (n == 2 && lens[1] == 8 && memcmp(segs[1], "_history", 8) == 0) {
        r->kind = R_TYPE_HIST;
        return CR_OK;
    }
    if (n == 2 && lens[1] == 7 && memcmp(segs[1], "_search", 7) == 0) {
        r->kind = R_TYPE_SEARCH;
        return CR_OK;
    }
    if (n == 2 && lens[1] > 1 && segs[1][0] == '$') {
        r->kind = R_TYPE_OP;
        r->op = cr_arena_strndup(x->req->arena, segs[1] + 1, lens[1] - 1);
        return r->op ? CR_OK : CR_ENOMEM;
    }
    if (!cr_fhir_valid_id(segs[1], lens[1]))
        return cr_err_set(err, CR_EINVAL, "value", NULL,
                          "'%.*s' is not a valid resource id (1-64 of "
                          "A-Z a-z 0-9 - .)", (int)(lens[1] > 80 ? 80 :
                          lens[1]), segs[1]);
    r->id = cr_arena_strndup(x->req->arena, segs[1], lens[1]);
    if (r->id == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    if (n == 2) {
        r->kind = R_INSTANCE;
        return CR_OK;
    }
    if (n == 3 && lens[2] > 1 && segs[2][0] == '$') {
        r->kind = R_INSTANCE_OP;
        r->op = cr_arena_strndup(x->req->arena, segs[2] + 1, lens[2] - 1);
        return r->op ? CR_OK : CR_ENOMEM;
    }
    if (lens[2] != 8 || memcmp(segs[2], "_history", 8) != 0)
        return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                          "no such endpoint: %s", path);
    if (n == 3) {
        r->kind = R_INST_HIST;
        return CR_OK;
    }
    if (n == 4) {
        char buf[24], *end;
        long long v;
        if (lens[3] >= sizeof buf)
            goto bad_version;
        memcpy(buf, segs[3], lens[3]);
        buf[lens[3]] = '\0';
        v = strtoll(buf, &end, 10);
        if (*end != '\0' || v < 1 || buf[0] == '+' || buf[0] == ' ')
            goto bad_version;
        r->version = v;
        r->kind = R_VERSION;
        return CR_OK;
    }
    return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                      "no such endpoint: %s", path);
bad_version:
    return cr_err_set(err, CR_EINVAL, "value", NULL,
                      "'%.*s' is not a version id; versions are whole "
                      "numbers from 1", (int)(lens[3] > 40 ? 40 : lens[3]),
                      segs[3]);
}

void
cr_api_query_add(struct cr_buf *b, const char *name, const char *value,
                 bool *first)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s;

    if (value == NULL)
        return;
    cr_buf_addc(b, *first ? '?' : '&');
    *first = false;
    cr_buf_adds(b, name);
    cr_buf_addc(b, '=');
    for (s = (const unsigned char *)value; *s; s++) {
        if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
            (*s >= '0' && *s <= '9') || strchr("-._~:,|/", *s))
            cr_buf_addc(b, (char)*s);
        else {
            cr_buf_addc(b, '%');
            cr_buf_addc(b, hex[*s >> 4]);
            cr_buf_addc(b, hex[*s & 15]);
        }
    }
}
