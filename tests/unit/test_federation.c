/* test_federation.c: federation/: tagging resources, reading Bundle text,
 * node ids, peer configuration, the locator's database, node tokens. The
 * fan-out itself runs against real nodes in
 * tests/integration/federation.test.mjs. */
#include "unit.h"

#include "core/jsontext.h"
#include "federation/federation.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* The code of the meta.tag coding of 'system' in 'res', or NULL. */
static const char *
tag(json_t *res, const char *system)
{
    json_t *tags = json_object_get(json_object_get(res, "meta"), "tag"), *t;
    size_t i;

    json_array_foreach(tags, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "system")),
                   system) == 0)
            return json_string_value(json_object_get(t, "code"));
    }
    return NULL;
}

static json_t *
tagged(const char *in, const char *org, const char *node, char **text)
{
    struct cr_buf b = cr_buf_make(0);
    json_t *j;

    cr_fed_tag(&b, in, strlen(in), org, node);
    CHECK(b.rc == CR_OK);
    if (!cr_jsontext_valid(b.ptr, b.len, 64))
        cr_unit_fail(__FILE__, __LINE__, "not JSON: %s", b.ptr);
    j = json_loads(b.ptr, JSON_REJECT_DUPLICATES, NULL);
    CHECK(j != NULL);
    *text = cr_buf_take(&b, NULL);
    return j;
}

TEST(tag_adds_publisher_and_node)
{
    const char *in =
        "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{"
        "\"versionId\":\"2\",\"tag\":[{\"system\":\"urn:x\",\"code\":\"k\"},"
        "{\"system\":\"https://carerecord.example/publisher\",\"code\":"
        "\"OLD\"}]},\"status\":\"final\",\"valueQuantity\":{\"value\":1.50}}";
    char *text;
    json_t *j = tagged(in, "H2", "sel", &text);

    CHECK_EQ_STR(tag(j, CR_FED_PUBLISHER_SYSTEM), "H2");
    CHECK_EQ_STR(tag(j, CR_FED_NODE_SYSTEM), "sel");
    CHECK_EQ_STR(tag(j, "urn:x"), "k");
    CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(j, "meta"),
                                                 "tag")), 3);
    CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "meta"),
                                                   "versionId")), "2");
    /* everything else byte for byte: numbers keep their written form */
    CHECK(strstr(text, "\"valueQuantity\":{\"value\":1.50}") != NULL);
    CHECK(strncmp(text, "{\"resourceType\":\"Observation\",\"id\":\"o1\",", 40)
          == 0);
    json_decref(j);
    free(text);
}

TEST(tag_keeps_the_holding_node_and_makes_meta)
{
    const char *in =
        "{\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"tag\":[{"
        "\"system\":\"https://carerecord.example/node\",\"code\":\"nel\"}]}}";
    char *text;
    json_t *j = tagged(in, NULL, "sel", &text);

    /* a resource passed on keeps the node that holds it */
    CHECK_EQ_STR(tag(j, CR_FED_NODE_SYSTEM), "nel");
    CHECK(tag(j, CR_FED_PUBLISHER_SYSTEM) == NULL);
    json_decref(j);
    free(text);

    j = tagged("{\"resourceType\":\"OperationOutcome\",\"issue\":[]}", NULL,
               "swl", &text);
    CHECK_EQ_STR(tag(j, CR_FED_NODE_SYSTEM), "swl");
    CHECK(strncmp(text, "{\"resourceType\":\"OperationOutcome\",\"meta\":", 42)
          == 0);
    json_decref(j);
    free(text);

    j = tagged("{\"resourceType\":\"Patient\",\"id\":\"x\"}", "G1", "nel",
               &text);
    CHECK_EQ_STR(text, "{\"resourceType\":\"Patient\",\"id\":\"x\",\"meta\":{"
                       "\"tag\":[{\"system\":\"https://carerecord.example/"
                       "publisher\",\"code\":\"G1\"},{\"system\":\"https://"
                       "carerecord.example/node\",\"code\":\"nel\"}]}}");
    json_decref(j);
    free(text);

    j = tagged("{}", "G1", "nel", &text);
    CHECK_EQ_STR(tag(j, CR_FED_NODE_SYSTEM), "nel");
    json_decref(j);
    free(text);
    j = tagged("{\"meta\":{}}", NULL, "nel", &text);
    CHECK_EQ_STR(text, "{\"meta\":{\"tag\":[{\"system\":\"https://"
                       "carerecord.example/node\",\"code\":\"nel\"}]}}");
    json_decref(j);
    free(text);
}

/* A meta that is not an object is replaced where it stands: the answer
 * never holds two "meta" members (tagged() parses with
 * JSON_REJECT_DUPLICATES). */
