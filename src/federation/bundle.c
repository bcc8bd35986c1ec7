/* bundle.c: reading a Bundle's entries from its text.
 *
 * A federated answer is assembled from Bundles other nodes sent. They are
 * copied, not parsed and serialised again, so a resource leaves this node
 * byte for byte as the node that holds it served it (numbers keep their
 * written form) and merging costs one scan of the text. The text must be
 * valid JSON first (cr_jsontext_valid): these scanners trust it.
 * Depends on core/jsontext. */
#include "federation/fedInt.h"

#include "core/jsontext.h"

#include <string.h>

static const struct cr_fed_span none = { 0, 0 };

bool
cr_fed_span_is(const char *text, struct cr_fed_span s, const char *lit)
{
    size_t n = strlen(lit);

    return s.end >= s.start && s.end - s.start == n &&
           memcmp(text + s.start, lit, n) == 0;
}

bool
cr_fed_member(const char *text, struct cr_fed_span obj, const char *key,
              struct cr_fed_span *out)
{
    size_t a, b;

    *out = none;
    if (obj.end <= obj.start ||
        !cr_jsontext_member(text + obj.start, obj.end - obj.start, key, &a,
                            &b))
        return false;
    out->start = obj.start + a;
    out->end = obj.start + b;
    return true;
}

bool
cr_fed_member_str(const char *text, struct cr_fed_span obj, const char *key,
                  struct cr_fed_span *out)
{
    struct cr_fed_span v;

    *out = none;
    if (!cr_fed_member(text, obj, key, &v) || v.end - v.start < 2 ||
        text[v.start] != '"')
        return false;
    out->start = v.start + 1;
    out->end = v.end - 1;
    return true;
}

/* The code of the first coding in tag array 'tags' whose system is
 * 'system'. */
struct tag_find {
    const char *text;
    size_t base;
    const char *system;
    struct cr_fed_span code;
};

static bool
tag_item(void *ctx, size_t index, size_t start, size_t end)
{
    struct tag_find *t = ctx;
    struct cr_fed_span item = { t->base + start, t->base + end }, sys;

    (void)index;
    if (cr_fed_member_str(t->text, item, "system", &sys) &&
        cr_fed_span_is(t->text, sys, t->system)) {
        cr_fed_member_str(t->text, item, "code", &t->code);
        return false;
    }
    return true;
}

struct cr_fed_span
cr_fed_tag_code(const char *text, struct cr_fed_span resource,
                const char *system)
{
    struct cr_fed_span meta, tags;
    struct tag_find t;

    if (!cr_fed_member(text, resource, "meta", &meta) ||
        !cr_fed_member(text, meta, "tag", &tags) ||
        text[tags.start] != '[')
        return none;
    t.text = text;
    t.base = tags.start;
    t.system = system;
    t.code = none;
    cr_jsontext_items(text + tags.start, tags.end - tags.start, tag_item, &t);
    return t.code;
}

struct walk {
    const char *text;
    size_t base;
    cr_fed_entry_fn fn;
    void *ctx;
};

static bool
entry_item(void *ctx, size_t index, size_t start, size_t end)
{
    struct walk *w = ctx;
    struct cr_fed_entry e;
    struct cr_fed_span search, meta;

    (void)index;
    memset(&e, 0, sizeof e);
    e.entry.start = w->base + start;
    e.entry.end = w->base + end;
    if (w->text[e.entry.start] != '{')
        return true;
    cr_fed_member_str(w->text, e.entry, "fullUrl", &e.full_url);
    if (cr_fed_member(w->text, e.entry, "resource", &e.resource) &&
        w->text[e.resource.start] == '{') {
        cr_fed_member_str(w->text, e.resource, "resourceType", &e.type);
        cr_fed_member_str(w->text, e.resource, "id", &e.id);
        if (cr_fed_member(w->text, e.resource, "meta", &meta))
            cr_fed_member_str(w->text, meta, "versionId", &e.version);
        e.node = cr_fed_tag_code(w->text, e.resource, CR_FED_NODE_SYSTEM);
        e.publisher = cr_fed_tag_code(w->text, e.resource,
                                      CR_FED_PUBLISHER_SYSTEM);
    } else {
        e.resource = none;
    }
    if (cr_fed_member(w->text, e.entry, "search", &search))
        cr_fed_member_str(w->text, search, "mode", &e.mode);
    return w->fn(w->ctx, w->text, &e);
}

bool
cr_fed_bundle_entries(const char *json, size_t len, cr_fed_entry_fn fn,
                      void *ctx)
{
    struct cr_fed_span all = { 0, len }, type, entries;
    struct walk w;

    if (!cr_fed_member_str(json, all, "resourceType", &type) ||
        !cr_fed_span_is(json, type, "Bundle"))
        return false;
    if (fn == NULL || !cr_fed_member(json, all, "entry", &entries) ||
        json[entries.start] != '[')
        return true;
    w.text = json;
    w.base = entries.start;
    w.fn = fn;
    w.ctx = ctx;
    cr_jsontext_items(json + entries.start, entries.end - entries.start,
                      entry_item, &w);
    return true;
}

struct link_find {
    const char *text;
    size_t base;
    const char *rel;
    struct cr_fed_span url;
    bool is_found;
};

static bool
link_item(void *ctx, size_t index, size_t start, size_t end)
{
    struct link_find *l = ctx;
    struct cr_fed_span item = { l->base + start, l->base + end }, rel;

    (void)index;
    if (l->text[item.start] == '{' &&
        cr_fed_member_str(l->text, item, "relation", &rel) &&
        cr_fed_span_is(l->text, rel, l->rel)) {
        l->is_found = cr_fed_member_str(l->text, item, "url", &l->url);
        return false;
    }
    return true;
}

bool
cr_fed_bundle_link(const char *json, size_t len, const char *rel,
                   struct cr_fed_span *out)
{
    struct cr_fed_span all = { 0, len }, links;
    struct link_find l;

    *out = none;
    if (!cr_fed_member(json, all, "link", &links) || json[links.start] != '[')
        return false;
    memset(&l, 0, sizeof l);
    l.text = json;
    l.base = links.start;
    l.rel = rel;
    cr_jsontext_items(json + links.start, links.end - links.start, link_item,
                      &l);
    if (l.is_found)
        *out = l.url;
    return l.is_found;
}
