/* audit.h: the audit log: one tamper-evident record per request that
 * touches patient data.
 *
 * A record (struct cr_audit_rec) says who asked (the principal from the
 * verified token), why (purpose, reason), what they did (action), to whom
 * (patient) and to what (resources touched), how it ended (outcome, HTTP
 * status) and which alerts it raised. It is stored as canonical JSON text
 * (record.c) in the store's audit table, hash-chained: each record's hash
 * is SHA-256(previous hash || canonical text), so editing, deleting or
 * reordering a record breaks the chain where it happened, and
 * cr_audit_verify (verify.c) says where. The log object (audit.c) appends
 * inside a write transaction, blocking, or asynchronously with group
 * commit; in every case the caller learns when the record is durable and
 * must not release the data before then (fail closed).
 *
 * report.c computes what a privacy officer and the programme need from
 * the log: alerts to review, unusual volume, and usage statistics.
 *
 * Only api/ appends; the command line verifies and reports. Depends on
 * store/, access/principal.h, core/, jansson and xxhash. See
 * docs/internals/audit.md. */
#ifndef CR_AUDIT_AUDIT_H
#define CR_AUDIT_AUDIT_H

#include "access/principal.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/str.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the record (record.c) ---- */

/* What the request did. The code of each (cr_audit_action_code) is what
 * the body and the action column hold. */
enum cr_audit_action {
    CR_AUDIT_READ,          /* "read" */
    CR_AUDIT_VREAD,         /* "vread" */
    CR_AUDIT_SEARCH,        /* "search" */
    CR_AUDIT_HISTORY,       /* "history" */
    CR_AUDIT_EVERYTHING,    /* "everything" */
    CR_AUDIT_CREATE,        /* "create" */
    CR_AUDIT_UPDATE,        /* "update" */
    CR_AUDIT_DELETE,        /* "delete" */
    CR_AUDIT_TRANSACTION,   /* "transaction" */
    CR_AUDIT_BATCH,         /* "batch" */
    CR_AUDIT_IMPORT,        /* "import" */
    CR_AUDIT_AUDIT_READ,    /* "audit-read": reading the audit log */
    CR_AUDIT_LOGIN_FAILURE, /* "login-failure": a token was refused */
    CR_AUDIT_CARE_PLAN_SUMMARY, /* "care-plan-summary": the emergency
                                   summary of a Universal Care Plan */
    CR_AUDIT_CARE_PLAN_FIGURES, /* "care-plan-figures": the care plan
                                   programme's counts (no patient data) */
    CR_AUDIT_REVIEW,        /* "review": a privacy officer reviewed an
                               alert (POST /fhir/$audit-review) */
    CR_AUDIT_ACTION__COUNT
};

/* How the request ended for the data it asked for. */
enum cr_audit_outcome {
    CR_AUDIT_ALLOWED,       /* "allowed": everything asked for was given */
    CR_AUDIT_FILTERED,      /* "filtered": given, with items withheld */
    CR_AUDIT_DENIED,        /* "denied": refused by policy (403) */
    CR_AUDIT_FAILED,        /* "failed": an error (4xx/5xx) */
    CR_AUDIT_OUTCOME__COUNT
};

/* Alert flags, a bit set; the body lists their codes in bit order. */
#define CR_AUDIT_ALERT_SELF_CLAIMED  (1u << 0)  /* "self-claimed" */
#define CR_AUDIT_ALERT_EMERGENCY     (1u << 1)  /* "emergency" */
#define CR_AUDIT_ALERT_SAME_SURNAME  (1u << 2)  /* "same-surname" */
#define CR_AUDIT_ALERT_SAME_ADDRESS  (1u << 3)  /* "same-address" */
#define CR_AUDIT_ALERT_RESTRICTED    (1u << 4)  /* "restricted" */
#define CR_AUDIT_ALERT_FLAGGED       (1u << 5)  /* "flagged" */
#define CR_AUDIT_ALERT_OUT_OF_HOURS  (1u << 6)  /* "out-of-hours" */
#define CR_AUDIT_ALERT_OBJECTION_OVERRIDDEN (1u << 7) /* "objection-overridden" */
#define CR_AUDIT_ALERT_STUDENT       (1u << 8)  /* "student" */
#define CR_AUDIT_ALERT_VOLUME        (1u << 9)  /* "volume" */
#define CR_AUDIT_ALERT__COUNT 10
/* The first nine bits are the policy's (CR_POLICY_ALERT_*, same order and
 * meaning), so a decision's alerts are recorded as they are. */