TEST(tag_replaces_a_meta_that_is_not_an_object)
{
    static const char *const in[] = {
        "{\"resourceType\":\"Patient\",\"id\":\"x\",\"meta\":[]}",
        "{\"resourceType\":\"Patient\",\"meta\":\"v1\",\"id\":\"y\"}",
        "{\"meta\":null}",
    };
    size_t i;

    for (i = 0; i < sizeof in / sizeof in[0]; i++) {
        char *text;
        json_t *j = tagged(in[i], "G1", "nel", &text);
        CHECK_EQ_STR(tag(j, CR_FED_NODE_SYSTEM), "nel");
        CHECK_EQ_STR(tag(j, CR_FED_PUBLISHER_SYSTEM), "G1");
        json_decref(j);
        free(text);
    }
}

struct seen {
    char what[8][96];
    int n;
};

static bool
note_entry(void *ctx, const char *text, const struct cr_fed_entry *e)
{
    struct seen *s = ctx;

    snprintf(s->what[s->n++], 96, "%.*s/%.*s v%.*s %.*s node=%.*s pub=%.*s",
             (int)(e->type.end - e->type.start), text + e->type.start,
             (int)(e->id.end - e->id.start), text + e->id.start,
             (int)(e->version.end - e->version.start), text + e->version.start,
             (int)(e->mode.end - e->mode.start), text + e->mode.start,
             (int)(e->node.end - e->node.start), text + e->node.start,
             (int)(e->publisher.end - e->publisher.start),
             text + e->publisher.start);
    return s->n < 8;
}

