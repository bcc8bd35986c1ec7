/* mpi.h: patient identity, the node's master patient index.
 *
 * Who is this patient? The NHS number is the key: two records with the
 * same NHS number are the same person, two with different NHS numbers
 * never are. Every Patient record on the node has a row in the index
 * (store/store.h, "mpi rows") naming its person: "nhs|<number>" for a
 * record that carries an NHS number, otherwise the person of the record it
 * was linked to on its demographics, or "rec|<its own id>". Local
 * identifiers (hospital numbers...) are found through the Patient's token
 * index and reach the NHS number through the record's person.
 *
 * Records are compared on demographics (family and given name, date of
 * birth, sex, postcode) with Fellegi-Sunter weights: for each field the
 * level of agreement (exact, close, similar, different; missing counts
 * zero) adds log2(m/u), where m is the chance of that level for two
 * records of the same person and u for two records of different people.
 * The sum is compared with three thresholds: at or above 'upper' the
 * records are linked (grade certain); between 'lower' and 'upper' the pair
 * goes to a review list (probable at or above 'probable', else possible);
 * below 'lower' they stay separate. Names are compared with Jaro-Winkler,
 * dates of birth give partial credit for transposed day and month or one
 * wrong digit, postcodes for a one-character slip or the same district.
 * Candidates come from blocking keys (date of birth; Soundex of the family
 * name with the year of birth; postcode with the first initial; Soundex of
 * both names), so a comparison never scans everyone. docs/mpi.md has the
 * table of weights; docs/internals/mpi.md the design.
 *
 * A Patient whose current version has a link of type replaced-by is
 * merged into the record it names: the store indexes every reference to
 * it as a reference to the survivor (cr_store_txn_alias_set), so searches
 * and $everything by the survivor find its data; the stored bytes are not
 * changed and a later version without the link undoes it.
 *
 * The pure functions (similarity, demographics, comparison, keys,
 * configuration) allocate nothing and are thread-safe. struct cr_mpi is
 * read-only once created and may be used from any thread; the cr_mpi_txn_*
 * functions run inside a store write transaction (the writer thread).
 * Depends on store/, fhir/, core/ and jansson. */
#ifndef CR_MPI_MPI_H
#define CR_MPI_MPI_H

#include "core/err.h"
#include "store/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- similarity ------------------------------------------------------ */

/* The Jaro-Winkler similarity of two strings (bytes compared as they
 * are), 0 (nothing in common) to 1 (equal), with the usual prefix scale
 * 0.1 over at most four leading characters, applied when the Jaro
 * similarity is above 0.7. Two empty strings give 1; one empty 0. NULL
 * counts as empty. Strings longer than 64 bytes are compared on their
 * first 64. */
double
cr_mpi_jaro_winkler(const char *a, const char *b);

/* The American Soundex code of 'name' (letters only; anything else is
 * skipped): its first letter in upper case and three digits, "R163" for
 * Robert, into out[5]. "" when 'name' has no letter. */
void
cr_mpi_soundex(const char *name, char out[5]);

/* ---- demographics ---------------------------------------------------- */

/* What the MPI compares, normalised: names folded to the letters a-z
 * (accents removed, spaces, hyphens and apostrophes dropped), the
 * postcode in upper case without spaces, dates as numbers. An empty
 * string or 0 means missing. */
struct cr_mpi_demo {
    char nhs[11];          /* NHS number, ten digits */
    char family[48];
    char given[48];        /* the first given name */
    int birth_y, birth_m, birth_d;   /* 0 when missing (or partial) */
    char sex;              /* 'm', 'f', 'o'; 0 when missing or unknown */
    char postcode[9];      /* "E11AA" */
};

/* Fill 'out' from a parsed Patient: the official name (else the usual,
 * else the first that is not old or maiden), birthDate, gender, the
 * postcode of the home address (else the first address), the first
 * NHS number identifier. Anything absent or unusable is left missing.
 * NULL 'patient' gives an empty record. */
void
cr_mpi_demo_from_patient(const json_t *patient, struct cr_mpi_demo *out);

/* The compact text form of 'd' the index stores (at most
 * CR_MPI_DEMO_TEXT bytes with its NUL), and back. Decoding text that is
 * not such a form gives a record with whatever fields parse. */
#define CR_MPI_DEMO_TEXT 160

void
cr_mpi_demo_encode(const struct cr_mpi_demo *d, char out[CR_MPI_DEMO_TEXT]);

void
cr_mpi_demo_decode(const char *text, struct cr_mpi_demo *out);

/* The blocking keys of 'd': up to CR_MPI_MAX_KEYS strings (each under
 * CR_MPI_KEY_LEN bytes) written to 'out'; returns how many. Records that
 * share a key are compared; records that share none never are. */
