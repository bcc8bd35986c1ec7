/* federation.h: this node among its peers.
 *
 * London has five regional exchanges, one carerecord node each; a person
 * treated in three regions has data on three nodes. Nodes that are peers
 * trust each other's signing keys. A clinician's read at one node (a
 * Patient/$everything by NHS number, a Patient search) becomes, besides
 * the node's own answer, the same read sent in parallel to the peers that
 * hold data about the person, each carrying a node token: a short-lived
 * JWT signed by this node that names the original user (sub, name, org,
 * role, purpose, reason, patient) and this node ('via'), so each peer
 * applies its own access policy to the user and audits the user. Answers
 * come back within a deadline; a peer that errs or is late is reported,
 * never waited for beyond it (the IHE XCA pattern).
 *
 * The record locator answers which nodes hold data for an NHS number. One
 * node keeps it (a role set in the configuration) in its own small
 * database, filled by every node: each registers the NHS numbers of the
 * Patients it stores, soon after they are written, from a background
 * thread that walks the store in change order (so every way of writing is
 * covered, and a node that restarts registers everything again). The
 * locator can also pull each peer's list, so it can be rebuilt from the
 * nodes. When the locator cannot be asked, every peer is.
 *
 * This module does not decide who may see what and writes no audit
 * record: api/ combines it with access/ and audit/, merges the answers
 * (bundle.c and tag.c help with the text) and serves the locator's HTTP
 * endpoints. docs/internals/federation.md has the design; docs/
 * federation.md the user's view.
 *
 * Depends on access/token.h (node tokens), store/ (this node's NHS
 * numbers), core/, libcurl (the multi interface: all of a node's outgoing
 * calls run on one thread), SQLite (the locator's database) and jansson. */
#ifndef CR_FEDERATION_FEDERATION_H
#define CR_FEDERATION_FEDERATION_H

#include "access/principal.h"
#include "access/token.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The meta.tag system naming the node an entry of a federated answer came
 * from (code: the node id), and the one naming the publishing organisation
 * (code: its ODS code; the same system the synthetic data uses). */
#define CR_FED_NODE_SYSTEM "https://carerecord.example/node"
#define CR_FED_PUBLISHER_SYSTEM "https://carerecord.example/publisher"

/* The response header with which a node tells the node that called it
 * that the patient has objected to sharing (value: the ODS code of the
 * organisation that recorded it), so the caller can apply the objection
 * to what other nodes sent. */
#define CR_FED_OBJECTION_HEADER "X-Federation-Objection"

/* The request header asking for this node's own answer only. */
#define CR_FED_LOCAL_HEADER "X-Federation"

#define CR_FED_MAX_PEERS 32
#define CR_FED_ID_MAX 32           /* bytes of a node id */
#define CR_FED_TOKEN_TTL 60        /* seconds a node token lives */
#define CR_FED_DEADLINE_MAX 30000  /* largest deadline_ms accepted */

/* A node. Opaque, long-lived. */
struct cr_fed;

/* One peer, as configured. */
struct cr_fed_peer {
    const char *id;           /* its node id, e.g. "sel" */
    const char *base_url;     /* its FHIR base, ending in "/fhir" */
    const char *public_key;   /* its Ed25519 public key (PEM text) */
};

/* Where the record locator is. */
enum cr_fed_locator {
    CR_FED_LOCATOR_NONE,      /* none: every read asks every peer */
    CR_FED_LOCATOR_SELF,      /* this node keeps it */
    CR_FED_LOCATOR_PEER       /* the peer named by locator_peer keeps it */
};

struct cr_fed_config {
    const char *node_id;      /* this node's id (checked: cr_fed_id_valid) */
    const char *base_url;     /* this node's FHIR base */
    const char *data_dir;     /* the locator's database lives here */
    const struct cr_fed_peer *peers;
    size_t npeers;
    enum cr_fed_locator locator;
    const char *locator_peer; /* CR_FED_LOCATOR_PEER: the peer's id */
    int deadline_ms;          /* per federated read; 0: 2000 */
    int register_ms;          /* how often the registrar looks for new
                                 patients when not told; 0: 1000 */
    size_t max_answer;        /* bytes of one peer's answer (all pages);
                                 0: 64 MiB */
};

/* True when 's' can be a node id: 1 to 32 of a-z, 0-9 and '-', starting
 * with a letter or digit (it becomes a FHIR code and part of URLs). */
bool
cr_fed_id_valid(const char *s);