TEST(bundle_entries_and_links)
{
    const char *b =
        "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":["
        "{\"relation\":\"self\",\"url\":\"http://a/fhir/x\"},"
        "{\"relation\":\"next\",\"url\":\"http://a/fhir/x?_page=2\"}],"
        "\"entry\":[{\"fullUrl\":\"http://a/fhir/Patient/p\",\"resource\":{"
        "\"resourceType\":\"Patient\",\"id\":\"p\",\"meta\":{\"versionId\":"
        "\"3\",\"tag\":[{\"system\":\"https://carerecord.example/node\","
        "\"code\":\"sel\"},{\"system\":\"https://carerecord.example/"
        "publisher\",\"code\":\"H2\"}]}},\"search\":{\"mode\":\"match\"}},"
        "{\"resource\":{\"resourceType\":\"OperationOutcome\",\"issue\":[]},"
        "\"search\":{\"mode\":\"outcome\"}}]}";
    struct seen s;
    struct cr_fed_span link;

    memset(&s, 0, sizeof s);
    CHECK(cr_fed_bundle_entries(b, strlen(b), note_entry, &s));
    CHECK_EQ_INT(s.n, 2);
    CHECK_EQ_STR(s.what[0], "Patient/p v3 match node=sel pub=H2");
    CHECK_EQ_STR(s.what[1], "OperationOutcome/ v outcome node= pub=");
    CHECK(cr_fed_bundle_link(b, strlen(b), "next", &link));
    CHECK(cr_fed_span_is(b, link, "http://a/fhir/x?_page=2"));
    CHECK(!cr_fed_bundle_link(b, strlen(b), "previous", &link));
    /* not a Bundle; a Bundle without entries */
    CHECK(!cr_fed_bundle_entries("{\"resourceType\":\"Patient\"}", 26, NULL,
                                 NULL));
    memset(&s, 0, sizeof s);
    CHECK(cr_fed_bundle_entries("{\"resourceType\":\"Bundle\"}", 25,
                                note_entry, &s));
    CHECK_EQ_INT(s.n, 0);
}

TEST(node_ids)
{
    CHECK(cr_fed_id_valid("nel"));
    CHECK(cr_fed_id_valid("node-2"));
    CHECK(cr_fed_id_valid("12345678901234567890123456789012"));
    CHECK(!cr_fed_id_valid("123456789012345678901234567890123"));
    CHECK(!cr_fed_id_valid(""));
    CHECK(!cr_fed_id_valid(NULL));
    CHECK(!cr_fed_id_valid("-x"));
    CHECK(!cr_fed_id_valid("NEL"));
    CHECK(!cr_fed_id_valid("a b"));
    CHECK(!cr_fed_id_valid("a/b"));
}

/* A directory with a key pair (as a peer's) and its public key's PEM. */
static char *
peer_key(const char *name)
{
    char dir[512];
    struct cr_keys *k = NULL;
    struct cr_err err;
    char *pem = NULL;

    snprintf(dir, sizeof dir, "%s/%s", cr_unit_tmpdir(), name);
    CHECK(mkdir(dir, 0700) == 0);
    cr_err_clear(&err);
    CHECK(cr_token_keys_open(dir, &k, &err) == CR_OK);
    CHECK(cr_token_keys_public_pem(k, &pem, &err) == CR_OK);
    cr_token_keys_close(k);
    return pem;
}

struct world {
    struct cr_keys *keys;
    struct cr_store *store;
    char dir[512];
};

static void
world_open(struct world *w)
{
    struct cr_store_opts o = { "nel", 0, false };
    struct cr_err err;

    snprintf(w->dir, sizeof w->dir, "%s/nel", cr_unit_tmpdir());
    CHECK(mkdir(w->dir, 0700) == 0);
    cr_err_clear(&err);
    CHECK(cr_token_keys_open(w->dir, &w->keys, &err) == CR_OK);
    CHECK(cr_store_open(w->dir, &o, &w->store, &err) == CR_OK);
}

static void
world_close(struct world *w)
{
    cr_store_close(w->store);
    cr_token_keys_close(w->keys);
}

TEST(peer_configuration_is_checked)
{
    struct world w;
    char *pem = peer_key("sel");
    struct cr_fed_peer peers[2] = {
        { "sel", "http://127.0.0.1:9/fhir", pem },
        { "swl", "http://127.0.0.1:10/fhir", pem },
    };
    struct cr_fed_config c;
    struct cr_fed *f = NULL;
    struct cr_err err;
    static const struct {
        const char *id, *base, *key, *want;
    } bad[] = {
        { "SEL", "http://h/fhir", NULL, "not a node id" },
        { "nel", "http://h/fhir", NULL, "this node's own id" },
        { "sel", "http://h/api", NULL, "must be the peer's FHIR base" },
        { "sel", "ftp://h/fhir", NULL, "must be the peer's FHIR base" },
        { "sel", "http://h/fhir", "junk", "peer 'sel': public_key" },
    };
    size_t i;

    world_open(&w);
    memset(&c, 0, sizeof c);
    c.node_id = "nel";
    c.base_url = "http://127.0.0.1:8/fhir";
    c.data_dir = w.dir;
    c.peers = peers;
    c.npeers = 1;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cr_fed_peer p = { bad[i].id, bad[i].base,
                                 bad[i].key ? bad[i].key : pem };
        c.peers = &p;
        cr_err_clear(&err);
        CHECK_EQ_INT(cr_fed_create(&c, w.keys, w.store, &f, &err), CR_EINVAL);
        CHECK(f == NULL);
        if (strstr(err.msg, bad[i].want) == NULL)
            cr_unit_fail(__FILE__, __LINE__, "case %zu: %s", i, err.msg);
    }
    /* a peer listed twice; a locator that is not a peer; a bad node id */
    peers[1].id = "sel";
    c.peers = peers;
    c.npeers = 2;
    CHECK_EQ_INT(cr_fed_create(&c, w.keys, w.store, &f, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "listed twice") != NULL);
    c.npeers = 1;
    c.locator = CR_FED_LOCATOR_PEER;
    c.locator_peer = "ncl";
    CHECK_EQ_INT(cr_fed_create(&c, w.keys, w.store, &f, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "not one of the peers") != NULL);
    c.locator = CR_FED_LOCATOR_NONE;
    c.node_id = "local node";
    CHECK_EQ_INT(cr_fed_create(&c, w.keys, w.store, &f, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "node_id") != NULL);
    /* and a good one */
    c.node_id = "nel";
    c.locator = CR_FED_LOCATOR_PEER;
    c.locator_peer = "sel";
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_fed_create(&c, w.keys, w.store, &f, &err), CR_OK);
    CHECK_EQ_STR(cr_fed_node_id(f), "nel");
    CHECK_EQ_INT(cr_fed_npeers(f), 1);
    CHECK_EQ_STR(cr_fed_peer_base(f, "sel"), "http://127.0.0.1:9/fhir");
    CHECK(cr_fed_peer_base(f, "swl") == NULL);
    CHECK(!cr_fed_is_locator(f));
    CHECK_EQ_INT(cr_fed_deadline_ms(f), 2000);
    {
        char nodes[4][CR_FED_ID_MAX + 1];
        size_t n = 9;
        CHECK_EQ_INT(cr_fed_locate(f, "9000000009", nodes, 4, &n, &err),
                     CR_ENOTFOUND);
        CHECK_EQ_INT(n, 0);
    }
    cr_fed_destroy(f);
    world_close(&w);
    free(pem);
}

