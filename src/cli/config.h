/* config.h: a node's configuration: defaults, the JSON config file, and
 * command-line overrides. Depends on core/ and jansson. */
#ifndef CR_CLI_CONFIG_H
#define CR_CLI_CONFIG_H

#include "core/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A peer node (federation). */
struct cr_config_peer {
    char id[33];
    char base_url[512];
    char *public_key;       /* PEM text (read from the file when the config
                               gave a path); owned */
};

/* Where the record locator is. */
enum cr_config_locator {
    CR_CONFIG_LOCATOR_NONE,     /* no locator: ask every peer */
    CR_CONFIG_LOCATOR_SELF,     /* "locator": {"role": true} */
    CR_CONFIG_LOCATOR_PEER      /* "locator": {"node": "<peer id>"} */
};

struct cr_config {
    char host[64];          /* listen address */
    uint16_t port;
    char data_dir[1024];
    char node_id[33];
    char base_url[512];     /* "" : derived from host and port */
    char personas[1040];    /* demo personas file for the web UI's sign-in
                               page; "" : DATA/demo.json (served only when
                               it exists) */
    size_t max_body;
    unsigned max_connections;   /* open at once; default 1024 */
    size_t max_response;
    int max_json_depth;
    int default_count;
    int max_count;
    bool log_requests;
    json_t *policy;         /* the "policy" section (access rules), or
                               NULL; owned: cr_config_free */
    json_t *mpi;            /* the "mpi" section (patient index weights
                               and thresholds), or NULL; owned */
    struct cr_config_peer *peers;   /* owned: cr_config_free */
    size_t npeers;
    enum cr_config_locator locator;
    char locator_node[33];
    int deadline_ms;        /* federated reads; default 2000 */
    /* the "audit" section (docs/internals/audit.md, "The journal") */
    bool audit_journal;     /* records of reads through the journal;
                               default true */
    int audit_journal_ms;   /* at most this long in it; default 10 */
    size_t audit_journal_bytes;     /* its size; default 8 MiB */
};

/* Free what 'c' owns (the policy and mpi sections, the peers). */
void
cr_config_free(struct cr_config *c);

/* Free the peer list only (a later "peers" replaces an earlier one). */
void
cr_config_free_peers(struct cr_config *c);

/* Fill 'c' with the defaults: 127.0.0.1:8080, ./carerecord-data, node
 * "local", 8 MiB bodies, depth 64, pages of 50 up to 1000. */
void
cr_config_defaults(struct cr_config *c);

/* Parse "ADDR:PORT" ("[::1]:8080" for IPv6) into c->host and c->port. */
cr_rc
cr_config_listen(struct cr_config *c, const char *s, struct cr_err *err);

/* Read a JSON config file over 'c'. Unknown keys and wrong types are
 * errors naming the key, so a typo never silently falls back. A peer's
 * public_key is PEM text or the path of a PEM file (relative paths are
 * taken from the config file's directory), read here. */
cr_rc
cr_config_load(struct cr_config *c, const char *path, struct cr_err *err);

#endif
