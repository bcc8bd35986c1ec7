/* schema.c: the store's tables and their migrations.
 *
 * PRAGMA user_version holds the schema version. Each migration is a step
 * from version N-1 to N run in one transaction; a store written by a newer
 * carerecord is refused rather than guessed at. Depends on SQLite. */
#include "store/storeInt.h"

#include "core/log.h"

#include <stdio.h>

static const char *const migrations[] = {
    /* 1: resources, superseded versions, token index. */
    "CREATE TABLE resources("
    "  type TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,"
    "  last_updated INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0, patient TEXT, org TEXT,"
    "  node TEXT, json BLOB,"
    "  PRIMARY KEY(type, id)) WITHOUT ROWID;"
    "CREATE INDEX resources_patient ON resources(patient, type)"
    "  WHERE patient IS NOT NULL;"
    "CREATE INDEX resources_type_seq ON resources(type, seq);"
    "CREATE UNIQUE INDEX resources_seq ON resources(seq);"
    "CREATE TABLE history("
    "  seq INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,"
    "  version INTEGER NOT NULL, last_updated INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0, patient TEXT, org TEXT,"
    "  node TEXT, json BLOB);"
    "CREATE UNIQUE INDEX history_version ON history(type, id, version);"
    "CREATE INDEX history_type_seq ON history(type, seq);"
    "CREATE TABLE idx_token("
    "  type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,"
    "  system TEXT, code TEXT NOT NULL);"
    "CREATE INDEX idx_token_lookup ON idx_token(type, param, code, system);"
    "CREATE INDEX idx_token_res ON idx_token(type, id);",

    /* 2: one table per kind of search value, each keyed by the resource
     * first (rows are replaced with each version) with an index for the
     * lookups searches make. Rows are rebuilt from the stored resources
     * (reindex, below). */
    "DROP TABLE idx_token;"
    "CREATE TABLE idx_token("
    "  type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,"
    "  system TEXT NOT NULL, code TEXT NOT NULL, text TEXT NOT NULL,"
    "  PRIMARY KEY(type, id, param, system, code, text)) WITHOUT ROWID;"
    "CREATE INDEX idx_token_code ON idx_token(type, param, code, system);"
    "CREATE INDEX idx_token_text ON idx_token(type, param, text);"
    "CREATE TABLE idx_string("
    "  type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,"
    "  norm TEXT NOT NULL, raw TEXT NOT NULL,"
    "  PRIMARY KEY(type, id, param, norm, raw)) WITHOUT ROWID;"
    "CREATE INDEX idx_string_norm ON idx_string(type, param, norm);"
    "CREATE TABLE idx_date("
    "  type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,"
    "  lo INTEGER NOT NULL, hi INTEGER NOT NULL,"
    "  PRIMARY KEY(type, id, param, lo, hi)) WITHOUT ROWID;"
    "CREATE INDEX idx_date_lo ON idx_date(type, param, lo);"
    "CREATE TABLE idx_ref("
    "  type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,"
    "  ref_type TEXT NOT NULL, ref_id TEXT NOT NULL,"
    "  PRIMARY KEY(type, id, param, ref_type, ref_id)) WITHOUT ROWID;"
    "CREATE INDEX idx_ref_target ON idx_ref(ref_id, ref_type, type, param);"
    "CREATE TABLE idx_number("
    "  type TEXT NOT NULL, id TEXT NOT NULL, param TEXT NOT NULL,"
    "  num REAL, lo REAL NOT NULL, hi REAL NOT NULL,"
    "  system TEXT NOT NULL, code TEXT NOT NULL,"
    "  PRIMARY KEY(type, id, param, lo, hi, system, code)) WITHOUT ROWID;"
    "CREATE INDEX idx_number_num ON idx_number(type, param, num);",

    /* 3: resources get integer row ids (rid) and a hash of "Type/id" (h);
     * index rows are keyed by rid and by 64-bit hashes of what searches
     * look up (hash.c), so each row is a few integers instead of repeated
     * text. Large rows leave the WITHOUT ROWID table, as SQLite advises.
     * Rows are rebuilt from the resources (reindex). */
    "CREATE TABLE resources3("
    "  rid INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,"
    "  h INTEGER NOT NULL, version INTEGER NOT NULL,"
    "  last_updated INTEGER NOT NULL, seq INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0, patient TEXT, org TEXT,"
    "  node TEXT, json BLOB, op TEXT);"
    "INSERT INTO resources3(type,id,h,version,last_updated,seq,deleted,"
    "  patient,org,node,json) SELECT type,id,cr_hash(type,id),version,"
    "  last_updated,seq,deleted,patient,org,node,json FROM resources "
    "  ORDER BY seq;"
    /* the interaction that made each version: POST, PUT or DELETE */
    "ALTER TABLE history ADD COLUMN op TEXT;"
    "DROP TABLE resources;"
    "ALTER TABLE resources3 RENAME TO resources;"
    "CREATE UNIQUE INDEX resources_tid ON resources(type, id);"
    "CREATE INDEX resources_h ON resources(h);"
    "CREATE INDEX resources_patient ON resources(patient, type, id)"
    "  WHERE patient IS NOT NULL;"
    "CREATE INDEX resources_type_seq ON resources(type, seq);"
    "CREATE UNIQUE INDEX resources_seq ON resources(seq);"
    "DROP TABLE idx_token; DROP TABLE idx_string; DROP TABLE idx_date;"
    "DROP TABLE idx_ref; DROP TABLE idx_number;"
    /* token and uri: hsc = H(type,param,system,code) (system "" for none),
     * hc = H(type,param,code), hs = H(type,param,system), hp =
     * H(type,param); code for sorting, text for :text */
    "CREATE TABLE ix_token("
    "  rid INTEGER NOT NULL, hsc INTEGER NOT NULL, hc INTEGER NOT NULL,"
    "  hs INTEGER NOT NULL, hp INTEGER NOT NULL, code TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  PRIMARY KEY(rid, hsc, text)) WITHOUT ROWID;"
    "CREATE INDEX ix_token_hsc ON ix_token(hsc);"
    "CREATE INDEX ix_token_hc ON ix_token(hc);"
    /* string: hp = H(type,param) */
    "CREATE TABLE ix_string("
    "  rid INTEGER NOT NULL, hp INTEGER NOT NULL, norm TEXT NOT NULL,"
    "  raw TEXT NOT NULL, PRIMARY KEY(rid, hp, norm, raw)) WITHOUT ROWID;"
    "CREATE INDEX ix_string_norm ON ix_string(hp, norm);"
    "CREATE TABLE ix_date("
    "  rid INTEGER NOT NULL, hp INTEGER NOT NULL, lo INTEGER NOT NULL,"
    "  hi INTEGER NOT NULL, PRIMARY KEY(rid, hp, lo, hi)) WITHOUT ROWID;"
    "CREATE INDEX ix_date_lo ON ix_date(hp, lo);"
    /* reference: ht = H(target type, target id), as resources.h */
    "CREATE TABLE ix_ref("
    "  rid INTEGER NOT NULL, hp INTEGER NOT NULL, ht INTEGER NOT NULL,"
    "  PRIMARY KEY(rid, hp, ht)) WITHOUT ROWID;"
    "CREATE INDEX ix_ref_target ON ix_ref(ht, hp);"
    /* number and quantity: hu = H(unit system, unit code), hcu = H(unit
     * code), 0 when there is no unit */
    "CREATE TABLE ix_number("
    "  rid INTEGER NOT NULL, hp INTEGER NOT NULL, num REAL,"
    "  lo REAL NOT NULL, hi REAL NOT NULL, hu INTEGER NOT NULL,"
    "  hcu INTEGER NOT NULL,"
    "  PRIMARY KEY(rid, hp, lo, hi, hu, hcu)) WITHOUT ROWID;"
    "CREATE INDEX ix_number_num ON ix_number(hp, num);",

    /* 4: the audit log (audit_rows.c): one row per audited request,
     * append-only and hash-chained. 'body' is the record's canonical JSON
     * (audit/), 'hash' = SHA-256(prev_hash || body) in lower-case hex and
     * 'prev_hash' the previous row's hash (64 zeros for the first). The
     * other columns repeat what the body says so reads by patient, agent
     * and time use an index; verify checks they agree with the body. Each
     * index holds the rowid (seq), so rows come out in seq order per key. */
    "CREATE TABLE audit("
    "  seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, patient TEXT,"
    "  principal_sub TEXT, principal_org TEXT, action TEXT, outcome TEXT,"
    "  alerts INTEGER, body TEXT NOT NULL, prev_hash TEXT NOT NULL,"
    "  hash TEXT NOT NULL);"
    "CREATE INDEX audit_patient ON audit(patient) WHERE patient IS NOT NULL;"
    "CREATE INDEX audit_sub ON audit(principal_sub);"
    "CREATE INDEX audit_org ON audit(principal_org);"
    "CREATE INDEX audit_time ON audit(time);",

    /* 5: every audited request appends a row, and each secondary index
     * is one more b-tree page to change and write to the WAL per commit.
     * Only the patient's view of who looked at their record (the common
     * query, and one a patient waits for) keeps its index; reads by
     * agent, organisation or time walk the log backwards by seq (time
     * follows seq), which suits their rare, investigative use. */
    "DROP INDEX IF EXISTS audit_sub;"
    "DROP INDEX IF EXISTS audit_org;"
    "DROP INDEX IF EXISTS audit_time;",
    /* 6: patient identity. 'alias' (alias.c): a resource merged into
     * another, whose references are indexed as references to it; h is
     * H(type, id) as resources.h. The mpi_ tables (mpi_rows.c) are the
     * patient index of mpi/: one row per Patient naming its person, the
     * blocking keys that find candidates (key = H("mpi", text);
     * has_nhs so a record with an NHS number looks only at records
     * without one), the review list of uncertain pairs and reviewers'
     * decisions; pairs are stored with a < b. */
    "CREATE TABLE alias("
    "  h INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,"
    "  to_id TEXT NOT NULL);"
    "CREATE INDEX alias_to ON alias(type, to_id);"
    "CREATE TABLE mpi_record("
    "  id TEXT PRIMARY KEY, person TEXT NOT NULL, nhs TEXT,"
    "  demo TEXT NOT NULL, how TEXT NOT NULL, weight REAL NOT NULL,"
    "  merged_into TEXT, updated INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX mpi_record_person ON mpi_record(person);"
    "CREATE INDEX mpi_record_nhs ON mpi_record(nhs) WHERE nhs IS NOT NULL;"
    "CREATE TABLE mpi_key("
    "  key INTEGER NOT NULL, has_nhs INTEGER NOT NULL, id TEXT NOT NULL,"
    "  PRIMARY KEY(key, has_nhs, id)) WITHOUT ROWID;"
    "CREATE INDEX mpi_key_id ON mpi_key(id);"
    "CREATE TABLE mpi_review("
    "  a TEXT NOT NULL, b TEXT NOT NULL, weight REAL NOT NULL,"
    "  since INTEGER NOT NULL, PRIMARY KEY(a, b)) WITHOUT ROWID;"
    "CREATE INDEX mpi_review_b ON mpi_review(b);"
    "CREATE TABLE mpi_decision("
    "  a TEXT NOT NULL, b TEXT NOT NULL, same INTEGER NOT NULL,"
    "  since INTEGER NOT NULL, PRIMARY KEY(a, b)) WITHOUT ROWID;"
    "CREATE INDEX mpi_decision_b ON mpi_decision(b);",

    /* 7: the audit journal's position (audit/journal.c): the jseq and
     * the journal position just past the last record moved into the
     * audit table, written in the transaction that moves them, so a
     * record is moved exactly once whatever stops the node. One row. */
    "CREATE TABLE audit_journal("
    "  one INTEGER PRIMARY KEY CHECK(one = 1), jseq INTEGER NOT NULL,"
    "  pos INTEGER NOT NULL);",

    /* 8: where each hour of the audit log starts. For every UTC hour
     * (time / 3,600,000) that has records, the seq of the first record
     * appended with a time in it (audit_rows.c keeps it on append; it
     * never changes after). A query from a time T then starts its walk
     * at the smallest such seq of the hours from T's on, instead of the
     * first record of the log. Filled here from the records already
     * there. */
    "CREATE TABLE audit_hour("
    "  hour INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL);"
    "INSERT INTO audit_hour SELECT time / 3600000, min(seq) FROM audit "
    "GROUP BY 1;",
};

