/* prepare.c: turning a request body into the bytes we store.
 *
 * A write is parsed once (jansson) to check it against FHIR R4 and to pull
 * out what the store indexes. The stored bytes, however, are the client's
 * own text minus insignificant whitespace, with the server-managed "id" and
 * "meta" spliced in at the front: numbers keep their exact written form
 * (FHIR decimals carry precision: 1.50 is not 1.5), and a read can serve
 * the bytes without parsing them again. Depends on fhir/, store/, core/,
 * jansson and OpenSSL (random ids). */
#include "api/apiInt.h"

#include "core/clock.h"
#include "core/jsontext.h"
#include "fhir/fhir.h"
#include "fhir/search.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
cr_api_new_id(char out[37])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    uint64_t ms = (uint64_t)cr_clock_now_ms();
    int i, j = 0;

    if (RAND_bytes(b, sizeof b) != 1) {
        /* Never hand out a predictable id silently: fall back to the
         * clock and the address of the stack, mixed. */
        uint64_t x = ms ^ (uint64_t)(uintptr_t)&b ^ (uint64_t)cr_clock_mono_us();
        for (i = 0; i < 16; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            b[i] = (unsigned char)(x >> 56);
        }
    }
    /* UUID version 7: 48-bit millisecond time first, so ids created close
     * together sort together and inserts stay local in the index. */
    for (i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[j++] = '-';
        out[j++] = hex[b[i] >> 4];
        out[j++] = hex[b[i] & 15];
    }
    out[j] = '\0';
}

struct collect;
static int collect_row(void *ctx, const struct cr_fhir_index_row *row);

struct collect {
    struct prepared *p;
    struct cr_arena *a;
    size_t cap;
    bool is_oom;
};

static const char *
keep(struct collect *c, const char *s)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = cr_arena_strndup(c->a, s, strlen(s));
    if (d == NULL)
        c->is_oom = true;
    return d;
}

/* Each patient whose compartment the resource is in becomes an index row
 * of the pseudo-parameter "_compartment" (how $everything finds it). */
static void
compartment_row(void *ctx, const char *id, size_t len)
{
    struct collect *c = ctx;
    struct cr_fhir_index_row row;
    char buf[65];

    if (len >= sizeof buf)
        return;
    memcpy(buf, id, len);
    buf[len] = '\0';
    memset(&row, 0, sizeof row);
    row.kind = CR_SP_REFERENCE;
    row.param = CR_STORE_COMPARTMENT_PARAM;
    row.ref_type = "Patient";
    row.ref_id = buf;
    collect_row(c, &row);
}

/* Copy one index row (its strings are valid only during the call). */
static int
collect_row(void *ctx, const struct cr_fhir_index_row *row)
{
    struct collect *c = ctx;
    struct prepared *p = c->p;
    struct cr_fhir_index_row *r;

    if (p->nrows == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct cr_fhir_index_row *n = cr_arena_alloc(c->a, cap * sizeof *n);
        if (n == NULL) {
            c->is_oom = true;
            return 1;
        }
        if (p->nrows)
            memcpy(n, p->rows, p->nrows * sizeof *n);
        p->rows = n;
        c->cap = cap;
    }
    r = &p->rows[p->nrows++];
    *r = *row;
    r->param = keep(c, row->param);
    r->system = keep(c, row->system);
    r->code = keep(c, row->code);
    r->text = keep(c, row->text);
    r->raw = keep(c, row->raw);
    r->ref_type = keep(c, row->ref_type);
    r->ref_id = keep(c, row->ref_id);
    return c->is_oom;
}

cr_rc
cr_api_parse_resource(struct ctx *x, const char *type, const char *url_id,
                      struct prepared *p, struct cr_err *err)
{
    return cr_api_parse_text(x, type, url_id, x->req->body, x->req->body_len,
                             p, err);
}

cr_rc
cr_api_parse_text(struct ctx *x, const char *type, const char *url_id,
                  const char *text, size_t text_len, struct prepared *p,
                  struct cr_err *err)
{
    return cr_api_prepare(x->api, x->req->arena, type, url_id, text,
                          text_len, p, err);
}

cr_rc
cr_api_prepare(struct cr_api *api, struct cr_arena *arena, const char *type,
               const char *url_id, const char *text, size_t text_len,
               struct prepared *p, struct cr_err *err)
{
    int limit = api->cfg.max_json_depth;
    json_error_t jerr;
    json_t *rt, *id;
    const char *rts;

