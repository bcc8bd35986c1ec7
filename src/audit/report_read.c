/* report_read.c: making an audit report from a store: the records from
 * the audit table, and each organisation's care setting from its
 * Organization resource, found by its ODS identifier.
 *
 * Two sources, one shape: a data directory read read-only (the command
 * line; a running node may go on writing) and an open store (the API,
 * which also narrows the read to one organisation and the period with the
 * table's indexes). A record that does not parse (a newer format, or an
 * altered one: verify tells which) is counted as unreadable and passed
 * over, so one bad record does not hide the rest; an organisation that
 * cannot be looked up is of setting "unknown". Depends on store/, core/,
 * report.c, setting.c. */
#include "audit/audit.h"

#include <string.h>

#define ODS_SYSTEM "https://fhir.nhs.uk/Id/ods-organization-code"
#define PAGE 1000

struct feed {
    struct cr_audit_report *r;
    struct cr_err *err;
};

static cr_rc
take(void *ctx, const struct cr_store_audit_entry *e)
{
    struct feed *f = ctx;
    struct cr_arena *a = cr_arena_create();
    struct cr_audit_rec rec;
    struct cr_err why;
    cr_rc rc = CR_OK;

    if (a == NULL)
        return cr_err_set(f->err, CR_ENOMEM, "exception", NULL,
                          "audit report: out of memory");
    cr_err_clear(&why);
    if (cr_audit_rec_parse(e->body, e->len, a, &rec, &why) != CR_OK)
        cr_audit_report_skip(f->r);
    else
        rc = cr_audit_report_add(f->r, e->seq, &rec, f->err);
    cr_arena_destroy(a);
    return rc;
}

/* The first known setting among the Organizations a lookup yields. */
static cr_rc
org_found(void *ctx, const char *type, const char *id,
          const struct cr_store_meta *meta, const char *json, size_t len)
{
    enum cr_audit_setting *out = ctx;

    (void)type;
    (void)id;
    (void)meta;
    *out = cr_audit_setting_of_org(json, len);
    return *out == CR_AUDIT_SETTING_UNKNOWN ? CR_OK : CR_ECONFLICT;
}

static enum cr_audit_setting
setting_in_dir(void *ctx, const char *org)
{
    enum cr_audit_setting s = CR_AUDIT_SETTING_UNKNOWN;

    cr_store_find_dir(ctx, "Organization", "identifier", ODS_SYSTEM, org,
                      org_found, &s, NULL);
    return s;
}

static enum cr_audit_setting
setting_in_store(void *ctx, const char *org)
{
    struct cr_store *s = ctx;
    enum cr_audit_setting found = CR_AUDIT_SETTING_UNKNOWN;
    char ids[4][65];
    size_t n = 0, i;
    struct cr_buf b = cr_buf_make(0);

    if (cr_store_find_token(s, "Organization", "identifier", ODS_SYSTEM, org,
                            ids, 4, &n, NULL) != CR_OK)
        return found;
    for (i = 0; i < n && i < 4 && found == CR_AUDIT_SETTING_UNKNOWN; i++) {
        cr_buf_reset(&b);
        if (cr_store_read(s, "Organization", ids[i], &b, NULL, NULL) ==
            CR_OK)
            found = cr_audit_setting_of_org(b.ptr, b.len);
    }
    cr_buf_free(&b);
    return found;
}

/* Finish 'r' (made from 'rc') with 'setting', or destroy it on failure. */
static cr_rc
done(struct cr_audit_report *r, cr_rc rc, cr_audit_setting_fn setting,
     void *ctx, struct cr_audit_report **out, struct cr_err *err)
{
    if (rc == CR_OK)
        rc = cr_audit_report_finish(r, setting, ctx, err);
    if (rc != CR_OK) {
        cr_audit_report_destroy(r);
        return rc;
    }
    *out = r;
    return CR_OK;
}

cr_rc
cr_audit_report_dir(const char *dir, const struct cr_audit_report_opts *opts,
                    struct cr_audit_report **out, struct cr_err *err)
{
    struct cr_audit_report *r = NULL;
    struct feed f;
    cr_rc rc = cr_audit_report_create(opts, &r, err);

    if (rc != CR_OK)
        return rc;
    f.r = r;
    f.err = err;
    rc = cr_store_audit_scan_dir(dir, 0, take, &f, err);
    return done(r, rc, setting_in_dir, (void *)dir, out, err);
}

cr_rc
cr_audit_report_store(struct cr_store *s,
                      const struct cr_audit_report_opts *opts,
                      struct cr_audit_report **out, struct cr_err *err)
{
    struct cr_audit_report *r = NULL;
    struct cr_store_audit_query q;
    struct feed f;
    int64_t next = 0;
    cr_rc rc = cr_audit_report_create(opts, &r, err);

    if (rc != CR_OK)
        return rc;
    f.r = r;
    f.err = err;
    memset(&q, 0, sizeof q);
    q.principal_org = r->opts.org;
    /* 0 is no bound for the query, and no record is before 1970 */
    q.since_ms = r->opts.has_since ? r->opts.since_ms : 0;
    q.until_ms = r->opts.has_until ? r->opts.until_ms : 0;
    q.limit = PAGE;
    /* Newest first, a page at a time; the report does not mind the
     * order, and appends made meanwhile (higher seqs) are not seen. */
    do {
        rc = cr_store_audit_query(s, &q, take, &f, &next, err);
        q.before_seq = next;
    } while (rc == CR_OK && next != 0);
    return done(r, rc, setting_in_store, s, out, err);
}