/* Set up federation for this node: trust each peer's key in 'keys' (as
 * that peer: access/token.h), open the locator's database when this node
 * keeps it (data_dir/locator.db), and start the fan-out thread and the
 * registrar thread. 'keys' and 'store' are borrowed and must outlive the
 * result; the config's strings are copied. Errors: CR_EINVAL (with err
 * naming the peer or key at fault: a bad id, a duplicate, this node's own
 * id, a base URL that is not http(s)://.../fhir, a key that is not an
 * Ed25519 public key, a locator peer that is not a peer), CR_EIO,
 * CR_ENOMEM. Must be called before any other thread uses libcurl. */
cr_rc
cr_fed_create(const struct cr_fed_config *cfg, struct cr_keys *keys,
              struct cr_store *store, struct cr_fed **out,
              struct cr_err *err);

/* Stop the threads (a read in flight is answered as stopped) and free.
 * NULL is a no-op. */
void
cr_fed_destroy(struct cr_fed *f);

/* This node's id; lives as long as 'f'. */
const char *
cr_fed_node_id(const struct cr_fed *f);

/* How many peers are configured. */
size_t
cr_fed_npeers(const struct cr_fed *f);

/* The FHIR base of peer 'id', or NULL when 'id' is not a peer. */
const char *
cr_fed_peer_base(const struct cr_fed *f, const char *id);

/* True when this node keeps the record locator. */
bool
cr_fed_is_locator(const struct cr_fed *f);

/* The deadline of a federated read, in milliseconds. */
int
cr_fed_deadline_ms(const struct cr_fed *f);

/* Data was written: look for newly stored patients to register now rather
 * than at the next interval. Cheap; thread-safe. */
void
cr_fed_nudge(struct cr_fed *f);

/* ---- the record locator (this node's, when it keeps it) ------------- */

/* The nodes registered for NHS number 'nhs': up to 'max' ids into
 * out_nodes, their number into *out_n. CR_ENOTFOUND when this node does
 * not keep the locator. Thread-safe. */
cr_rc
cr_fed_locate(struct cr_fed *f, const char *nhs,
              char (*out_nodes)[CR_FED_ID_MAX + 1], size_t max,
              size_t *out_n, struct cr_err *err);

/* Record that node 'node' holds data for each of the 'n' NHS numbers
 * (already registered pairs are kept once). CR_ENOTFOUND when this node
 * does not keep the locator; CR_EINVAL for a bad node id or NHS number
 * (then nothing is recorded). One transaction. Thread-safe. */
cr_rc
cr_fed_register(struct cr_fed *f, const char *node, const char *const *nhs,
                size_t n, struct cr_err *err);

/* ---- federated reads --------------------------------------------------- */

/* One read to send to the peers. Strings are copied by cr_fed_start. */
struct cr_fed_request {
    const struct cr_principal *user;  /* the original user (verified) */
    const char *access_reason;  /* their X-Access-Reason, or NULL */
    const char *supervisor;     /* their X-Supervisor, or NULL */
    const char *care;           /* an NHS number whose care relationship
                                   this node vouches for, or NULL */
    const char *path;           /* what follows a peer's FHIR base, query
                                   included and percent-encoded:
                                   "/Patient/$everything?identifier=..." */
    const char *nhs;            /* ask the locator about this NHS number;
                                   NULL: ask every peer */
    bool is_paged;              /* follow each answer's next links (on
                                   that peer's base only) */
    const char *resource_type;  /* what a 2xx answer must be: a resource
                                   of this type ("Parameters"); NULL: a
                                   Bundle */
    int64_t start_us;           /* when the user's request arrived
                                   (cr_clock_mono_us): the deadline runs
                                   from then; 0: from now */
};

/* How one peer's part ended. */
enum cr_fed_status {
    CR_FED_OK,            /* 2xx with a Bundle (or the resource type
                             asked for): pages hold it */
    CR_FED_NO_DATA,       /* 404 or 410: the peer holds nothing */
    CR_FED_HTTP_ERROR,    /* another status; pages[0] holds the body when
                             it is JSON (an OperationOutcome) */
    CR_FED_TIMEOUT,       /* no (complete) answer before the deadline */
    CR_FED_UNREACHABLE,   /* no connection, or it broke */
    CR_FED_BAD_ANSWER,    /* not a FHIR Bundle (or not the resource
                             type asked for), or too large */
    CR_FED_STOPPED        /* this node is stopping */
};