/* What a privacy officer concluded about an alert they reviewed. */
enum cr_audit_finding {
    CR_AUDIT_FINDING_APPROPRIATE,   /* "appropriate": no concern */
    CR_AUDIT_FINDING_EXPLAINED,     /* "explained": by the member of staff */
    CR_AUDIT_FINDING_ESCALATED,     /* "escalated": to the Caldicott
                                       guardian */
    CR_AUDIT_FINDING_INAPPROPRIATE, /* "inappropriate": reported under the
                                       organisation's policy */
    CR_AUDIT_FINDING__COUNT
};

/* The review a record of action CR_AUDIT_REVIEW holds: which alert was
 * reviewed and what was found. The alert is a record's (seq), or a
 * member of staff's unusual volume on one UK day (user and day), which
 * the report works out and no record holds. seq 0 and user NULL: the
 * record holds no review (every other action, and a review that was
 * refused). The review is a record of its own; the reviewed record is
 * never changed. */
struct cr_audit_review {
    int64_t seq;                    /* the reviewed record; 0: none */
    const char *user;               /* or: the member of staff (agent sub)
                                       whose unusual volume ... */
    int64_t day;                    /* ... on this UK day (days since
                                       1970-01-01) was reviewed */
    enum cr_audit_finding finding;
    const char *note;               /* the officer's note, or NULL */
};

/* One audit record. Every string is borrowed for the length of the call
 * it is passed to, and NULL and "" both mean "none". A value type: set it
 * up on the stack with cr_audit_rec_init. */
struct cr_audit_rec {
    int64_t time_ms;            /* when; 0: now (set when appended) */
    const char *request_id;     /* X-Request-Id or our own */
    const char *client;         /* client address */
    /* the principal (cr_audit_rec_set_principal fills these six) */
    const char *sub;
    const char *name;
    const char *org;            /* ODS code */
    const char *role;           /* SDS job role code */
    const char *purpose;        /* purpose of use */
    const char *reason;         /* stated reason (self-claim, emergency) */
    enum cr_audit_action action;
    enum cr_audit_outcome outcome;
    int status;                 /* HTTP status answered */
    const char *patient;        /* the patient's id (store compartment) */
    const char *nhs;            /* the person's NHS number, when the record
                                   names no patient of this node's: a
                                   federated read of someone this node
                                   holds nothing of. NULL otherwise */
    /* Resources touched: the inside of a JSON array of strings
     * "Type/id/_history/v", as cr_audit_refs_add builds it (may be empty) */
    struct cr_str resources;
    uint32_t alerts;            /* CR_AUDIT_ALERT_* */
    const char *basis;          /* why access was granted (policy basis
                                   name: "registered-gp", "relationship",
                                   "self-claimed", "emergency", "patient",
                                   "system", "directory") */
    const char *rule;           /* the rule that denied ("no-relationship")
                                   or, when items were withheld, the first
                                   rule that withheld one */
    int64_t withheld;           /* items withheld from the answer */
    const char *supervisor;     /* students: the supervisor named */
    const char *node;           /* the node that answered; NULL: the log's */
    const char *via;            /* the calling node, for federated calls */
    struct cr_audit_review review;  /* action review only: what was
                                       reviewed and found */
};

/* A record with every field "none", action read, outcome allowed. */
void
cr_audit_rec_init(struct cr_audit_rec *rec);

/* Point the principal fields of 'rec' at those of 'p' (which must outlive
 * the use of 'rec'). p NULL clears them. */
void
cr_audit_rec_set_principal(struct cr_audit_rec *rec,
                           const struct cr_principal *p);