#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

/* The version whose index tables cr_store_reindex fills. A later migration
 * that changes the index tables moves this to its own version. */
#define REINDEX_VERSION 3

/* The lookup indexes of the current schema, as in its migrations. A bulk
 * load drops them and builds them again at the end (cr_store_bulk_*):
 * one sorted build costs far less than keeping them up to date row by row
 * with random keys. Every open makes sure they exist, so a load that was
 * interrupted leaves no store without its indexes. */
static const char *const lookup_indexes[][2] = {
    { "resources_h", "CREATE INDEX IF NOT EXISTS resources_h ON "
                     "resources(h)" },
    { "resources_patient", "CREATE INDEX IF NOT EXISTS resources_patient ON "
                           "resources(patient, type, id) WHERE patient IS "
                           "NOT NULL" },
    { "resources_type_seq", "CREATE INDEX IF NOT EXISTS resources_type_seq "
                            "ON resources(type, seq)" },
    /* a source system's searches read only its organisation's rows
     * (cr_search_plan.org) */
    { "resources_org", "CREATE INDEX IF NOT EXISTS resources_org ON "
                       "resources(org, type, id) WHERE org IS NOT NULL" },
    { "ix_token_hsc", "CREATE INDEX IF NOT EXISTS ix_token_hsc ON "
                      "ix_token(hsc)" },
    { "ix_token_hc", "CREATE INDEX IF NOT EXISTS ix_token_hc ON "
                     "ix_token(hc)" },
    { "ix_string_norm", "CREATE INDEX IF NOT EXISTS ix_string_norm ON "
                        "ix_string(hp, norm)" },
    { "ix_date_lo", "CREATE INDEX IF NOT EXISTS ix_date_lo ON "
                    "ix_date(hp, lo)" },
    { "ix_ref_target", "CREATE INDEX IF NOT EXISTS ix_ref_target ON "
                       "ix_ref(ht, hp)" },
    { "ix_number_num", "CREATE INDEX IF NOT EXISTS ix_number_num ON "
                       "ix_number(hp, num)" },
};

