/* mpiInt.h: private to mpi/: the index object and what its files share. */
#ifndef CR_MPI_INT_H
#define CR_MPI_INT_H

#include "mpi/mpi.h"

#define CR_MPI_PERSON_LEN 80

struct cr_mpi {
    struct cr_store *store;
    struct cr_mpi_config cfg;
};

/* An index row, copied out of the store. */
struct cr_mpi_row {
    bool is_found;
    char id[65];
    char person[CR_MPI_PERSON_LEN];
    char how[16];
    char merged_into[65];
    struct cr_mpi_demo demo;
    double weight;
};

/* Candidate rows, each record once ('skip_id' never). */
struct cr_mpi_cands {
    struct cr_mpi_row *v;
    size_t n, cap;
    const char *skip_id;
    uint32_t *slots;          /* open addressing over v, index + 1 */
    size_t nslots;
};

/* A cr_store_mpi_fn adding the row to a struct cr_mpi_cands (CR_ENOMEM
 * when it cannot). */
cr_rc
cr_mpi_cands_add(void *ctx, const struct cr_store_mpi_row *row);

void
cr_mpi_cands_free(struct cr_mpi_cands *c);

/* The row of 'id' inside a transaction (out->is_found false when none). */
cr_rc
cr_mpi_txn_row(struct cr_store_txn *txn, const char *id,
               struct cr_mpi_row *out, struct cr_err *err);

/* Person keys: "nhs|<number>" or "rec|<id>". */
bool
cr_mpi_is_nhs_person(const char *person);

void
cr_mpi_own_person(const char *id, char out[CR_MPI_PERSON_LEN]);

#endif
