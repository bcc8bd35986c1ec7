/* setting.c: the care setting of a user's organisation, for usage
 * statistics ("views by care setting", "care plan views by emergency
 * services").
 *
 * A setting is read from the organisation's Organization resource, never
 * from the shape of its ODS code, so the same rule works for synthetic
 * and real data: the first coding of Organization.type that names one. Two
 * systems are understood: carerecord's organisation-kind codes, which
 * `carerecord synth` writes and which a deployment adds to the
 * Organization resources it loads (a real ODS record alone cannot tell an
 * ambulance trust from an acute trust: both are "NHS trust"), and the ODS
 * role RO76 "GP practice", which ODS-derived resources carry. Anything
 * else is "unknown". Depends on jansson, core/. */
#include "audit/audit.h"

#include <jansson.h>
#include <string.h>

#define KIND_SYSTEM "https://carerecord.example/CodeSystem/organisation-kind"
#define ODS_ROLE_SYSTEM                                                    \
    "https://digital.nhs.uk/services/organisation-data-service/CodeSystem/" \
    "ODSOrganisationRole"

static const char *const names[CR_AUDIT_SETTING__COUNT][2] = {
    [CR_AUDIT_SETTING_UNKNOWN] = { "unknown", "Unknown" },
    [CR_AUDIT_SETTING_GP] = { "gp-practice", "GP practice" },
    [CR_AUDIT_SETTING_HOSPITAL] = { "hospital",
                                    "Hospital (acute and specialist)" },
    [CR_AUDIT_SETTING_MENTAL_HEALTH] = { "mental-health", "Mental health" },
    [CR_AUDIT_SETTING_COMMUNITY] = { "community", "Community health" },
    [CR_AUDIT_SETTING_SOCIAL_CARE] = { "social-care", "Social care" },
    [CR_AUDIT_SETTING_CARE_HOME] = { "care-home", "Care home" },
    [CR_AUDIT_SETTING_AMBULANCE] = { "ambulance", "Ambulance service" },
    [CR_AUDIT_SETTING_NHS111] = { "nhs-111", "NHS 111" },
    [CR_AUDIT_SETTING_PATIENT] = { "patient", "Patients (own record)" },
};

/* organisation-kind code -> setting */
static const struct {
    const char *code;
    enum cr_audit_setting setting;
} kinds[] = {
    { "gp-practice", CR_AUDIT_SETTING_GP },
    { "acute-trust", CR_AUDIT_SETTING_HOSPITAL },
    { "specialist-trust", CR_AUDIT_SETTING_HOSPITAL },
    { "mental-health-trust", CR_AUDIT_SETTING_MENTAL_HEALTH },
    { "community-trust", CR_AUDIT_SETTING_COMMUNITY },
    { "council-social-care", CR_AUDIT_SETTING_SOCIAL_CARE },
    { "care-home", CR_AUDIT_SETTING_CARE_HOME },
    { "ambulance-service", CR_AUDIT_SETTING_AMBULANCE },
    { "nhs-111", CR_AUDIT_SETTING_NHS111 },
};

const char *
cr_audit_setting_code(enum cr_audit_setting s)
{
    return (unsigned)s < CR_AUDIT_SETTING__COUNT ? names[s][0] : "";
}

const char *
cr_audit_setting_display(enum cr_audit_setting s)
{
    return (unsigned)s < CR_AUDIT_SETTING__COUNT ? names[s][1] : "";
}

enum cr_audit_setting
cr_audit_setting_of_coding(const char *system, const char *code)
{
    size_t i;

    if (system == NULL || code == NULL)
        return CR_AUDIT_SETTING_UNKNOWN;
    if (strcmp(system, KIND_SYSTEM) == 0) {
        for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(code, kinds[i].code) == 0)
                return kinds[i].setting;
    } else if (strcmp(system, ODS_ROLE_SYSTEM) == 0 &&
               strcmp(code, "RO76") == 0) {
        return CR_AUDIT_SETTING_GP;
    }
    return CR_AUDIT_SETTING_UNKNOWN;
}

enum cr_audit_setting
cr_audit_setting_of_org(const char *json, size_t len)
{
    enum cr_audit_setting found = CR_AUDIT_SETTING_UNKNOWN;
    json_t *root = json ? json_loadb(json, len, 0, NULL) : NULL;
    json_t *type, *cc, *coding;
    size_t i, k;

    if (!json_is_object(root) ||
        !json_is_string(json_object_get(root, "resourceType")) ||
        strcmp(json_string_value(json_object_get(root, "resourceType")),
               "Organization") != 0)
        goto out;
    type = json_object_get(root, "type");
    json_array_foreach(type, i, cc) {
        json_array_foreach(json_object_get(cc, "coding"), k, coding) {
            found = cr_audit_setting_of_coding(
                json_string_value(json_object_get(coding, "system")),
                json_string_value(json_object_get(coding, "code")));
            if (found != CR_AUDIT_SETTING_UNKNOWN)
                goto out;
        }
    }
out:
    json_decref(root);
    return found;
}