/* Append one resource reference "Type/id/_history/version" (version <= 0:
 * "Type/id") to 'refs', an inside-of-array text for rec->resources. Errors
 * stick in refs->rc. */
void
cr_audit_refs_add(struct cr_buf *refs, const char *type, const char *id,
                  int64_t version);

/* The code of an action or outcome ("read", "allowed"), or "" when out of
 * range. Static strings. */
const char *
cr_audit_action_code(enum cr_audit_action a);

const char *
cr_audit_outcome_code(enum cr_audit_outcome o);

/* The enum value of a code; false when 's' is no such code. */
bool
cr_audit_action_parse(const char *s, enum cr_audit_action *out);

bool
cr_audit_outcome_parse(const char *s, enum cr_audit_outcome *out);

/* The code of a review's finding ("appropriate", "explained",
 * "escalated", "inappropriate"), or "" when out of range; and back (false
 * when 's' is no such code). Static strings. */
const char *
cr_audit_finding_code(enum cr_audit_finding f);

bool
cr_audit_finding_parse(const char *s, enum cr_audit_finding *out);

/* The code of alert bit 'bit' (0 .. CR_AUDIT_ALERT__COUNT-1), or NULL. */
const char *
cr_audit_alert_code(int bit);

/* Append the canonical JSON text of 'rec' to 'out': fixed key order, no
 * whitespace, members with no value left out, strings escaped the same way
 * every time (invalid UTF-8 becomes U+FFFD), so the same record always
 * gives the same bytes. The form is in docs/internals/audit.md. Errors
 * (CR_EINVAL for an action, outcome or finding out of range, or a review
 * on a record whose action is not review; buffer errors) are returned and
 * stick in out->rc. Thread-safe. */
cr_rc
cr_audit_rec_write(const struct cr_audit_rec *rec, struct cr_buf *out);

/* Parse a body made by cr_audit_rec_write back into *out. Strings (and
 * out->resources) are allocated from 'a' and live as long as it. CR_EINVAL
 * (detail in err) when the text is not such a body. */
cr_rc
cr_audit_rec_parse(const char *body, size_t len, struct cr_arena *a,
                   struct cr_audit_rec *out, struct cr_err *err);

/* ---- the log (audit.c) ---- */

struct cr_audit;   /* opaque: the audit log of one open store */

/* Told, on the log's own thread, that records could not be moved from the
 * journal into the table ('msg' says why; it lives for the call). */
typedef void (*cr_audit_warn_fn)(void *warn_ctx, const char *msg);

/* How the log keeps the records of requests that wrote nothing (reads,
 * denials, failures). With a journal, cr_audit_append_journal copies a
 * record into the journal file in 'journal_dir' (the operating system
 * has it: a killed node loses none) and returns; the log's own thread
 * moves journaled records into the hash-chained table, durable, in one
 * commit per batch, at most 'move_ms' after they came (sooner when it is
 * idle). See docs/internals/audit.md, "The journal". */
struct cr_audit_opts {
    const char *journal_dir;    /* the data directory; NULL: no journal,
                                   every record is committed before the
                                   caller hears of it */
    int move_ms;                /* <= 0: 10 */
    size_t journal_bytes;       /* ring size of a new journal; 0: 8 MiB */
    cr_audit_warn_fn warn;      /* may be NULL */
    void *warn_ctx;
};

/* Open the log of store 's' ('opts' NULL: no journal). With a journal,
 * the records a stopped or killed node left in it are moved into the
 * table now, before the log is used; if they cannot be, the log is not
 * opened (CR_EIO: nothing may be served without its record). Close it
 * with cr_audit_close before cr_store_close. Thread-safe. */
cr_rc
cr_audit_open(struct cr_store *s, const struct cr_audit_opts *opts,
              struct cr_audit **out, struct cr_err *err);

/* Close the log: journaled records are moved into the table first (any
 * that cannot be stay in the journal for the next open). No append may
 * be running or made after. NULL is a no-op. */
void
cr_audit_close(struct cr_audit *log);