struct cr_fed_answer {
    char node[CR_FED_ID_MAX + 1];
    const char *base_url;       /* the peer's FHIR base (lives as 'f') */
    enum cr_fed_status status;
    long http_status;           /* 0 when none came */
    char message[256];          /* what went wrong, in a sentence */
    struct cr_buf *pages;       /* valid JSON texts, in order */
    size_t npages;
    char objection[CR_FED_ID_MAX + 1];  /* the objection header, or "" */
    double ms;                  /* time to the last byte (or the end) */
};

struct cr_fed_result {
    struct cr_fed_answer *answers;  /* one per peer asked, in the order
                                       of the configuration */
    size_t n;
    bool is_locator_down;       /* the locator could not be asked, so
                                   every peer was */
    char locator_msg[256];      /* why, when is_locator_down */
    int deadline_ms;
};

/* Called once, on the fan-out thread, when every peer asked has answered
 * or the deadline passed. The callee owns 'res' (cr_fed_result_free). It
 * must be quick: hand over and return. */
typedef void (*cr_fed_done_fn)(void *ctx, struct cr_fed_result *res);

/* Start a federated read: locate (when rq->nhs is set and there is a
 * locator), mint one node token for the user (or reuse one minted for the
 * same claims less than half its life ago, so peers' token caches hit),
 * send the read to each peer
 * named (never to this node itself), collect what comes back until the
 * deadline, then call 'done'. Returns CR_OK when started ('done' will be
 * called exactly once, possibly before this returns), or an error (then
 * 'done' is never called): CR_EINVAL when the user cannot be put in a
 * token, CR_EUNAVAILABLE when stopping, CR_ENOMEM. Thread-safe. */
cr_rc
cr_fed_start(struct cr_fed *f, const struct cr_fed_request *rq,
             cr_fed_done_fn done, void *ctx, struct cr_err *err);

/* Free a result. NULL is a no-op. */
void
cr_fed_result_free(struct cr_fed_result *res);

/* ---- Bundle text (tag.c, bundle.c) ------------------------------------ */

/* Append resource 'json' (valid JSON text of an object) to 'out' with two
 * meta.tag codings added: the publisher 'org' (CR_FED_PUBLISHER_SYSTEM;
 * any publisher tag already there is replaced, since the store's column is
 * what counts) and the node 'node' (CR_FED_NODE_SYSTEM; one already there
 * is kept and none added, so a resource passed on keeps the node that
 * holds it). 'org' NULL or "" adds no publisher tag. Everything else is
 * copied byte for byte; "meta" is created when missing. Errors stick in
 * out->rc. */
void
cr_fed_tag(struct cr_buf *out, const char *json, size_t len,
           const char *org, const char *node);

/* One entry of a Bundle, as spans of its text (offsets into the Bundle;
 * 'end' == 'start' when absent). String values are the JSON text between
 * the quotes (escapes not decoded). */
struct cr_fed_span {
    size_t start, end;
};

struct cr_fed_entry {
    struct cr_fed_span entry;       /* the whole entry object */
    struct cr_fed_span full_url;    /* fullUrl's value, inside quotes */
    struct cr_fed_span resource;    /* the resource object */
    struct cr_fed_span type;        /* resource.resourceType, inside quotes */
    struct cr_fed_span id;          /* resource.id, inside quotes */
    struct cr_fed_span version;     /* resource.meta.versionId, inside quotes */
    struct cr_fed_span mode;        /* search.mode, inside quotes */
    struct cr_fed_span node;        /* the node tag's code, inside quotes */
    struct cr_fed_span publisher;   /* the publisher tag's code */
};

/* Called for each entry in order; return false to stop. */
typedef bool (*cr_fed_entry_fn)(void *ctx, const char *bundle,
                                const struct cr_fed_entry *e);

/* Walk the entries of the Bundle in 'json' (text already known to be
 * valid JSON, e.g. by cr_jsontext_valid). Returns false when it is not a
 * Bundle (no resourceType "Bundle"); true otherwise, also when it has no
 * entries. 'fn' NULL only checks that it is a Bundle. No allocation. */
bool
cr_fed_bundle_entries(const char *json, size_t len, cr_fed_entry_fn fn,
                      void *ctx);

/* The url of the Bundle link with relation 'rel' (inside its quotes, JSON
 * escapes not decoded) into *out; false when there is none. */
bool
cr_fed_bundle_link(const char *json, size_t len, const char *rel,
                   struct cr_fed_span *out);

/* True when span 's' of 'text' equals the NUL-terminated 'lit'. */
bool
cr_fed_span_is(const char *text, struct cr_fed_span s, const char *lit);

#endif
