/* fed.c: a node's peers, its trust in their keys, and node tokens.
 *
 * Creating the federation object checks the peer list, makes each peer's
 * public key a trusted key labelled with the peer's id (so a token it signs
 * verifies as coming from that node: access/token.h), opens the locator's
 * database when this node keeps it and starts the two threads. A node
 * token is the user's own claims plus iss = via = this node, signed with
 * this node's key and valid for CR_FED_TOKEN_TTL seconds. Depends on
 * access/token.h, core/, libcurl (global set-up), fhir/ (NHS numbers). */
#include "federation/fedInt.h"

#include "core/clock.h"
#include "fhir/fhir.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
cr_fed_id_valid(const char *s)
{
    size_t i;

    if (s == NULL || s[0] == '\0' || s[0] == '-')
        return false;
    for (i = 0; s[i]; i++) {
        if (i >= CR_FED_ID_MAX)
            return false;
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-'))
            return false;
    }
    return true;
}

/* http:// or https:// followed by something, ending in "/fhir". */
static bool
base_url_valid(const char *u)
{
    size_t n = u ? strlen(u) : 0;

    if (n < 6 || strcmp(u + n - 5, "/fhir") != 0)
        return false;
    if (strncmp(u, "http://", 7) == 0)
        return n > 7 + 5;
    if (strncmp(u, "https://", 8) == 0)
        return n > 8 + 5;
    return false;
}

static void
free_peers(struct cr_fed *f)
{
    size_t i;

    for (i = 0; i < f->npeers; i++) {
        free(f->peers[i].base_url);
        free(f->peers[i].root_url);
    }
    f->npeers = 0;
}

static cr_rc
add_peers(struct cr_fed *f, const struct cr_fed_config *cfg,
          struct cr_err *err)
{
    size_t i, j;
    cr_rc rc;

    if (cfg->npeers > CR_FED_MAX_PEERS)
        return cr_err_set(err, CR_EINVAL, "value", "peers",
                          "at most %d peers are supported", CR_FED_MAX_PEERS);
    for (i = 0; i < cfg->npeers; i++) {
        const struct cr_fed_peer *p = &cfg->peers[i];
        struct fed_peer *fp = &f->peers[i];
        size_t n;
        if (!cr_fed_id_valid(p->id))
            return cr_err_set(err, CR_EINVAL, "value", "peers",
                              "peers[%zu].id '%.40s' is not a node id (1 to "
                              "32 of a-z, 0-9, '-')", i, p->id ? p->id : "");
        if (strcmp(p->id, f->node_id) == 0)
            return cr_err_set(err, CR_EINVAL, "value", "peers",
                              "peers[%zu].id '%s' is this node's own id", i,
                              p->id);
        for (j = 0; j < i; j++)
            if (strcmp(f->peers[j].id, p->id) == 0)
                return cr_err_set(err, CR_EINVAL, "value", "peers",
                                  "peer '%s' is listed twice", p->id);
        if (!base_url_valid(p->base_url))
            return cr_err_set(err, CR_EINVAL, "value", "peers",
                              "peers[%zu].base_url '%.100s' must be the "
                              "peer's FHIR base: http(s)://HOST:PORT/fhir",
                              i, p->base_url ? p->base_url : "");
        snprintf(fp->id, sizeof fp->id, "%s", p->id);
        fp->base_url = strdup(p->base_url);
        n = strlen(p->base_url) - 5;
        fp->root_url = strndup(p->base_url, n);
        f->npeers = i + 1;
        if (fp->base_url == NULL || fp->root_url == NULL)
            return cr_err_set(err, CR_ENOMEM, "exception", NULL,
                              "out of memory");
        rc = cr_token_keys_add_trusted(f->keys, p->public_key, p->id, err);
        if (rc != CR_OK) {
            char msg[sizeof err->msg];
            snprintf(msg, sizeof msg, "%s", err->msg);
            return cr_err_set(err, rc == CR_ENOMEM ? CR_ENOMEM : CR_EINVAL,
                              "value", "peers",
                              "peer '%s': public_key: %s", p->id, msg);
        }
    }
    return CR_OK;
}

cr_rc
cr_fed_create(const struct cr_fed_config *cfg, struct cr_keys *keys,
              struct cr_store *store, struct cr_fed **out,
              struct cr_err *err)
{
    struct cr_fed *f;
    size_t i;
    cr_rc rc;

