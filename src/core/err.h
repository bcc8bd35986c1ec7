/* err.h: result codes and error detail shared by every module.
 *
 * Fallible functions return cr_rc (CR_OK == 0) and, when given a non-NULL
 * struct cr_err, describe what went wrong there: an OperationOutcome issue
 * code, a FHIRPath-style location and a sentence for a person. The HTTP
 * status is chosen from these in one place (api/outcome.c). Depends on
 * nothing. */
#ifndef CR_CORE_ERR_H
#define CR_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum cr_rc {
    CR_OK = 0,
    CR_ENOMEM,       /* allocation failed */
    CR_EINVAL,       /* the caller's input is invalid (400/422) */
    CR_ENOTFOUND,    /* no such thing: an answer, not a fault (404) */
    CR_EGONE,        /* it existed and was deleted (410) */
    CR_ECONFLICT,    /* version conflict or duplicate (409) */
    CR_EPRECOND,     /* a precondition failed: If-Match, If-None-Exist (412) */
    CR_ETOOBIG,      /* input over a configured limit (413) */
    CR_EAUTH,        /* no or bad credentials (401) */
    CR_EFORBIDDEN,   /* authenticated but not allowed (403) */
    CR_EUNSUPPORTED, /* a valid request we do not serve (400/405/406/415) */
    CR_EIO,          /* storage or system failure: our fault (500) */
    CR_EUNAVAILABLE  /* temporarily unable, try again (503) */
} cr_rc;

/* Detail of an error. All fields are NUL-terminated and truncated to fit.
 * 'code' is a FHIR IssueType code ("invalid", "structure", "required",
 * "value", "not-found", "security", ...); 'where' is a FHIRPath expression
 * naming the element at fault, or empty. */
struct cr_err {
    cr_rc rc;
    int http_status;   /* 0: let api/outcome.c derive it from rc */
    char code[32];
    char where[256];
    char msg[512];
};

/* Record an error in 'err' (which may be NULL) and return 'rc', so callers
 * can write 'return cr_err_set(err, CR_EINVAL, "value", path, "...")'.
 * A later call overwrites an earlier one; use cr_err_keep for first-wins. */
cr_rc
cr_err_set(struct cr_err *err, cr_rc rc, const char *code, const char *where,
           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* As cr_err_set, but only if 'err' holds no error yet. Returns 'rc'. */
cr_rc
cr_err_keep(struct cr_err *err, cr_rc rc, const char *code, const char *where,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Clear 'err' to "no error". NULL is a no-op. */
void
cr_err_clear(struct cr_err *err);

/* A short constant name for 'rc' ("CR_EINVAL"), for logs and tests. */
const char *
cr_rc_name(cr_rc rc);

#endif
