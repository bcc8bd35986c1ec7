/* fedInt.h: private to federation/: the node object and what its files
 * share. */
#ifndef CR_FEDERATION_FED_INT_H
#define CR_FEDERATION_FED_INT_H

#include "federation/federation.h"

#include <pthread.h>

struct cr_fed_locdb;       /* locator.c */
struct cr_fed_fanout;      /* fanout.c */
struct cr_fed_registrar;   /* registrar.c */

struct fed_peer {
    char id[CR_FED_ID_MAX + 1];
    char *base_url;            /* FHIR base, "http://h:p/fhir" */
    char *root_url;            /* the same without "/fhir": where
                                  /federation/... is served */
};

struct cr_fed {
    char node_id[CR_FED_ID_MAX + 1];
    char *base_url;
    struct fed_peer peers[CR_FED_MAX_PEERS];
    size_t npeers;
    enum cr_fed_locator locator;
    int locator_peer;          /* index in peers, or -1 */
    int deadline_ms;
    int register_ms;
    size_t max_answer;
    struct cr_keys *keys;      /* borrowed */
    struct cr_store *store;    /* borrowed */
    struct cr_fed_locdb *db;   /* when this node keeps the locator */
    struct cr_fed_fanout *fan;
    struct cr_fed_registrar *reg;
};

/* ---- fed.c ---- */

/* Mint a node token (CR_FED_TOKEN_TTL seconds) for 'user' (NULL: this
 * node itself, for locator calls), naming this node in iss and via, with
 * 'care' (NULL or "" for none). *out is heap memory (free). */
cr_rc
cr_fed_mint(struct cr_fed *f, const struct cr_principal *user,
            const char *care, char **out, struct cr_err *err);

/* This node's own token, for its calls to the /federation endpoints:
 * kept in 't' and minted again when half its life has passed. */
struct fed_self_token {
    char *jwt;
    int64_t at_us;
};

/* The token in 't' (minting one when there is none or it is old), or NULL
 * when minting failed. One thread per 't'; free t->jwt when done. */
const char *
cr_fed_self_token(struct cr_fed *f, struct fed_self_token *t);

/* ---- bundle.c ---- */

/* Member 'key' of the object at span 'obj' of 'text' (value span). */
bool
cr_fed_member(const char *text, struct cr_fed_span obj, const char *key,
              struct cr_fed_span *out);

/* The same for a string member: the span inside its quotes. */
bool
cr_fed_member_str(const char *text, struct cr_fed_span obj, const char *key,
                  struct cr_fed_span *out);

/* The code of the first meta.tag coding of 'system' in the resource at
 * span 'resource' (empty span when none). */
struct cr_fed_span
cr_fed_tag_code(const char *text, struct cr_fed_span resource,
                const char *system);

/* ---- locator.c: the locator's database ---- */

cr_rc
cr_fed_locdb_open(const char *dir, struct cr_fed_locdb **out,
                  struct cr_err *err);

void
cr_fed_locdb_close(struct cr_fed_locdb *db);

cr_rc
cr_fed_locdb_lookup(struct cr_fed_locdb *db, const char *nhs,
                    char (*out)[CR_FED_ID_MAX + 1], size_t max,
                    size_t *out_n, struct cr_err *err);

cr_rc
cr_fed_locdb_add(struct cr_fed_locdb *db, const char *node,
                 const char *const *nhs, size_t n, struct cr_err *err);

/* ---- fanout.c: the thread that makes every federated call ---- */

cr_rc
cr_fed_fanout_start(struct cr_fed *f, struct cr_fed_fanout **out,
                    struct cr_err *err);

/* Stop the thread; calls in flight end as CR_FED_STOPPED. */
void
cr_fed_fanout_stop(struct cr_fed_fanout *fan);

/* ---- registrar.c: telling the locator what this node holds ---- */

cr_rc
cr_fed_registrar_start(struct cr_fed *f, struct cr_fed_registrar **out,
                       struct cr_err *err);

void
cr_fed_registrar_stop(struct cr_fed_registrar *r);

void
cr_fed_registrar_nudge(struct cr_fed_registrar *r);

#endif