/* Record 'rec' in the journal (it may go away on return). CR_OK: the
 * record is in the journal, and the answer it describes may be sent; it
 * reaches the table as the options say. CR_EUNAVAILABLE: not journaled
 * (no journal, the journal is full, or moving records has been failing):
 * use cr_audit_append_async, which waits for the commit. Anything else
 * (CR_EINVAL: a bad record, CR_ENOMEM): nothing was recorded, the data
 * must not be returned (fail closed); err says why. Thread-safe. */
cr_rc
cr_audit_append_journal(struct cr_audit *log, const struct cr_audit_rec *rec,
                        struct cr_err *err);

/* Take the lock of data directory 'dir' that a serving node holds (on
 * its journal file, made if missing) for a command that writes the
 * store of a stopped node (import, mpi rebuild): then no node can start
 * on it meanwhile, and the command does not change a store under a
 * running node's caches. CR_EUNAVAILABLE (err says what to do) when a
 * node or another such command holds it. *out_fd is for
 * cr_audit_dir_unlock (-1 on failure). */
cr_rc
cr_audit_dir_lock(const char *dir, int *out_fd, struct cr_err *err);

/* Release a lock taken by cr_audit_dir_lock (-1: nothing). */
void
cr_audit_dir_unlock(int fd);

/* Return once every record journaled before the call is in the table
 * (CR_OK at once without a journal): for reading the log, so that a
 * query sees every access made before it. CR_EIO (detail in err) when
 * the move failed; CR_EUNAVAILABLE when the log is closing. Blocks;
 * thread-safe. */
cr_rc
cr_audit_flush(struct cr_audit *log, struct cr_err *err);

/* Inside a write transaction (a cr_store_txn_fn, on the writer thread):
 * append 'rec' so that it commits, or is undone, with the rest of the
 * transaction (a write and its record are one atomic step). If the write
 * fails, its transaction is undone with the record in it: record the
 * failure with cr_audit_append or cr_audit_append_async afterwards.
 * *out_seq (may be NULL) gets the record's place once committed. Writer
 * thread only (the body is built in the log's scratch buffer). */
cr_rc
cr_audit_append_txn(struct cr_audit *log, struct cr_store_txn *txn,
                    const struct cr_audit_rec *rec, int64_t *out_seq,
                    struct cr_err *err);

/* Append 'rec' and return once it is durable (CR_OK) or could not be
 * written (then the caller must not return the data: fail closed). Shares
 * a commit with concurrent appends and writes. Blocks; thread-safe. */
cr_rc
cr_audit_append(struct cr_audit *log, const struct cr_audit_rec *rec,
                int64_t *out_seq, struct cr_err *err);

/* Called once the record of an asynchronous append is durable (rc ==
 * CR_OK) or not written (the data must not be returned). Runs on the
 * store's writer thread: must be quick and must not write to the store. */
typedef void (*cr_audit_done_fn)(void *done_ctx, cr_rc rc);

/* An asynchronous append in flight. The caller owns it (e.g. in a
 * request's arena), sets it up with cr_audit_async_init, may reuse it for
 * another append once done was called, and frees it with
 * cr_audit_async_release. */
struct cr_audit_async {
    /* results, valid from the call of done on */
    int64_t seq;                /* the record's place, when rc == CR_OK */
    struct cr_err err;          /* what went wrong, when rc != CR_OK */
    /* private */
    struct cr_audit *log;
    cr_audit_done_fn done;
    void *done_ctx;
    struct cr_buf data;         /* the body and the column strings */
    struct cr_store_audit_async st;
};

/* Make 'req' ready for its first append (empty buffers, no result). */
void
cr_audit_async_init(struct cr_audit_async *req);

/* Free what 'req' holds (not 'req' itself). NULL is a no-op. Not while an
 * append is in flight. */
void
cr_audit_async_release(struct cr_audit_async *req);

/* Serialise 'rec' now (it may go away on return) and queue its append;
 * returns at once. done(done_ctx, rc) is called once the record is durable
 * or failed; records of concurrent requests share one commit. Returns
 * CR_OK when queued; otherwise (CR_EUNAVAILABLE: store closing, CR_ENOMEM,
 * CR_EINVAL: a bad record) nothing was queued, done will not be called,
 * and req->err says why. Thread-safe. */