/* A node that keeps the locator and has no peers. */
static void
locator_config(struct cr_fed_config *c, const struct world *w)
{
    memset(c, 0, sizeof *c);
    c->node_id = "nel";
    c->base_url = "http://127.0.0.1:8/fhir";
    c->data_dir = w->dir;
    c->locator = CR_FED_LOCATOR_SELF;
}

TEST(locator_registers_and_locates)
{
    struct world w;
    struct cr_fed_config c;
    struct cr_fed *f = NULL;
    struct cr_err err;
    char nodes[4][CR_FED_ID_MAX + 1];
    const char *one[] = { "9000000009", "9476719931" };
    const char *bad[] = { "9000000009", "9000000001" };
    size_t n = 0;

    world_open(&w);
    locator_config(&c, &w);
    c.deadline_ms = 500;
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_fed_create(&c, w.keys, w.store, &f, &err), CR_OK);
    CHECK(cr_fed_is_locator(f));
    CHECK_EQ_INT(cr_fed_deadline_ms(f), 500);
    CHECK_EQ_INT(cr_fed_register(f, "sel", one, 2, &err), CR_OK);
    CHECK_EQ_INT(cr_fed_register(f, "sel", one, 2, &err), CR_OK);
    CHECK_EQ_INT(cr_fed_register(f, "nel", one, 1, &err), CR_OK);
    CHECK_EQ_INT(cr_fed_locate(f, "9000000009", nodes, 4, &n, &err), CR_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_STR(nodes[0], "nel");
    CHECK_EQ_STR(nodes[1], "sel");
    CHECK_EQ_INT(cr_fed_locate(f, "9476719931", nodes, 4, &n, &err), CR_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(cr_fed_locate(f, "9912003888", nodes, 4, &n, &err), CR_OK);
    CHECK_EQ_INT(n, 0);
    /* all or nothing: one bad number records none of the batch */
    CHECK_EQ_INT(cr_fed_register(f, "swl", bad, 2, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "9000000001") != NULL);
    CHECK_EQ_INT(cr_fed_register(f, "Bad Node", one, 1, &err), CR_EINVAL);
    CHECK_EQ_INT(cr_fed_locate(f, "9000000009", nodes, 4, &n, &err), CR_OK);
    CHECK_EQ_INT(n, 2);
    cr_fed_destroy(f);

    /* it is kept on disk */
    CHECK_EQ_INT(cr_fed_create(&c, w.keys, w.store, &f, &err), CR_OK);
    CHECK_EQ_INT(cr_fed_locate(f, "9476719931", nodes, 4, &n, &err), CR_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(nodes[0], "sel");
    cr_fed_destroy(f);
    world_close(&w);
}

/* A read with no peers ends at once, with nothing; and a node token names
 * the user and this node. */
static void
done_empty(void *ctx, struct cr_fed_result *res)
{
    int *calls = ctx;

    CHECK(res != NULL);
    CHECK_EQ_INT(res->n, 0);
    CHECK(!res->is_locator_down);
    cr_fed_result_free(res);
    __atomic_add_fetch(calls, 1, __ATOMIC_SEQ_CST);
}

TEST(start_without_peers_ends_at_once)
{
    struct world w;
    struct cr_fed_config c;
    struct cr_fed *f = NULL;
    struct cr_err err;
    struct cr_principal p;
    struct cr_fed_request rq;
    int calls = 0, i;

    world_open(&w);
    locator_config(&c, &w);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_fed_create(&c, w.keys, w.store, &f, &err), CR_OK);
    memset(&p, 0, sizeof p);
    snprintf(p.sub, sizeof p.sub, "u1");
    snprintf(p.name, sizeof p.name, "Dr One");
    snprintf(p.org, sizeof p.org, "G1");
    snprintf(p.role, sizeof p.role, "R8000");
    snprintf(p.purpose, sizeof p.purpose, "direct-care");
    memset(&rq, 0, sizeof rq);
    rq.user = &p;
    rq.path = "/Patient/$everything?identifier=x";
    rq.nhs = "9000000009";
    CHECK_EQ_INT(cr_fed_start(f, &rq, done_empty, &calls, &err), CR_OK);
    /* up to 20 s (it comes at once; sanitizers and a busy machine slow
     * it, and the loop ends as soon as it has come) */
    for (i = 0; i < 10000 && __atomic_load_n(&calls, __ATOMIC_SEQ_CST) == 0;
         i++)
        usleep(2000);
    CHECK_EQ_INT(calls, 1);
    /* a user who cannot be put in a token is refused up front */
    p.role[0] = '\0';
    CHECK_EQ_INT(cr_fed_start(f, &rq, done_empty, &calls, &err), CR_EINVAL);
    cr_fed_destroy(f);
    CHECK_EQ_INT(calls, 1);
    world_close(&w);
}
