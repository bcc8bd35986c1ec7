/* capability.c: GET /fhir/metadata, the CapabilityStatement.
 *
 * Lists exactly what this node serves: the supported resource types and,
 * for each, the interactions that work. Built from the same tables the
 * router uses, so it cannot claim a type the server refuses; AuditEvent
 * (the audit log, read and search only) is described by auditevent.c,
 * which serves it. Depends on fhir/ and core/. */
#include "api/apiInt.h"

#include "core/clock.h"
#include "fhir/fhir.h"
#include "fhir/search.h"

void
cr_api_metadata(struct ctx *x)
{
    struct cr_buf b = cr_buf_make(0);
    const char *const *types;
    size_t n, i;
    char now[32];

    types = cr_fhir_supported_types(&n);
    cr_clock_instant(cr_clock_now_ms(), now, sizeof now);
    now[10] = '\0';   /* a date is enough */
    cr_buf_adds(&b, "{\"resourceType\":\"CapabilityStatement\","
                    "\"status\":\"active\",\"date\":\"");
    cr_buf_adds(&b, now);
    cr_buf_adds(&b, "\",\"publisher\":\"carerecord\",\"kind\":\"instance\","
                    "\"software\":{\"name\":\"carerecord\",\"version\":\""
                    CR_VERSION "\"},\"implementation\":{\"description\":"
                    "\"carerecord shared care record node ");
    cr_buf_add_json_esc(&b, cr_store_node_id(x->api->store),
                        strlen(cr_store_node_id(x->api->store)));
    cr_buf_adds(&b, "\",\"url\":");
    cr_buf_add_json_str(&b, x->api->base_url);
    cr_buf_adds(&b, "},\"fhirVersion\":\"4.0.1\",\"format\":["
                    "\"application/fhir+json\",\"json\"],"
                    "\"rest\":[{\"mode\":\"server\",\"security\":{"
                    "\"description\":\"Every request except GET /metadata "
                    "needs Authorization: Bearer <JWT> signed with EdDSA by "
                    "a key this node trusts; see docs/api.md.\"},"
                    "\"resource\":[");
    for (i = 0; i < n; i++) {
        const struct cr_fhir_sp *const *sps;
        size_t nsp = cr_fhir_search_params(types[i], &sps), k;
        bool any_ref = false;

        if (i)
            cr_buf_addc(&b, ',');
        cr_buf_adds(&b, "{\"type\":\"");
        cr_buf_adds(&b, types[i]);
        cr_buf_adds(&b, "\",\"interaction\":["
                        "{\"code\":\"read\"},{\"code\":\"vread\"},"
                        "{\"code\":\"update\"},{\"code\":\"delete\"},"
                        "{\"code\":\"history-instance\"},"
                        "{\"code\":\"history-type\"},{\"code\":\"create\"},"
                        "{\"code\":\"search-type\"}],"
                        "\"versioning\":\"versioned-update\","
                        "\"readHistory\":true,\"updateCreate\":true,"
                        "\"conditionalCreate\":true,"
                        "\"conditionalUpdate\":true,"
                        "\"conditionalDelete\":\"single\"");
        for (k = 0; k < nsp; k++)
            if (sps[k]->type == CR_SP_REFERENCE)
                any_ref = true;
        if (any_ref) {
            /* what _include and _revinclude take */
            bool first = true;
            cr_buf_adds(&b, ",\"searchInclude\":[\"*\"");
            for (k = 0; k < nsp; k++)
                if (sps[k]->type == CR_SP_REFERENCE) {
                    cr_buf_addf(&b, ",\"%s:%s\"", types[i], sps[k]->code);
                    first = false;
                }
            (void)first;
            cr_buf_addc(&b, ']');
        }
        cr_buf_adds(&b, ",\"searchParam\":[");
        for (k = 0; k < nsp; k++) {
            static const char *const tn[] = {
                "token", "string", "date", "reference", "number",
                "quantity", "uri", "token", "date" };
            if (k)
                cr_buf_addc(&b, ',');
            cr_buf_adds(&b, "{\"name\":");
            cr_buf_add_json_str(&b, sps[k]->code);
            if (sps[k]->url) {
                cr_buf_adds(&b, ",\"definition\":");
                cr_buf_add_json_str(&b, sps[k]->url);
            }
            cr_buf_addf(&b, ",\"type\":\"%s\"}", tn[sps[k]->type]);
        }
        cr_buf_addc(&b, ']');
        if (strcmp(types[i], "Patient") == 0)
            cr_buf_adds(&b, ",\"operation\":[{\"name\":\"everything\","
                            "\"definition\":\"http://hl7.org/fhir/"
                            "OperationDefinition/Patient-everything\"},"
                            /* the patient index (mpi_op.c, docs/mpi.md) */
                            "{\"name\":\"match\",\"definition\":"
                            "\"http://hl7.org/fhir/OperationDefinition/"
                            "Patient-match\"},"
                            "{\"name\":\"merge\",\"definition\":"
                            "\"http://hl7.org/fhir/OperationDefinition/"
                            "Patient-merge\"},"
                            "{\"name\":\"unmerge\",\"definition\":"
                            "\"https://carerecord.example/"
                            "OperationDefinition/Patient-unmerge\"},"
                            "{\"name\":\"ihe-pix\",\"definition\":"
                            "\"https://profiles.ihe.net/ITI/PIXm/"
                            "OperationDefinition/IHE.PIXm.pix\"},"
                            "{\"name\":\"mpi-review\",\"definition\":"
                            "\"https://carerecord.example/"
                            "OperationDefinition/Patient-mpi-review\"},"
                            "{\"name\":\"care-plan\",\"definition\":"
                            "\"https://carerecord.example/"
                            "OperationDefinition/care-plan\","
                            "\"documentation\":\"Save a whole Universal "
                            "Care Plan (a Bundle of type collection) "
                            "atomically; the rules are checked together\"},"
                            "{\"name\":\"care-plan-summary\","
                            "\"definition\":\"https://carerecord.example/"
                            "OperationDefinition/care-plan-summary\","
                            "\"documentation\":\"The emergency summary of "
                            "the person's Universal Care Plan: with peers, "
                            "of the plan saved last on any node that holds "
                            "their record\"}]");
        cr_buf_addc(&b, '}');
    }
    /* Not a stored type: the audit log, read-only (auditevent.c). */
    cr_buf_addc(&b, ',');
    cr_api_auditevent_capability(&b);
    cr_buf_adds(&b, "],\"interaction\":[{\"code\":\"transaction\"},"
                    "{\"code\":\"batch\"},"
                    "{\"code\":\"history-system\"}],"
                    "\"operation\":[{\"name\":\"import\",\"definition\":"
                    "\"https://carerecord.example/OperationDefinition/"
                    "import\"},{\"name\":\"audit-report\",\"definition\":"
                    "\"https://carerecord.example/OperationDefinition/"
                    "audit-report\",\"documentation\":\"Alerts to review "
                    "and usage statistics of the caller's organisation; "
                    "tokens with purpose audit only\"},{\"name\":"
                    "\"care-plan-figures\",\"definition\":"
                    "\"https://carerecord.example/OperationDefinition/"
                    "care-plan-figures\",\"documentation\":\"People "
                    "with a Universal Care Plan, plans created and revised "
                    "per month; tokens with purpose audit only\"},{\"name\":"
                    "\"audit-review\",\"definition\":"
                    "\"https://carerecord.example/OperationDefinition/"
                    "audit-review\",\"documentation\":\"POST: record the "
                    "review of an alert (record, or user and day for "
                    "unusual volume; outcome, note) in the "
                    "audit log, once; tokens with purpose audit of the "
                    "organisation whose staff raised it\"}]}]}");
    cr_api_send_buf(x, 200, &b);
}
