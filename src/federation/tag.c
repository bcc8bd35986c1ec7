/* tag.c: the publisher and node tags on a resource of a federated answer.
 *
 * A federated answer mixes resources from several nodes, each published by
 * some organisation. Each keeps both visible in its own meta.tag: a coding
 * of CR_FED_PUBLISHER_SYSTEM (the ODS code of the organisation that
 * published it) and one of CR_FED_NODE_SYSTEM (the node that holds it).
 * The resource text is spliced, not parsed: everything but meta is copied
 * byte for byte; meta keeps its members (minified) with "tag" last.
 * Depends on core/jsontext, core/buf. */
#include "federation/fedInt.h"

#include "core/jsontext.h"

#include <string.h>

struct tags {
    struct cr_buf *out;
    const char *text;
    size_t base;
    const char *org;
    bool has_node;
    int n;
};

/* Copy one coding of the existing tag array, leaving out publisher tags
 * when a publisher is given (the store's column is what counts). */
static bool
copy_tag(void *ctx, size_t index, size_t start, size_t end)
{
    struct tags *t = ctx;
    struct cr_fed_span item = { t->base + start, t->base + end }, sys;

    (void)index;
    if (t->text[item.start] == '{' &&
        cr_fed_member_str(t->text, item, "system", &sys)) {
        if (t->org && cr_fed_span_is(t->text, sys, CR_FED_PUBLISHER_SYSTEM))
            return true;
        if (cr_fed_span_is(t->text, sys, CR_FED_NODE_SYSTEM))
            t->has_node = true;
    }
    if (t->n++)
        cr_buf_addc(t->out, ',');
    cr_jsontext_add_minified(t->out, t->text + item.start,
                             item.end - item.start);
    return true;
}

static void
add_coding(struct cr_buf *out, int *n, const char *system, const char *code)
{
    if ((*n)++)
        cr_buf_addc(out, ',');
    cr_buf_adds(out, "{\"system\":\"");
    cr_buf_adds(out, system);
    cr_buf_adds(out, "\",\"code\":");
    cr_buf_add_json_str(out, code);
    cr_buf_addc(out, '}');
}

/* The new meta object: its members but tag, then the tags. */
static void
add_meta(struct cr_buf *out, const char *text, struct cr_fed_span meta,
         const char *org, const char *node)
{
    static const char *const skip_tag[] = { "tag", NULL };
    struct cr_fed_span tags;
    struct tags t;
    size_t mark;

    cr_buf_addc(out, '{');
    if (meta.end > meta.start) {
        mark = out->len;
        cr_jsontext_add_members(out, text + meta.start, meta.end - meta.start,
                                skip_tag);
        /* add_members puts a comma before each member: drop the first */
        if (out->rc == CR_OK && out->len > mark) {
            memmove(out->ptr + mark, out->ptr + mark + 1,
                    out->len - mark - 1);
            out->len--;
            out->ptr[out->len] = '\0';
            cr_buf_addc(out, ',');
        }
    }
    cr_buf_adds(out, "\"tag\":[");
    memset(&t, 0, sizeof t);
    t.out = out;
    t.text = text;
    t.org = org && org[0] ? org : NULL;
    if (meta.end > meta.start && cr_fed_member(text, meta, "tag", &tags) &&
        text[tags.start] == '[') {
        t.base = tags.start;
        cr_jsontext_items(text + tags.start, tags.end - tags.start, copy_tag,
                          &t);
    }
    if (t.org)
        add_coding(out, &t.n, CR_FED_PUBLISHER_SYSTEM, t.org);
    if (!t.has_node && node && node[0])
        add_coding(out, &t.n, CR_FED_NODE_SYSTEM, node);
    cr_buf_adds(out, "]}");
}

void
cr_fed_tag(struct cr_buf *out, const char *json, size_t len,
           const char *org, const char *node)
{
    struct cr_fed_span all = { 0, len }, meta, after;
    size_t cut;

    if (cr_fed_member(json, all, "meta", &meta)) {
        struct cr_fed_span value = meta;
        /* a meta that is not an object (not FHIR) is replaced, not
         * joined by a second "meta" */
        if (json[meta.start] != '{')
            meta.start = meta.end = 0;
        cr_buf_add(out, json, value.start);
        add_meta(out, json, meta, org, node);
        cr_buf_add(out, json + value.end, len - value.end);
        return;
    }
    /* No meta: put one after id (or resourceType), where a server puts
     * it, so resourceType stays first. */
    if (cr_fed_member(json, all, "id", &after) ||
        cr_fed_member(json, all, "resourceType", &after))
        cut = after.end;
    else
        cut = 1;    /* just inside '{' */
    cr_buf_add(out, json, cut);
    if (cut > 1)
        cr_buf_addc(out, ',');
    cr_buf_adds(out, "\"meta\":");
    meta.start = meta.end = 0;
    add_meta(out, json, meta, org, node);
    /* what followed: ",..." after a member, or the first member */
    if (cut == 1) {
        size_t i = 1;
        while (i < len && strchr(" \t\r\n", json[i]) && json[i] != '\0')
            i++;
        if (i < len && json[i] != '}')
            cr_buf_addc(out, ',');
    }
    cr_buf_add(out, json + cut, len - cut);
}