    *out = NULL;
    if (!cr_fed_id_valid(cfg->node_id))
        return cr_err_set(err, CR_EINVAL, "value", "node_id",
                          "node_id '%.40s' must be 1 to 32 of a-z, 0-9 and "
                          "'-' when the node has peers or a locator",
                          cfg->node_id ? cfg->node_id : "");
    if (cfg->deadline_ms < 0 || cfg->deadline_ms > CR_FED_DEADLINE_MAX)
        return cr_err_set(err, CR_EINVAL, "value", "deadline_ms",
                          "deadline_ms must be 1 to %d",
                          CR_FED_DEADLINE_MAX);
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
    snprintf(f->node_id, sizeof f->node_id, "%s", cfg->node_id);
    f->base_url = strdup(cfg->base_url ? cfg->base_url : "");
    f->keys = keys;
    f->store = store;
    f->deadline_ms = cfg->deadline_ms ? cfg->deadline_ms : 2000;
    f->register_ms = cfg->register_ms > 0 ? cfg->register_ms : 1000;
    f->max_answer = cfg->max_answer ? cfg->max_answer : (size_t)64 << 20;
    f->locator = cfg->locator;
    f->locator_peer = -1;
    if (f->base_url == NULL) {
        rc = cr_err_set(err, CR_ENOMEM, "exception", NULL, "out of memory");
        goto fail;
    }
    rc = add_peers(f, cfg, err);
    if (rc != CR_OK)
        goto fail;
    if (f->locator == CR_FED_LOCATOR_PEER) {
        for (i = 0; i < f->npeers; i++)
            if (cfg->locator_peer && strcmp(f->peers[i].id,
                                            cfg->locator_peer) == 0)
                f->locator_peer = (int)i;
        if (f->locator_peer < 0) {
            rc = cr_err_set(err, CR_EINVAL, "value", "locator",
                            "locator.node '%.40s' is not one of the peers",
                            cfg->locator_peer ? cfg->locator_peer : "");
            goto fail;
        }
    }
    if (f->locator == CR_FED_LOCATOR_SELF) {
        rc = cr_fed_locdb_open(cfg->data_dir ? cfg->data_dir : ".", &f->db,
                               err);
        if (rc != CR_OK)
            goto fail;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = cr_err_set(err, CR_EIO, "exception", NULL,
                        "libcurl could not be initialised");
        goto fail;
    }
    rc = cr_fed_fanout_start(f, &f->fan, err);
    if (rc != CR_OK)
        goto fail;
    rc = cr_fed_registrar_start(f, &f->reg, err);
    if (rc != CR_OK)
        goto fail;
    *out = f;
    return CR_OK;
fail:
    cr_fed_destroy(f);
    return rc;
}

void
cr_fed_destroy(struct cr_fed *f)
{
    if (f == NULL)
        return;
    cr_fed_registrar_stop(f->reg);
    cr_fed_fanout_stop(f->fan);
    cr_fed_locdb_close(f->db);
    free_peers(f);
    free(f->base_url);
    free(f);
}

const char *
cr_fed_node_id(const struct cr_fed *f)
{
    return f->node_id;
}

size_t
cr_fed_npeers(const struct cr_fed *f)
{
    return f->npeers;
}

const char *
cr_fed_peer_base(const struct cr_fed *f, const char *id)
{
    size_t i;

    for (i = 0; id && i < f->npeers; i++)
        if (strcmp(f->peers[i].id, id) == 0)
            return f->peers[i].base_url;
    return NULL;
}

bool
cr_fed_is_locator(const struct cr_fed *f)
{
    return f->locator == CR_FED_LOCATOR_SELF;
}

int
cr_fed_deadline_ms(const struct cr_fed *f)
{
    return f->deadline_ms;
}

void
cr_fed_nudge(struct cr_fed *f)
{
    if (f && f->reg)
        cr_fed_registrar_nudge(f->reg);
}

cr_rc
cr_fed_locate(struct cr_fed *f, const char *nhs,
              char (*out_nodes)[CR_FED_ID_MAX + 1], size_t max,
              size_t *out_n, struct cr_err *err)
{
    *out_n = 0;
    if (f->db == NULL)
        return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                          "node %s does not keep the record locator",
                          f->node_id);
    return cr_fed_locdb_lookup(f->db, nhs, out_nodes, max, out_n, err);
}

cr_rc
cr_fed_register(struct cr_fed *f, const char *node, const char *const *nhs,
                size_t n, struct cr_err *err)
{
    if (f->db == NULL)
        return cr_err_set(err, CR_ENOTFOUND, "not-found", NULL,
                          "node %s does not keep the record locator",
                          f->node_id);
    return cr_fed_locdb_add(f->db, node, nhs, n, err);
}

/* This node as a principal, for its own calls (the locator's). */
static void
node_principal(const struct cr_fed *f, struct cr_principal *p)
{
    size_t i, j = 0;

    memset(p, 0, sizeof *p);
    snprintf(p->sub, sizeof p->sub, "node:%s", f->node_id);
    snprintf(p->name, sizeof p->name, "carerecord node %s", f->node_id);
    for (i = 0; f->node_id[i] && j + 1 < sizeof p->org; i++)
        if (f->node_id[i] != '-')
            p->org[j++] = (char)(f->node_id[i] >= 'a' && f->node_id[i] <= 'z'
                                     ? f->node_id[i] - 'a' + 'A'
                                     : f->node_id[i]);
    snprintf(p->role, sizeof p->role, "R0000");
    snprintf(p->purpose, sizeof p->purpose, "system");
}

cr_rc
cr_fed_mint(struct cr_fed *f, const struct cr_principal *user,
            const char *care, char **out, struct cr_err *err)
{
    struct cr_principal p;

    if (user)
        p = *user;
    else
        node_principal(f, &p);
    snprintf(p.iss, sizeof p.iss, "%s", f->node_id);
    snprintf(p.via, sizeof p.via, "%s", f->node_id);
    snprintf(p.care, sizeof p.care, "%s", care ? care : "");
    return cr_token_mint(f->keys, &p, CR_FED_TOKEN_TTL, out, err);
}

const char *
cr_fed_self_token(struct cr_fed *f, struct fed_self_token *t)
{
    int64_t now = cr_clock_mono_us();
    struct cr_err err;

    if (t->jwt && now - t->at_us < (int64_t)CR_FED_TOKEN_TTL * 500000)
        return t->jwt;
    free(t->jwt);
    t->jwt = NULL;
    cr_err_clear(&err);
    if (cr_fed_mint(f, NULL, NULL, &t->jwt, &err) == CR_OK)
        t->at_us = now;
    return t->jwt;
}