cr_rc
cr_audit_append_async(struct cr_audit *log, const struct cr_audit_rec *rec,
                      struct cr_audit_async *req, cr_audit_done_fn done,
                      void *done_ctx);

/* ---- verification (verify.c) ---- */

/* A record known from outside the log (printed by an earlier verify, or
 * exported by the node): its seq and hash. Verifying against it detects a
 * log cut short after it, and a rewrite of everything up to it. */
struct cr_audit_anchor {
    int64_t seq;
    char hash[CR_STORE_AUDIT_HASH_LEN + 1];
};

/* Parse "SEQ:HASH" (a positive seq, 64 hex digits, case-insensitive).
 * false if 's' is not of that form. */
bool
cr_audit_anchor_parse(const char *s, struct cr_audit_anchor *out);

/* What verification found. */
struct cr_audit_verdict {
    bool is_intact;
    int64_t nrecords;           /* records read */
    int64_t last_seq;           /* last record read (0: none) */
    char last_hash[CR_STORE_AUDIT_HASH_LEN + 1];   /* its hash, or the
                                                      genesis value */
    int64_t broken_seq;         /* where the chain breaks, when not intact */
    char what[384];             /* what is wrong there, a sentence */
    int64_t njournaled;         /* cr_audit_verify_dir: records in the
                                   node's journal, not yet in the chain
                                   (moved when the node next runs) */
};

/* Walk every record of the store in directory 'dir' (read-only; a running
 * node may go on appending) and check the chain: seqs 1, 2, 3 ... without
 * a gap, each prev_hash equal to the previous record's hash (the genesis
 * value for the first), each hash equal to SHA-256(prev_hash || body),
 * each body a record whose indexed columns agree with it, and, with
 * 'expect' (may be NULL), that the record at expect->seq exists and has
 * expect->hash. Stops at the first break. Returns CR_OK when the walk was
 * made, whatever it found (see out->is_intact); CR_ENOTFOUND when there is
 * no store in 'dir'; CR_EIO when it cannot be read. */
cr_rc
cr_audit_verify_dir(const char *dir, const struct cr_audit_anchor *expect,
                    struct cr_audit_verdict *out, struct cr_err *err);

/* As cr_audit_verify_dir on an open store. */
cr_rc
cr_audit_verify(struct cr_store *s, const struct cr_audit_anchor *expect,
                struct cr_audit_verdict *out, struct cr_err *err);

/* ---- care settings (setting.c) ---- */

/* Where a user works, for usage statistics: derived from their
 * organisation's Organization resource (its type codings), or from the
 * purpose of use for patients. See docs/internals/audit.md. */
enum cr_audit_setting {
    CR_AUDIT_SETTING_UNKNOWN,       /* "unknown": no Organization, or its
                                       type says no setting we know */
    CR_AUDIT_SETTING_GP,            /* "gp-practice" */
    CR_AUDIT_SETTING_HOSPITAL,      /* "hospital": acute and specialist
                                       trusts */
    CR_AUDIT_SETTING_MENTAL_HEALTH, /* "mental-health" */
    CR_AUDIT_SETTING_COMMUNITY,     /* "community" */
    CR_AUDIT_SETTING_SOCIAL_CARE,   /* "social-care": council adult
                                       social care */
    CR_AUDIT_SETTING_CARE_HOME,     /* "care-home" */
    CR_AUDIT_SETTING_AMBULANCE,     /* "ambulance" */
    CR_AUDIT_SETTING_NHS111,        /* "nhs-111" */
    CR_AUDIT_SETTING_PATIENT,       /* "patient": patients reading their
                                       own record (patient-access) */
    CR_AUDIT_SETTING__COUNT
};

/* The system of the setting codes in reports. */
#define CR_AUDIT_SETTING_SYSTEM                                            \
    "https://carerecord.example/CodeSystem/care-setting"

/* The code ("gp-practice") and display ("GP practice") of a setting; ""
 * when out of range. Static strings. */
