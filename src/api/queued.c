/* queued.c: a store write run on the writer thread while its request
 * waits, suspended, so no server thread waits on the disk. Shared by
 * every handler that writes (crud.c, bundle.c, careplan_op.c,
 * audit_review_op.c). Depends on http/, store/. */
#include "api/apiInt.h"

static void
queued_done(void *arg, cr_rc rc)
{
    struct cr_api_queued *q = arg;

    *q->rc = rc;
    cr_http_resume(q->pending);
}

bool
cr_api_queue_write(struct ctx *x, struct cr_api_queued *q, cr_rc *rc,
                   struct cr_err *err, cr_store_txn_fn fn, void *ctx,
                   cr_http_cont_fn cont, void *arg)
{
    cr_rc qrc;

    q->rc = rc;
    q->pending = cr_http_suspend(x->req, cont, arg);
    if (q->pending == NULL) {
        *rc = cr_store_write(x->api->store, fn, ctx, err);
        return false;
    }
    q->a.fn = fn;
    q->a.ctx = ctx;
    q->a.err = err;
    q->a.done = queued_done;
    q->a.done_ctx = q;
    /* Once queued, the job may finish (and set *rc) before this call
     * returns: only a refusal to queue may be written here. */
    qrc = cr_store_write_async(x->api->store, &q->a);
    if (qrc != CR_OK) {
        *rc = qrc;
        cr_http_resume(q->pending);   /* not queued: answer the error */
    }
    return true;
}