#define NLOOKUP ((int)(sizeof lookup_indexes / sizeof lookup_indexes[0]))

cr_rc
cr_store_lookup_indexes(struct conn *c, bool is_create, struct cr_err *err)
{
    char sql[128];
    int i;

    for (i = 0; i < NLOOKUP; i++) {
        if (!is_create)
            snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS %s",
                     lookup_indexes[i][0]);
        if (sqlite3_exec(c->db, is_create ? lookup_indexes[i][1] : sql,
                         NULL, NULL, NULL) != SQLITE_OK)
            return cr_store_sqlerr(c, is_create ? "building an index"
                                                : "dropping an index", err);
    }
    return CR_OK;
}

/* Steps that need more than SQL, run after the SQL of the same version. */
static cr_rc
after_step(struct conn *c, int version, struct cr_err *err)
{
    /* Version 2's rows are superseded by version 3's at once: build only
     * the newest kind. Later migrations (4: the audit table, 5: patient
     * identity) leave the index rows alone, so a store at version 3 is
     * not reindexed again. */
    if (version == REINDEX_VERSION)
        return cr_store_reindex(c, err);
    return CR_OK;
}


cr_rc
cr_store_migrate(struct conn *c, struct cr_err *err)
{
    sqlite3_stmt *st = NULL;
    int version = 0, v;
    char sql[64];

    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) !=
        SQLITE_OK)
        return cr_store_sqlerr(c, "reading the schema version", err);
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > NMIGRATIONS)
        return cr_err_set(err, CR_EIO, "exception", NULL,
                          "the store has schema version %d but this "
                          "carerecord knows only up to %d: use a newer "
                          "carerecord", version, NMIGRATIONS);
    /* An existing store's upgrade may read every row of a table (the
     * audit log's, for version 8): say so before the node goes quiet. */
    if (version > 0 && version < NMIGRATIONS)
        cr_log("info", "store: upgrading %s from schema version %d to %d "
               "(a large store may take minutes)",
               sqlite3_db_filename(c->db, "main"), version, NMIGRATIONS);
    for (v = version; v < NMIGRATIONS; v++) {
        if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
            SQLITE_OK)
            return cr_store_sqlerr(c, "starting a migration", err);
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
        if (sqlite3_exec(c->db, migrations[v], NULL, NULL, NULL) !=
                SQLITE_OK ||
            sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            cr_rc rc = cr_store_sqlerr(c, "migrating the schema", err);
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
        if (after_step(c, v + 1, err) != CR_OK) {
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
            return err ? err->rc : CR_EIO;
        }
        if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return cr_store_sqlerr(c, "committing a migration", err);
    }
    return cr_store_lookup_indexes(c, true, err);
}