#define CR_MPI_MAX_KEYS 4
#define CR_MPI_KEY_LEN 40

size_t
cr_mpi_block_keys(const struct cr_mpi_demo *d,
                  char out[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN]);

/* The keys to look candidates up by: those of cr_mpi_block_keys, less
 * the names-only key when the record has a date of birth and a postcode
 * (its other keys find what that key would, and names alone make the
 * largest blocks). Same contract otherwise. */
size_t
cr_mpi_query_keys(const struct cr_mpi_demo *d,
                  char out[CR_MPI_MAX_KEYS][CR_MPI_KEY_LEN]);

/* ---- scoring --------------------------------------------------------- */

enum cr_mpi_field {
    CR_MPI_FAMILY,
    CR_MPI_GIVEN,
    CR_MPI_BIRTH,
    CR_MPI_SEX,
    CR_MPI_POSTCODE,
    CR_MPI_NFIELDS
};

/* Levels of agreement of one field. Not every field has every level: sex
 * has only EXACT and DIFFERENT. MISSING (either side) weighs 0. */
enum cr_mpi_level {
    CR_MPI_EXACT,          /* equal */
    CR_MPI_CLOSE,          /* names: Jaro-Winkler >= name_close; birth:
                              day and month transposed; postcode: one
                              character different or two swapped */
    CR_MPI_SIMILAR,        /* names: >= name_similar, or an initial that
                              agrees; birth: one digit different (or the
                              same year and month when a date is
                              partial); postcode: the same district */
    CR_MPI_DIFFERENT,
    CR_MPI_NLEVELS,
    CR_MPI_MISSING = -1
};

/* m and u of one level of one field; a level with m == 0 does not occur
 * for that field. */
struct cr_mpi_mu {
    double m, u;
};

/* The scoring configuration. */
struct cr_mpi_config {
    struct cr_mpi_mu mu[CR_MPI_NFIELDS][CR_MPI_NLEVELS];
    double upper;          /* link at or above (grade certain) */
    double probable;       /* probable at or above (else possible) */
    double lower;          /* review at or above; separate below */
    double name_close;     /* Jaro-Winkler for CLOSE */
    double name_similar;   /* Jaro-Winkler for SIMILAR */
    int max_block;         /* candidates read per blocking key */
};

/* The compiled-in defaults (docs/mpi.md has them as a table). */
void
cr_mpi_config_default(struct cr_mpi_config *out);

/* Build a configuration from the defaults and the node configuration's
 * "mpi" section (NULL: the defaults). Keys: "fields" (an object from
 * field name, "family" "given" "birth_date" "sex" "postcode", to an
 * object from level name, "exact" "close" "similar" "different", to
 * {"m": p, "u": p}), "upper", "probable", "lower", "name_close",
 * "name_similar", "max_block". What is given replaces the default.
 * Unknown keys, wrong types and values out of range (probabilities in
 * (0, 1), thresholds with lower <= probable <= upper, Jaro-Winkler
 * levels in (0, 1] with similar <= close, max_block 1..10000) are
 * CR_EINVAL with err->where naming the key ("mpi.fields.family.exact.m").
 * 'section' is only read. */
cr_rc
cr_mpi_config_load(const json_t *section, struct cr_mpi_config *out,
                   struct cr_err *err);

/* The weight of a level: log2(m / u); 0 for MISSING or a level the field
 * does not have. */
double
cr_mpi_level_weight(const struct cr_mpi_config *cfg, enum cr_mpi_field f,
                    enum cr_mpi_level level);

/* The weight when every field agrees exactly: the scale of scores. */
double
cr_mpi_full_weight(const struct cr_mpi_config *cfg);

/* The level of agreement of field 'f' between 'a' and 'b'. */
enum cr_mpi_level
cr_mpi_compare_field(const struct cr_mpi_config *cfg, enum cr_mpi_field f,
                     const struct cr_mpi_demo *a,
                     const struct cr_mpi_demo *b);

/* How sure a comparison is (the FHIR match-grade codes). */
enum cr_mpi_grade {
    CR_MPI_CERTAIN,        /* same NHS number, or weight >= upper */
    CR_MPI_PROBABLE,       /* probable <= weight < upper */
    CR_MPI_POSSIBLE,       /* lower <= weight < probable */
    CR_MPI_CERTAINLY_NOT,  /* different NHS numbers */
    CR_MPI_NONE            /* weight < lower: not a match */
};

/* "certain", "probable", "possible", "certainly-not"; NULL for NONE. */
const char *
cr_mpi_grade_code(enum cr_mpi_grade g);

struct cr_mpi_score {
    double weight;                         /* the sum of field weights */
    double score;                          /* 0..1: 1 for the same NHS
                                              number, else weight / full
                                              weight, clamped */
    enum cr_mpi_grade grade;
    enum cr_mpi_level level[CR_MPI_NFIELDS];
    double field_weight[CR_MPI_NFIELDS];
};