const char *
cr_audit_setting_code(enum cr_audit_setting s);

const char *
cr_audit_setting_display(enum cr_audit_setting s);

/* The setting an Organization.type coding says: a code of the carerecord
 * organisation-kind system (what `carerecord synth` writes, and what a
 * deployment adds to its Organization resources), or the ODS role RO76
 * "GP practice". UNKNOWN for any other coding. NULL is UNKNOWN. */
enum cr_audit_setting
cr_audit_setting_of_coding(const char *system, const char *code);

/* The setting of an Organization resource given as JSON text: that of the
 * first coding of its 'type' that says one, else UNKNOWN (also for text
 * that is not an Organization). Thread-safe. */
enum cr_audit_setting
cr_audit_setting_of_org(const char *json, size_t len);

/* ---- alerts and usage reports (report.c, report_render.c,
 * report_read.c) ---- */

/* A user is reported for unusual volume when they access more distinct
 * patients than this in one UK calendar day. */
#define CR_AUDIT_VOLUME_DEFAULT 50

/* What to report on. */
struct cr_audit_report_opts {
    bool has_since;         /* since_ms is set; else from the first record */
    int64_t since_ms;       /* records at or after this instant */
    bool has_until;         /* until_ms is set; else to the last record */
    int64_t until_ms;       /* records before this instant */
    const char *org;        /* only the staff of this organisation (ODS
                               code, the records' agent org); NULL or "":
                               everyone */
    int64_t volume_threshold;   /* > this many patients a day is unusual;
                                   <= 0: CR_AUDIT_VOLUME_DEFAULT */
};

/* The review of an alert: a later record of action review naming the
 * alert's record (struct cr_audit_review). seq 0: not reviewed (open). */
struct cr_audit_report_review {
    int64_t seq;            /* the review's own record; 0: open */
    int64_t time_ms;        /* when it was reviewed */
    enum cr_audit_finding finding;
    const char *sub, *name; /* who reviewed it */
    const char *note;
};

/* One alert to review: a record that carries alerts, or (seq 0, alerts
 * CR_AUDIT_ALERT_VOLUME) a user's unusual volume on one UK day. Strings
 * live as long as the report; NULL when the record has none. */
struct cr_audit_report_alert {
    int64_t seq;            /* the record; 0 for a volume alert */
    int64_t time_ms;        /* the record's time; volume: when the UK day
                               began */
    uint32_t alerts;        /* CR_AUDIT_ALERT_* */
    int64_t day;            /* volume: the UK day (days since 1970-01-01) */
    int64_t count;          /* volume: distinct patients that day */
    const char *sub, *name, *org, *role;
    const char *purpose, *reason;
    const char *patient;
    const char *nhs;        /* the person by NHS number, when the record
                               names no patient of this node's */
    enum cr_audit_action action;
    enum cr_audit_outcome outcome;
    int status;
    const char *basis, *rule, *supervisor;
    struct cr_audit_report_review review;   /* seq 0: not reviewed */
};

/* Usage in one UK calendar month, or (in cr_audit_report.total) over the
 * whole period. The definitions are in docs/internals/audit.md. */
struct cr_audit_report_usage {
    int64_t year;           /* months only */
    unsigned month;         /* 1-12; months only */
    int64_t views;          /* record views */
    int64_t users;          /* distinct users (agent sub) with a view */
    int64_t care_plan_views;
    int64_t care_plan_views_emergency;  /* ... by emergency services */
    int64_t views_by_setting[CR_AUDIT_SETTING__COUNT];
};

struct cr_audit_report_state;   /* private: the counting state */

/* A report: made by cr_audit_report_create, fed records with
 * cr_audit_report_add, completed by cr_audit_report_finish; then read the
 * fields (valid until cr_audit_report_destroy) or render it. Computing a
 * report reads nothing and writes nothing: the I/O is in report_read.c.
 * One thread at a time. */