    memset(p, 0, sizeof *p);
    p->json = cr_buf_make(0);
    if (text_len == 0)
        return cr_err_set(err, CR_EINVAL, "required", NULL,
                          "the request has no body: send a %s resource as "
                          "FHIR JSON", type ? type : "FHIR");
    if (cr_jsontext_depth(text, text_len, limit) > limit)
        return cr_err_set(err, CR_EINVAL, "structure", NULL,
                          "the JSON nests deeper than %d levels, the limit "
                          "for a resource", limit);
    p->root = json_loadb(text, text_len, JSON_REJECT_DUPLICATES, &jerr);
    if (p->root == NULL)
        return cr_err_set(err, CR_EINVAL, "structure", NULL,
                          "the body is not valid JSON: %s (line %d, column "
                          "%d)", jerr.text, jerr.line, jerr.column);
    if (!json_is_object(p->root))
        return cr_err_set(err, CR_EINVAL, "structure", NULL,
                          "the body must be a JSON object (a FHIR resource)");
    rt = json_object_get(p->root, "resourceType");
    if (!json_is_string(rt))
        return cr_err_set(err, CR_EINVAL, "required", "resourceType",
                          "the resource has no resourceType%s%s%s",
                          type ? ": expected \"" : "", type ? type : "",
                          type ? "\"" : "");
    rts = json_string_value(rt);
    if (type == NULL) {
        if (!cr_fhir_is_supported_type(rts))
            return cr_err_set(err, CR_EUNSUPPORTED, "not-supported",
                              "resourceType", "this server does not serve "
                              "%.64s resources", rts);
        type = rts;
    } else if (strcmp(rts, type) != 0)
        return cr_err_set(err, CR_EINVAL, "invalid", "resourceType",
                          "resourceType '%.64s' does not match the %s in "
                          "the URL", rts, type);
    id = json_object_get(p->root, "id");
    if (url_id) {
        if (id == NULL)
            return cr_err_set(err, CR_EINVAL, "required", "id",
                              "an update must carry the resource's id: add "
                              "\"id\": \"%s\"", url_id);
        if (!json_is_string(id) || strcmp(json_string_value(id), url_id) != 0)
            return cr_err_set(err, CR_EINVAL, "invalid",
                              "id", "the id in the body does not match the "
                              "id in the URL (%s)", url_id);
    }
    if (cr_fhir_validate(p->root, err) != CR_OK) {
        if (err->rc == CR_EUNSUPPORTED)
            err->http_status = 400;
        return err->rc;
    }
    p->type = type;
    p->text = text;
    p->text_len = text_len;
    p->has_patient = cr_fhir_compartment_patient(
                         p->root, p->patient, sizeof p->patient) == CR_OK;
    {
        struct collect c = { p, arena, 0, false };
        cr_rc rc = cr_fhir_index(p->root, collect_row, &c, err);
        if (rc != CR_OK)
            return rc;
        cr_fhir_compartment_patients(p->root, compartment_row, &c);
        if (c.is_oom)
            return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                              "out of memory indexing the resource");
    }
    return CR_OK;
}

/* Members the server writes itself, first. */
static const char *const skip_keys[] = { "resourceType", "id", "meta",
                                         NULL };

cr_rc
cr_api_finish_resource(struct prepared *p, const char *id, int64_t version,
                       int64_t ms, struct cr_err *err)
{
    json_t *meta = json_object();
    json_t *old = json_object_get(p->root, "meta");
    const char *key;
    json_t *val;
    char when[32], vid[24];
    char *meta_text = NULL;

    if (meta == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    cr_clock_instant(ms, when, sizeof when);
    snprintf(vid, sizeof vid, "%lld", (long long)version);
    json_object_set_new(meta, "versionId", json_string(vid));
    json_object_set_new(meta, "lastUpdated", json_string(when));
    json_object_foreach(old, key, val) {
        if (strcmp(key, "versionId") != 0 && strcmp(key, "lastUpdated") != 0)
            json_object_set(meta, key, val);
    }
    meta_text = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    if (meta_text == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    if (strcmp(p->type, "Patient") == 0) {
        snprintf(p->patient, sizeof p->patient, "%s", id);
        p->has_patient = true;
    }
    snprintf(p->id, sizeof p->id, "%s", id);
    cr_buf_reset(&p->json);
    cr_buf_adds(&p->json, "{\"resourceType\":\"");
    cr_buf_adds(&p->json, p->type);
    cr_buf_adds(&p->json, "\",\"id\":\"");
    cr_buf_adds(&p->json, id);
    cr_buf_adds(&p->json, "\",\"meta\":");
    cr_buf_adds(&p->json, meta_text);
    free(meta_text);
    cr_jsontext_add_members(&p->json, p->text, p->text_len, skip_keys);
    cr_buf_addc(&p->json, '}');
    if (p->json.rc != CR_OK)
        return cr_err_set(err, p->json.rc, "too-costly", NULL,
                          "the resource is too large to store");
    return CR_OK;
}

void
cr_api_prepared_free(struct prepared *p)
{
    json_decref(p->root);
    p->root = NULL;
    cr_buf_free(&p->json);
}