/* Compare two records. The NHS number decides when both have one (same:
 * certain with score 1, different: certainly-not with score 0; the
 * demographic weight is still filled in); otherwise the weight does. */
void
cr_mpi_compare(const struct cr_mpi_config *cfg, const struct cr_mpi_demo *a,
               const struct cr_mpi_demo *b, struct cr_mpi_score *out);

/* ---- the index --------------------------------------------------------- */

struct cr_mpi;   /* opaque: the index of one store, with its configuration */

/* The index over 's' with configuration 'cfg' (copied; NULL: defaults).
 * If the store holds Patients but no index rows (a store written before
 * the index existed, or loaded without it) they are indexed now. *out is
 * freed with cr_mpi_destroy before the store is closed. */
cr_rc
cr_mpi_create(struct cr_store *s, const struct cr_mpi_config *cfg,
              struct cr_mpi **out, struct cr_err *err);

/* NULL is a no-op. */
void
cr_mpi_destroy(struct cr_mpi *m);

/* The configuration in use. Lives as long as 'm'. */
const struct cr_mpi_config *
cr_mpi_config(const struct cr_mpi *m);

/* The replaced-by link of a parsed Patient: the id of the Patient it
 * names ("Patient/X", or an absolute URL ending so) into out[65], or ""
 * when it has none. CR_EINVAL when it has more than one, or one whose
 * reference is not to a Patient by id. */
cr_rc
cr_mpi_replaced_by(const json_t *patient, char out[65], struct cr_err *err);

/* Inside a write transaction, right after Patient 'id' was written
 * ('patient' its parsed new version) or deleted ('patient' NULL): bring
 * its index row up to date. A replaced-by link that appeared, changed or
 * went merges or unmerges the record (the store's alias; an unmerge also
 * remembers that the two are different people); CR_EINVAL when the link
 * names the record itself, a Patient this store does not hold (or holds
 * deleted), or one merged into this record (a cycle). Then the record is
 * linked: to its NHS number's person, or, without one, to the person of
 * the one candidate graded certain on demographics; candidates graded
 * probable or possible go to the review list; a record with an NHS
 * number also draws in records without one that it matches certainly. A
 * deleted record leaves the index and the review list (its merge stays).
 * Runs on the writer thread; an error undoes the transaction. */
cr_rc
cr_mpi_txn_patient(struct cr_mpi *m, struct cr_store_txn *txn,
                   const char *id, const json_t *patient, int64_t now_ms,
                   struct cr_err *err);

/* One candidate of a match. */
struct cr_mpi_candidate {
    char id[65];                  /* Patient id */
    char person[80];
    struct cr_mpi_score score;
};

/* The records that may be the person 'q' describes, best first (weight,
 * then id), at most 'max' of them: every record with q's NHS number and
 * every blocking candidate graded certain, probable or possible, except
 * records merged into another and records with a different NHS number.
 * Fills out[0..*out_n). Thread-safe (reads on a pooled connection). */
cr_rc
cr_mpi_match(struct cr_mpi *m, const struct cr_mpi_demo *q,
             struct cr_mpi_candidate *out, size_t max, size_t *out_n,
             struct cr_err *err);

/* The person of record 'id' and every record of that person: calls 'fn'
 * for each, the record itself included, in no particular order.
 * CR_ENOTFOUND when 'id' has no index row. Thread-safe. */
typedef cr_rc (*cr_mpi_record_fn)(void *ctx,
                                  const struct cr_store_mpi_row *row);

cr_rc
cr_mpi_person(struct cr_mpi *m, const char *id, cr_mpi_record_fn fn,
              void *ctx, struct cr_err *err);

/* A review decision on the pair (a, b): same person (their people are
 * joined) or different people (remembered, so the pair is never raised
 * or linked again). Either way the pair leaves the review list.
 * CR_ENOTFOUND when either record is not in the index; CR_ECONFLICT when
 * 'is_same' would join two different NHS numbers. Inside a write
 * transaction. */
cr_rc
cr_mpi_txn_decide(struct cr_mpi *m, struct cr_store_txn *txn, const char *a,
                  const char *b, bool is_same, int64_t now_ms,
                  struct cr_err *err);

/* Index every live Patient again from its stored bytes (after a bulk
 * load, or to apply a new configuration): links and review pairs are
 * recomputed; review decisions and merges are kept. 'progress' (may be
 * NULL) is called every few thousand records. */
typedef void (*cr_mpi_progress_fn)(void *ctx, uint64_t done);

cr_rc
cr_mpi_rebuild(struct cr_mpi *m, cr_mpi_progress_fn progress, void *ctx,
               struct cr_err *err);

#endif