struct cr_audit_report {
    struct cr_audit_report_opts opts;   /* as given (org copied), the
                                           threshold resolved */
    int64_t nrecords;       /* records in the period (and organisation) */
    int64_t nunreadable;    /* records skipped: not a record this version
                               reads (cr_audit_report_skip) */
    /* after finish: */
    struct cr_audit_report_alert *alerts;   /* records with alerts, by seq */
    size_t nalerts;
    size_t nreviewed;                       /* ... of which reviewed */
    struct cr_audit_report_alert *volume;   /* unusual volume, by day then
                                               user */
    size_t nvolume;
    size_t nvolume_reviewed;                /* ... of which reviewed */
    struct cr_audit_report_usage *months;   /* every month from the first
                                               to the last, in order */
    size_t nmonths;
    struct cr_audit_report_usage total;
    struct cr_audit_report_state *st;
};

/* A new, empty report. CR_EINVAL when until is not after since, or they
 * are more than 100 years apart (both set); CR_ENOMEM. Destroy it with
 * cr_audit_report_destroy. */
cr_rc
cr_audit_report_create(const struct cr_audit_report_opts *opts,
                       struct cr_audit_report **out, struct cr_err *err);

/* Count record 'rec' (number 'seq'). Records outside the period or of
 * other organisations are passed over, except that a review (action
 * review) of the organisation is noted whenever it was made, so an alert
 * of the period reviewed after it shows as reviewed; records may come in
 * any order. When one alert was reviewed twice (which the API refuses),
 * the first review counts. Strings are copied as needed. CR_ENOMEM (the
 * report is then unusable but can be destroyed). */
cr_rc
cr_audit_report_add(struct cr_audit_report *r, int64_t seq,
                    const struct cr_audit_rec *rec, struct cr_err *err);

/* Count a record that could not be read (nunreadable). */
void
cr_audit_report_skip(struct cr_audit_report *r);

/* The setting of the organisation with ODS code 'org' (never NULL or ""),
 * asked once per organisation by cr_audit_report_finish. Return UNKNOWN
 * when it cannot be told. */
typedef enum cr_audit_setting (*cr_audit_setting_fn)(void *ctx,
                                                     const char *org);

/* Complete the report: settings of the organisations seen (through
 * 'setting', which may be NULL: every one UNKNOWN), views by setting and
 * by emergency services, unusual volume, months, and alerts in order with
 * their reviews.
 * Call once, after the last add. CR_ENOMEM. */
cr_rc
cr_audit_report_finish(struct cr_audit_report *r, cr_audit_setting_fn setting,
                       void *ctx, struct cr_err *err);

/* Free the report. NULL is a no-op. */
void
cr_audit_report_destroy(struct cr_audit_report *r);

/* Append the report as text for a person (the command line): period,
 * alerts, unusual volume, usage by month, views by care setting. Times in
 * UK local time. Errors stick in out->rc and are returned. */
cr_rc
cr_audit_report_text(const struct cr_audit_report *r, struct cr_buf *out);

/* Append the report as a FHIR R4 Parameters resource (docs/api.md):
 * parameters since, until, organization, volumeThreshold, records,
 * unreadable, one 'alert' per alert, one 'month' per month and one
 * 'total'. Errors stick in out->rc and are returned. */
cr_rc
cr_audit_report_fhir(const struct cr_audit_report *r, struct cr_buf *out);

/* Make the report of the store in directory 'dir', opened read-only (a
 * running node may go on writing; nothing is created or changed): every
 * audit record through cr_store_audit_scan_dir, and each organisation's
 * setting from its Organization resource, found by its ODS identifier.
 * CR_ENOTFOUND when 'dir' holds no store; CR_EIO, CR_ENOMEM. */
cr_rc
cr_audit_report_dir(const char *dir, const struct cr_audit_report_opts *opts,
                    struct cr_audit_report **out, struct cr_err *err);

/* As cr_audit_report_dir on an open store (the node's API): the records
 * of the organisation and period through the table's indexes, and the
 * organisation's reviews made after the period. Thread-safe. */
cr_rc
cr_audit_report_store(struct cr_store *s,
                      const struct cr_audit_report_opts *opts,
                      struct cr_audit_report **out, struct cr_err *err);

#endif
