/* test_fhir.c: unit tests for src/fhir/: type lookups, the validator (one
 * passing and one failing case per rule, asserting the error's code and
 * location exactly), primitives, NHS numbers, the Patient compartment, and
 * every official HL7 R4 example run through the validator.
 *
 * JSON in these tests is written with single quotes for readability; J()
 * turns them into double quotes before parsing. */
#include "unit.h"

#include "fhir/fhir.h"

#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parse test JSON written with ' for ". The caller json_decref()s it. */
static json_t *
parse_at(const char *text, const char *file, int line)
{
    char *s = strdup(text);
    json_error_t je;
    json_t *j;

    if (s == NULL)
        cr_unit_fail(file, line, "out of memory");
    for (char *p = s; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    j = json_loads(s, JSON_DECODE_ANY, &je);
    free(s);
    if (j == NULL)
        cr_unit_fail(file, line, "bad test JSON: %s at %d: %s", je.text,
                     je.position, text);
    return j;
}

#define J(text) parse_at((text), __FILE__, __LINE__)

static void
ok_at(const char *text, bool any, const char *file, int line)
{
    json_t *j = parse_at(text, file, line);
    struct cr_err err;
    cr_rc rc;

    cr_err_clear(&err);
    rc = any ? cr_fhir_validate_any(j, &err) : cr_fhir_validate(j, &err);
    json_decref(j);
    if (rc != CR_OK)
        cr_unit_fail(file, line, "expected valid, got %s %s at '%s': %s",
                     cr_rc_name(rc), err.code, err.where, err.msg);
}

static void
bad_at(const char *text, cr_rc want_rc, const char *code, const char *where,
       const char *file, int line)
{
    json_t *j = parse_at(text, file, line);
    struct cr_err err;
    cr_rc rc;

    cr_err_clear(&err);
    rc = cr_fhir_validate(j, &err);
    json_decref(j);
    if (rc != want_rc || strcmp(err.code, code) != 0 ||
        strcmp(err.where, where) != 0)
        cr_unit_fail(file, line,
                     "expected %s %s at '%s', got %s %s at '%s': %s",
                     cr_rc_name(want_rc), code, where, cr_rc_name(rc),
                     err.code, err.where, err.msg);
    if (err.msg[0] == '\0' || err.rc != rc)
        cr_unit_fail(file, line, "error without a message or rc");
}

#define OK(text) ok_at((text), false, __FILE__, __LINE__)
#define OK_ANY(text) ok_at((text), true, __FILE__, __LINE__)
#define BAD(text, code, where)                                             \
    bad_at((text), CR_EINVAL, (code), (where), __FILE__, __LINE__)

/* A valid Observation with room for one more element at the end. */
#define OBS "{'resourceType':'Observation','status':'final'," \
            "'code':{'text':'weight'}"

TEST(resource_types)
{
    CHECK(cr_fhir_is_resource_type("Patient"));
    CHECK(cr_fhir_is_resource_type("Bundle"));
    CHECK(cr_fhir_is_resource_type("AuditEvent"));
    CHECK(cr_fhir_is_resource_type("Account"));
    CHECK(cr_fhir_is_resource_type("VisionPrescription"));
    CHECK(cr_fhir_is_resource_type("Parameters"));
    CHECK(!cr_fhir_is_resource_type("Resource"));
    CHECK(!cr_fhir_is_resource_type("DomainResource"));
    CHECK(!cr_fhir_is_resource_type("patient"));
    CHECK(!cr_fhir_is_resource_type("HumanName"));
    CHECK(!cr_fhir_is_resource_type("Patient.contact"));
    CHECK(!cr_fhir_is_resource_type(""));
    CHECK(!cr_fhir_is_resource_type(NULL));
}

TEST(supported_types)
{
    static const char *const want[] = {
        "Patient", "Practitioner", "PractitionerRole", "Organization",
        "Location", "Encounter", "EpisodeOfCare", "Condition",
        "AllergyIntolerance", "Medication", "MedicationRequest",
        "MedicationStatement", "Observation", "DiagnosticReport",
        "DocumentReference", "Composition", "Procedure", "Immunization",
        "CarePlan", "Goal", "Consent", "Flag", "RelatedPerson",
        "Appointment", "Slot", "Schedule", "ServiceRequest",
        "Communication", "Questionnaire", "QuestionnaireResponse",
        "Provenance",
    };
    size_t n = 0;
    const char *const *list = cr_fhir_supported_types(&n);

    CHECK_EQ_INT(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; i++) {
        CHECK(cr_fhir_is_resource_type(list[i]));
        CHECK(cr_fhir_is_supported_type(list[i]));
        if (i > 0)
            CHECK(strcmp(list[i - 1], list[i]) < 0);
    }
    for (size_t i = 0; i < n; i++)
        CHECK(cr_fhir_is_supported_type(want[i]));
    CHECK(!cr_fhir_is_supported_type("AuditEvent"));
    CHECK(!cr_fhir_is_supported_type("Bundle"));
    CHECK(!cr_fhir_is_supported_type("Account"));
    CHECK(!cr_fhir_is_supported_type("patient"));
    CHECK(!cr_fhir_is_supported_type(NULL));
}

TEST(element_lookup)
{
    struct cr_fhir_element el;

    CHECK_EQ_INT(cr_fhir_element("Patient", "birthDate", &el), CR_OK);
    CHECK_EQ_STR(el.type, "date");
    CHECK_EQ_INT(el.min, 0);
    CHECK(!el.is_array);
    CHECK_EQ_INT(cr_fhir_element("Patient", "name", &el), CR_OK);
    CHECK_EQ_STR(el.type, "HumanName");
    CHECK(el.is_array);
    CHECK_EQ_INT(cr_fhir_element("Patient", "id", &el), CR_OK);
    CHECK_EQ_STR(el.type, "id");
    CHECK_EQ_INT(cr_fhir_element("Patient", "contact.id", &el), CR_OK);
    CHECK_EQ_STR(el.type, "string");
    CHECK_EQ_INT(cr_fhir_element("Patient", "contact", &el), CR_OK);
    CHECK_EQ_STR(el.type, "Patient.contact");
    CHECK_EQ_INT(cr_fhir_element("Patient.contact", "name.given", &el),
                 CR_OK);
    CHECK_EQ_STR(el.type, "string");
    CHECK(el.is_array);
    CHECK_EQ_INT(cr_fhir_element("Patient", "link.other", &el), CR_OK);
    CHECK_EQ_STR(el.type, "Reference");
    CHECK_EQ_INT(el.min, 1);
    /* Choice variants. */
    CHECK_EQ_INT(cr_fhir_element("Observation", "valueQuantity.value", &el),
                 CR_OK);
    CHECK_EQ_STR(el.type, "decimal");
    CHECK_EQ_INT(cr_fhir_element("Observation", "valueQuantity", &el),
                 CR_OK);
    CHECK(el.is_choice);
    CHECK_EQ_INT(cr_fhir_element("Observation", "value", &el),
                 CR_ENOTFOUND);
    CHECK_EQ_INT(cr_fhir_element("Observation", "value[x]", &el),
                 CR_ENOTFOUND);
    CHECK_EQ_INT(cr_fhir_element("Extension", "valueBase64Binary", &el),
                 CR_OK);
    CHECK_EQ_STR(el.type, "base64Binary");
    /* Content references resolve to the referenced backbone. */
    CHECK_EQ_INT(cr_fhir_element("Questionnaire", "item.item", &el), CR_OK);
    CHECK_EQ_STR(el.type, "Questionnaire.item");
    CHECK_EQ_INT(cr_fhir_element("Questionnaire", "item.item.item.linkId",
                                 &el),
                 CR_OK);
    CHECK_EQ_INT(el.min, 1);
    CHECK_EQ_INT(cr_fhir_element("Bundle", "entry.link", &el), CR_OK);
    CHECK_EQ_STR(el.type, "Bundle.link");
    /* Backbones declared as Element inside datatypes. */
    CHECK_EQ_INT(cr_fhir_element("Timing", "repeat.boundsPeriod", &el),
                 CR_OK);
    CHECK_EQ_STR(el.type, "Period");
    /* Resources inside resources. */
    CHECK_EQ_INT(cr_fhir_element("Patient", "contained", &el), CR_OK);
    CHECK_EQ_STR(el.type, "Resource");
    /* SimpleQuantity forbids the comparator. */
    CHECK_EQ_INT(cr_fhir_element("Range", "low", &el), CR_OK);
    CHECK_EQ_STR(el.type, "SimpleQuantity");
    CHECK_EQ_INT(cr_fhir_element("Range", "low.comparator", &el), CR_OK);
    CHECK(el.is_prohibited);
    CHECK_EQ_INT(cr_fhir_element("Quantity", "comparator", &el), CR_OK);
    CHECK(!el.is_prohibited);
    CHECK_EQ_INT(cr_fhir_element("Patient", "nmae", &el), CR_ENOTFOUND);
    CHECK_EQ_INT(cr_fhir_element("Patient", "birthDate.x", &el),
                 CR_ENOTFOUND);
    CHECK_EQ_INT(cr_fhir_element("Nothing", "id", &el), CR_ENOTFOUND);
    CHECK_EQ_INT(cr_fhir_element(NULL, "id", &el), CR_ENOTFOUND);
}

TEST(validate_minimal)
{
    OK("{'resourceType':'Patient'}");
    OK("{'resourceType':'Patient','id':'abc','gender':'female',"
       "'birthDate':'1970-01-01','active':true}");
    OK(OBS "}");
}

TEST(validate_resource_type)
{
    json_t *j;
    struct cr_err err;

    BAD("{'id':'x'}", "required", "resourceType");
    BAD("{'resourceType':7}", "structure", "resourceType");
    BAD("{'resourceType':'Foo'}", "structure", "resourceType");
    BAD("{'resourceType':'patient'}", "structure", "resourceType");
    BAD("{'resourceType':'Resource'}", "structure", "resourceType");
    BAD("['Patient']", "structure", "");
    BAD("'Patient'", "structure", "");
    bad_at("{'resourceType':'AuditEvent'}", CR_EUNSUPPORTED,
           "not-supported", "resourceType", __FILE__, __LINE__);
    bad_at("{'resourceType':'Bundle','type':'collection'}", CR_EUNSUPPORTED,
           "not-supported", "resourceType", __FILE__, __LINE__);
    /* validate_any accepts every R4 type. */
    OK_ANY("{'resourceType':'Bundle','type':'collection'}");
    OK_ANY("{'resourceType':'Bundle','type':'collection','entry':["
           "{'resource':{'resourceType':'Patient','id':'a'}}]}");
    j = J("{'resourceType':'Bundle','type':'collection','entry':["
          "{'resource':{'resourceType':'Patient','nmae':'a'}}]}");
    CHECK_EQ_INT(cr_fhir_validate_any(j, &err), CR_EINVAL);
    CHECK_EQ_STR(err.where, "Bundle.entry[0].resource.nmae");
    json_decref(j);
    /* NULL and a NULL err are fine. */
    CHECK_EQ_INT(cr_fhir_validate(NULL, NULL), CR_EINVAL);
    j = J("{'resourceType':'Patient','x':1}");
    CHECK_EQ_INT(cr_fhir_validate(j, NULL), CR_EINVAL);
    json_decref(j);
}

TEST(validate_resource_type_only_at_root)
{
    OK("{'resourceType':'Patient','contact':[{'gender':'male'}]}");
    BAD("{'resourceType':'Patient','contact':[{'resourceType':'Patient'}]}",
        "structure", "Patient.contact[0].resourceType");
    BAD("{'resourceType':'Patient','name':[{'resourceType':'HumanName'}]}",
        "structure", "Patient.name[0].resourceType");
    /* ...unless the type has an element of that name. */
    OK_ANY("{'resourceType':'ExampleScenario','status':'draft','instance':"
           "[{'resourceId':'a','resourceType':'Patient'}]}");
}

TEST(validate_unknown_element)
{
    OK("{'resourceType':'Patient','name':[{'family':'Smith'}]}");
    BAD("{'resourceType':'Patient','nmae':[{'family':'Smith'}]}",
        "structure", "Patient.nmae");
    BAD("{'resourceType':'Patient','name':[{'fmaily':'Smith'}]}",
        "structure", "Patient.name[0].fmaily");
    BAD("{'resourceType':'Patient','name':[{'family':'A'},{'given':['B'],"
        "'x':1}]}",
        "structure", "Patient.name[1].x");
    /* Elements of other types are unknown here. */
    BAD("{'resourceType':'Patient','status':'final'}", "structure",
        "Patient.status");
    /* The [x] spelling is not JSON. */
    BAD(OBS ",'value[x]':'a'}", "structure", "Observation.value[x]");
}

TEST(validate_choice)
{
    OK(OBS ",'valueString':'heavy'}");
    OK(OBS ",'valueQuantity':{'value':72.5,'unit':'kg'}}");
    OK(OBS ",'effectivePeriod':{'start':'2020-01-01'},"
           "'valueBoolean':false}");
    OK("{'resourceType':'Patient','deceasedDateTime':'2020-01-01'}");
    BAD(OBS ",'valueQuantity':{'value':1},'valueString':'a'}", "structure",
        "Observation.valueString");
    BAD(OBS ",'valueFoo':'a'}", "structure", "Observation.valueFoo");
    BAD(OBS ",'valueHumanName':{'family':'a'}}", "structure",
        "Observation.valueHumanName");
    BAD("{'resourceType':'Patient','deceasedBoolean':true,"
        "'deceasedDateTime':'2020'}",
        "structure", "Patient.deceasedDateTime");
    /* The variant's own type is checked. */
    BAD(OBS ",'valueBoolean':'yes'}", "structure",
        "Observation.valueBoolean");
    /* A required choice. */
    OK("{'resourceType':'MedicationRequest','status':'active','intent':"
       "'order','subject':{'reference':'Patient/a'},"
       "'medicationCodeableConcept':{'text':'aspirin'}}");
    BAD("{'resourceType':'MedicationRequest','status':'active','intent':"
        "'order','subject':{'reference':'Patient/a'}}",
        "required", "MedicationRequest.medication[x]");
    /* Choices in datatypes, and the extension sibling of a variant. */
    OK(OBS ",'extension':[{'url':'http://x','valueCode':'a'}]}");
    BAD(OBS ",'extension':[{'url':'http://x','valueCode':'a',"
            "'valueString':'b'}]}",
        "structure", "Observation.extension[0].valueString");
    OK(OBS ",'valueString':'a','_valueString':{'id':'x'}}");
    BAD(OBS ",'_valueString':{'id':'x'},'valueBoolean':true}", "structure",
        "Observation.valueBoolean");
}

TEST(validate_cardinality_arrays)
{
    OK("{'resourceType':'Patient','name':[{'given':['A','B']}]}");
    BAD("{'resourceType':'Patient','name':{'family':'A'}}", "structure",
        "Patient.name");
    BAD("{'resourceType':'Patient','name':[{'given':'A'}]}", "structure",
        "Patient.name[0].given");
    BAD("{'resourceType':'Patient','gender':['male']}", "structure",
        "Patient.gender");
    BAD("{'resourceType':'Patient','maritalStatus':[{'text':'x'}]}",
        "structure", "Patient.maritalStatus");
    /* Complex values must be objects. */
    BAD("{'resourceType':'Patient','maritalStatus':'married'}", "structure",
        "Patient.maritalStatus");
    BAD("{'resourceType':'Patient','name':['Smith']}", "structure",
        "Patient.name[0]");
}

TEST(validate_required)
{
    OK("{'resourceType':'Patient','communication':[{'language':"
       "{'text':'en'}}]}");
    BAD("{'resourceType':'Observation','code':{'text':'x'}}", "required",
        "Observation.status");
    BAD("{'resourceType':'Observation','status':'final'}", "required",
        "Observation.code");
    BAD("{'resourceType':'Patient','communication':[{'preferred':true}]}",
        "required", "Patient.communication[0].language");
    BAD("{'resourceType':'Patient','link':[{'type':'seealso'}]}",
        "required", "Patient.link[0].other");
    BAD(OBS ",'extension':[{'valueString':'a'}]}", "required",
        "Observation.extension[0].url");
    /* A primitive present only as its extension satisfies min 1. */
    OK("{'resourceType':'Observation','_status':{'extension':[{'url':"
       "'http://hl7.org/fhir/StructureDefinition/data-absent-reason',"
       "'valueCode':'unknown'}]},'code':{'text':'x'}}");
}

TEST(validate_no_null_or_empty)
{
    BAD("{'resourceType':'Patient','gender':null}", "structure",
        "Patient.gender");
    BAD("{'resourceType':'Patient','gender':''}", "value", "Patient.gender");
    BAD("{'resourceType':'Patient','maritalStatus':{}}", "structure",
        "Patient.maritalStatus");
    BAD("{'resourceType':'Patient','name':[]}", "structure", "Patient.name");
    BAD("{'resourceType':'Patient','name':[null]}", "structure",
        "Patient.name[0]");
    BAD("{'resourceType':'Patient','name':[{}]}", "structure",
        "Patient.name[0]");
    BAD("{'resourceType':'Patient','name':[{'given':['A',null]}]}",
        "structure", "Patient.name[0].given[1]");
    BAD("{'resourceType':'Patient','name':[{'given':['A','']}]}", "value",
        "Patient.name[0].given[1]");
    BAD("{'resourceType':'Patient','contained':[]}", "structure",
        "Patient.contained");
}

TEST(validate_primitive_extensions)
{
    OK("{'resourceType':'Patient','birthDate':'1970-01-01','_birthDate':"
       "{'extension':[{'url':'http://x','valueTime':'10:00:00'}]}}");
    OK("{'resourceType':'Patient','_birthDate':{'id':'b1'}}");
    /* Arrays match one to one, null where one side has nothing. */
    OK("{'resourceType':'Patient','name':[{'given':['A','B'],"
       "'_given':[null,{'id':'g2'}]}]}");
    OK("{'resourceType':'Patient','name':[{'given':['A',null],"
       "'_given':[null,{'extension':[{'url':'http://x','valueCode':'x'}]}]"
       "}]}");
    OK("{'resourceType':'Patient','name':[{'_given':[{'id':'g1'}]}]}");
    BAD("{'resourceType':'Patient','_birthDate':[{'id':'b1'}]}",
        "structure", "Patient.birthDate");
    BAD("{'resourceType':'Patient','_birthDate':'x'}", "structure",
        "Patient.birthDate");
    BAD("{'resourceType':'Patient','_birthDate':{'value':'1970'}}",
        "structure", "Patient.birthDate.value");
    BAD("{'resourceType':'Patient','_birthDate':{}}", "structure",
        "Patient.birthDate");
    BAD("{'resourceType':'Patient','_birthDate':{'id':7}}", "structure",
        "Patient.birthDate.id");
    BAD("{'resourceType':'Patient','_birthDate':{'extension':[{'url':"
        "'http://x','valueDate':'1970-02-30'}]}}",
        "value", "Patient.birthDate.extension[0].valueDate");
    BAD("{'resourceType':'Patient','name':[{'given':['A','B'],"
        "'_given':[null]}]}",
        "structure", "Patient.name[0].given");
    BAD("{'resourceType':'Patient','name':[{'given':['A'],"
        "'_given':{'id':'g'}}]}",
        "structure", "Patient.name[0].given");
    BAD("{'resourceType':'Patient','name':[{'given':['A',null],"
        "'_given':[null,null]}]}",
        "structure", "Patient.name[0].given[1]");
    BAD("{'resourceType':'Patient','name':[{'given':['A'],"
        "'_given':['x']}]}",
        "structure", "Patient.name[0].given[0]");
    /* Only primitives have '_' siblings, and only known ones. */
    BAD("{'resourceType':'Patient','_name':[{'id':'n'}]}", "structure",
        "Patient._name");
    BAD("{'resourceType':'Patient','_nmae':{'id':'n'}}", "structure",
        "Patient._nmae");
}

TEST(validate_json_types)
{
    OK("{'resourceType':'Patient','active':false,'multipleBirthInteger':2}");
    OK("{'resourceType':'Appointment','status':'booked','minutesDuration':"
       "15,'priority':0,'participant':[{'status':'accepted','actor':"
       "{'reference':'Patient/a'}}]}");
    OK(OBS ",'valueQuantity':{'value':72}}");
    OK(OBS ",'valueQuantity':{'value':-0.5e3}}");
    OK(OBS ",'valueInteger':-2147483648}");
    BAD("{'resourceType':'Patient','active':'true'}", "structure",
        "Patient.active");
    BAD("{'resourceType':'Patient','active':1}", "structure",
        "Patient.active");
    BAD("{'resourceType':'Patient','multipleBirthInteger':1.5}", "structure",
        "Patient.multipleBirthInteger");
    BAD("{'resourceType':'Patient','multipleBirthInteger':'2'}", "structure",
        "Patient.multipleBirthInteger");
    BAD("{'resourceType':'Patient','multipleBirthInteger':2147483648}",
        "value", "Patient.multipleBirthInteger");
    BAD("{'resourceType':'Appointment','status':'booked','minutesDuration':"
        "0,'participant':[{'status':'accepted'}]}",
        "value", "Appointment.minutesDuration");
    BAD("{'resourceType':'Appointment','status':'booked','priority':-1,"
        "'participant':[{'status':'accepted'}]}",
        "value", "Appointment.priority");
    BAD(OBS ",'valueQuantity':{'value':'72'}}", "structure",
        "Observation.valueQuantity.value");
    BAD("{'resourceType':'Patient','gender':1}", "structure",
        "Patient.gender");
    BAD("{'resourceType':'Patient','birthDate':19700101}", "structure",
        "Patient.birthDate");
}

TEST(validate_formats)
{
    /* id */
    OK("{'resourceType':'Patient','id':'A-1.b'}");
    BAD("{'resourceType':'Patient','id':'a b'}", "value", "Patient.id");
    BAD("{'resourceType':'Patient','id':'a_b'}", "value", "Patient.id");
    BAD("{'resourceType':'Patient','id':'a1234567890123456789012345678901"
        "234567890123456789012345678901234'}",
        "value", "Patient.id");
    OK("{'resourceType':'Patient','id':'a1234567890123456789012345678901"
       "23456789012345678901234567890123'}");
    /* Element ids are strings, not ids. */
    OK("{'resourceType':'Patient','name':[{'id':'n 1','family':'A'}]}");
    /* date */
    OK("{'resourceType':'Patient','birthDate':'2024-02-29'}");
    OK("{'resourceType':'Patient','birthDate':'2000-02'}");
    OK("{'resourceType':'Patient','birthDate':'1900'}");
    BAD("{'resourceType':'Patient','birthDate':'2023-02-29'}", "value",
        "Patient.birthDate");
    BAD("{'resourceType':'Patient','birthDate':'1900-02-29'}", "value",
        "Patient.birthDate");
    BAD("{'resourceType':'Patient','birthDate':'2023-13-01'}", "value",
        "Patient.birthDate");
    BAD("{'resourceType':'Patient','birthDate':'2023-04-31'}", "value",
        "Patient.birthDate");
    BAD("{'resourceType':'Patient','birthDate':'2023-1-1'}", "value",
        "Patient.birthDate");
    BAD("{'resourceType':'Patient','birthDate':'0000'}", "value",
        "Patient.birthDate");
    BAD("{'resourceType':'Patient','birthDate':'1970-01-01T00:00:00Z'}",
        "value", "Patient.birthDate");
    /* dateTime */
    OK(OBS ",'effectiveDateTime':'2023-01-01T10:00:00+01:00'}");
    OK(OBS ",'effectiveDateTime':'2023-01-01T10:00:00.123Z'}");
    OK(OBS ",'effectiveDateTime':'2023-06'}");
    BAD(OBS ",'effectiveDateTime':'2023-01-01T10:00:00'}", "value",
        "Observation.effectiveDateTime");
    BAD(OBS ",'effectiveDateTime':'2023-01-01T24:00:00Z'}", "value",
        "Observation.effectiveDateTime");
    BAD(OBS ",'effectiveDateTime':'2023-01-01T10:00Z'}", "value",
        "Observation.effectiveDateTime");
    BAD(OBS ",'effectiveDateTime':'2023-01T10:00:00Z'}", "value",
        "Observation.effectiveDateTime");
    BAD(OBS ",'effectiveDateTime':'2023-01-01T10:00:00+15:00'}", "value",
        "Observation.effectiveDateTime");
    /* instant */
    OK(OBS ",'issued':'2023-01-01T10:00:00Z'}");
    BAD(OBS ",'issued':'2023-01-01'}", "value", "Observation.issued");
    /* time */
    OK(OBS ",'valueTime':'23:59:60'}");
    BAD(OBS ",'valueTime':'24:00:00'}", "value", "Observation.valueTime");
    BAD(OBS ",'valueTime':'10:00'}", "value", "Observation.valueTime");
    /* code */
    OK("{'resourceType':'Patient','gender':'male'}");
    OK(OBS ",'valueCodeableConcept':{'coding':[{'code':'a b'}]}}");
    BAD("{'resourceType':'Patient','gender':' male'}", "value",
        "Patient.gender");
    BAD("{'resourceType':'Patient','gender':'male '}", "value",
        "Patient.gender");
    BAD(OBS ",'valueCodeableConcept':{'coding':[{'code':'a  b'}]}}",
        "value", "Observation.valueCodeableConcept.coding[0].code");
    /* uri, url, canonical */
    OK("{'resourceType':'Patient','identifier':[{'system':'http://a/b'}]}");
    BAD("{'resourceType':'Patient','identifier':[{'system':'http://a b'}]}",
        "value", "Patient.identifier[0].system");
    BAD("{'resourceType':'Patient','meta':{'profile':['http://x y']}}",
        "value", "Patient.meta.profile[0]");
    BAD("{'resourceType':'Patient','telecom':[{'extension':[{'url':"
        "'http://x\\ty','valueString':'a'}]}]}",
        "value", "Patient.telecom[0].extension[0].url");
    /* base64Binary */
    OK("{'resourceType':'Patient','photo':[{'data':'aGVsbG8='}]}");
    BAD("{'resourceType':'Patient','photo':[{'data':'aGVsbG8'}]}", "value",
        "Patient.photo[0].data");
    BAD("{'resourceType':'Patient','photo':[{'data':'aGV=bG8='}]}", "value",
        "Patient.photo[0].data");
    /* string: no control characters but tab, CR, LF */
    OK("{'resourceType':'Patient','name':[{'text':'a\\tb\\r\\nc'}]}");
    BAD("{'resourceType':'Patient','name':[{'text':'a\\u0001b'}]}", "value",
        "Patient.name[0].text");
    /* xhtml */
    OK("{'resourceType':'Patient','text':{'status':'generated','div':"
       "'<div xmlns=\\'http://www.w3.org/1999/xhtml\\'>x</div>'}}");
    BAD("{'resourceType':'Patient','text':{'status':'generated','div':"
        "'hello'}}",
        "value", "Patient.text.div");
}

TEST(primitive_strings)
{
#define VP(t, s) cr_fhir_valid_primitive((t), (s), strlen(s))
    CHECK(VP("oid", "urn:oid:1.2.840.10008"));
    CHECK(VP("oid", "urn:oid:2.0"));
    CHECK(!VP("oid", "urn:oid:3.1"));
    CHECK(!VP("oid", "urn:oid:1"));
    CHECK(!VP("oid", "urn:oid:1.02"));
    CHECK(!VP("oid", "1.2.3"));
    CHECK(VP("uuid", "urn:uuid:c757873d-ec9a-4326-a141-556f43239520"));
    CHECK(!VP("uuid", "urn:uuid:C757873D-EC9A-4326-A141-556F43239520"));
    CHECK(!VP("uuid", "c757873d-ec9a-4326-a141-556f43239520"));
    CHECK(!VP("uuid", "urn:uuid:c757873d-ec9a-4326-a141-556f4323952"));
    CHECK(VP("base64Binary", "aGVs bG8h"));
    CHECK(VP("base64Binary", "a+/="));
    CHECK(!VP("base64Binary", "a==="));
    CHECK(!VP("base64Binary", "a-b="));
    CHECK(VP("instant", "2015-02-07T13:28:17.239+02:00"));
    CHECK(!VP("instant", "2015-02-07T13:28:17"));
    CHECK(VP("dateTime", "2017-01-01T00:00:00-14:00"));
    CHECK(VP("dateTime", "2017-01-01T00:00:00+14:00"));
    CHECK(!VP("dateTime", "2017-01-01T00:00:00+14:01"));
    CHECK(!VP("dateTime", "2017-01-01T00:00:00+1400"));
    CHECK(VP("dateTime", "2017-01-01T00:00:00+13:59"));
    CHECK(VP("time", "00:00:00.5"));
    CHECK(!VP("time", "00:00:00."));
    CHECK(VP("code", "a"));
    CHECK(VP("code", "a\nb"));
    CHECK(!VP("code", "a\x01b"));
    CHECK(!VP("code", "a\n\nb"));
    CHECK(VP("boolean", "true"));
    CHECK(!VP("boolean", "True"));
    CHECK(VP("integer", "-2147483648"));
    CHECK(!VP("integer", "2147483648"));
    CHECK(!VP("integer", "01"));
    CHECK(VP("positiveInt", "1"));
    CHECK(!VP("positiveInt", "0"));
    CHECK(VP("unsignedInt", "0"));
    CHECK(!VP("unsignedInt", "-1"));
    CHECK(VP("decimal", "-0.5e10"));
    CHECK(!VP("decimal", "1."));
    CHECK(!VP("decimal", ".5"));
    CHECK(!VP("nosuchtype", "x"));
    CHECK(!VP("HumanName", "x"));
    CHECK(!cr_fhir_valid_primitive(NULL, "x", 1));
    CHECK(!cr_fhir_valid_primitive("string", NULL, 0));
    CHECK(!VP("string", ""));
#undef VP
}

TEST(valid_id)
{
    CHECK(cr_fhir_valid_id("a", 1));
    CHECK(cr_fhir_valid_id("Abc-1.2", 7));
    {
        char id[66];
        memset(id, '7', sizeof id);
        CHECK(cr_fhir_valid_id(id, 64));
        CHECK(!cr_fhir_valid_id(id, 65));
    }
    CHECK(!cr_fhir_valid_id("", 0));
    CHECK(!cr_fhir_valid_id(NULL, 0));
    CHECK(!cr_fhir_valid_id("a/b", 3));
    CHECK(!cr_fhir_valid_id("a_b", 3));
    CHECK(!cr_fhir_valid_id("a b", 3));
    CHECK(!cr_fhir_valid_id("é", strlen("é")));
    /* Only 'len' bytes count. */
    CHECK(cr_fhir_valid_id("ab/", 2));
}

TEST(nhs_number)
{
    CHECK(cr_fhir_nhs_number_valid("9912003888", 10));
    CHECK(cr_fhir_nhs_number_valid("9000000009", 10));
    CHECK(cr_fhir_nhs_number_valid("9476719931", 10));
    CHECK(cr_fhir_nhs_number_valid("9434765919", 10));
    CHECK(!cr_fhir_nhs_number_valid("9912003880", 10));
    CHECK(!cr_fhir_nhs_number_valid("9476719932", 10));
    CHECK(!cr_fhir_nhs_number_valid("991200388", 9));
    CHECK(!cr_fhir_nhs_number_valid("99120038888", 11));
    CHECK(!cr_fhir_nhs_number_valid("991 200 3888", 12));
    CHECK(!cr_fhir_nhs_number_valid("99120038a8", 10));
    CHECK(!cr_fhir_nhs_number_valid(NULL, 10));
    /* 1000000001: weighted sum 10, check 11 - 10 = 1. 000000006x: sum
     * 6 * 2 = 12, check 11 - 1 = 10, which no digit can match. */
    CHECK(cr_fhir_nhs_number_valid("1000000001", 10));
    for (char d = '0'; d <= '9'; d++) {
        char s[11] = "000000006";
        s[9] = d;
        s[10] = '\0';
        CHECK(!cr_fhir_nhs_number_valid(s, 10));
    }
}

TEST(validate_nhs_number_identifier)
{
    OK("{'resourceType':'Patient','identifier':[{'system':"
       "'https://fhir.nhs.uk/Id/nhs-number','value':'9912003888'}]}");
    /* Other systems are not checked. */
    OK("{'resourceType':'Patient','identifier':[{'system':'http://x',"
       "'value':'123'}]}");
    BAD("{'resourceType':'Patient','identifier':[{'system':"
        "'https://fhir.nhs.uk/Id/nhs-number','value':'9912003880'}]}",
        "value", "Patient.identifier[0].value");
    BAD("{'resourceType':'Patient','identifier':[{'system':'http://x',"
        "'value':'1'},{'system':'https://fhir.nhs.uk/Id/nhs-number',"
        "'value':'991 200 3888'}]}",
        "value", "Patient.identifier[1].value");
    /* Anywhere an Identifier occurs. */
    BAD(OBS ",'subject':{'identifier':{'system':"
            "'https://fhir.nhs.uk/Id/nhs-number','value':'1234567890'}}}",
        "value", "Observation.subject.identifier.value");
}

TEST(validate_contained)
{
    OK("{'resourceType':'Patient','contained':[{'resourceType':"
       "'Organization','id':'o1','name':'Clinic'}],'managingOrganization':"
       "{'reference':'#o1'}}");
    /* Any R4 type may be contained, even one we do not serve. */
    OK("{'resourceType':'Patient','contained':[{'resourceType':'Basic',"
       "'id':'b','code':{'text':'x'}}]}");
    BAD("{'resourceType':'Patient','contained':[{'resourceType':"
        "'Organization','nmae':'Clinic'}]}",
        "structure", "Patient.contained[0].nmae");
    BAD("{'resourceType':'Patient','contained':[{'resourceType':"
        "'Organization','id':'o'},{'resourceType':'Observation','id':'x',"
        "'code':{'text':'x'}}]}",
        "required", "Patient.contained[1].status");
    BAD("{'resourceType':'Patient','contained':[{'id':'o1'}]}", "required",
        "Patient.contained[0].resourceType");
    BAD("{'resourceType':'Patient','contained':[{'resourceType':'Nope'}]}",
        "structure", "Patient.contained[0].resourceType");
    BAD("{'resourceType':'Patient','contained':[{'resourceType':"
        "'Organization','contained':[{'resourceType':'Organization',"
        "'id':'x'}]}]}",
        "structure", "Patient.contained[0].contained");
    BAD("{'resourceType':'Patient','contained':{'resourceType':"
        "'Organization'}}",
        "structure", "Patient.contained");
}

TEST(validate_simple_quantity)
{
    OK(OBS ",'valueQuantity':{'value':1,'comparator':'<'}}");
    OK(OBS ",'valueRange':{'low':{'value':1}}}");
    BAD(OBS ",'valueRange':{'low':{'value':1,'comparator':'<'}}}",
        "structure", "Observation.valueRange.low.comparator");
}

/* Questionnaire items nest through a content reference; build 'levels'
 * of them. */
static json_t *
nested_questionnaire(int levels)
{
    json_t *q = json_pack("{s:s,s:s}", "resourceType", "Questionnaire",
                          "status", "draft");
    json_t *parent = q;

    for (int i = 0; i < levels; i++) {
        json_t *item = json_pack("{s:s,s:s}", "linkId", "x", "type",
                                 "group");
        json_object_set_new(parent, "item", json_pack("[o]", item));
        parent = item;
    }
    return q;
}

TEST(validate_depth)
{
    struct cr_err err;
    json_t *q;

    q = nested_questionnaire(90);
    CHECK_EQ_INT(cr_fhir_validate(q, &err), CR_OK);
    json_decref(q);
    q = nested_questionnaire(5000);
    cr_err_clear(&err);
    CHECK_EQ_INT(cr_fhir_validate(q, &err), CR_EINVAL);
    CHECK_EQ_STR(err.code, "structure");
    CHECK(strncmp(err.where, "Questionnaire.item[0].item[0].", 30) == 0);
    json_decref(q);
}

TEST(validate_error_message)
{
    json_t *j = J("{'resourceType':'Patient','birthDate':'1970-02-30'}");
    struct cr_err err;

    cr_err_clear(&err);
    CHECK_EQ_INT(cr_fhir_validate(j, &err), CR_EINVAL);
    CHECK_EQ_INT(err.rc, CR_EINVAL);
    CHECK(strstr(err.msg, "1970-02-30") != NULL);
    CHECK(strstr(err.msg, "date") != NULL);
    json_decref(j);
    j = J("{'resourceType':'Patient','nmae':'x'}");
    CHECK_EQ_INT(cr_fhir_validate(j, &err), CR_EINVAL);
    CHECK(strstr(err.msg, "nmae") != NULL);
    CHECK(strstr(err.msg, "Patient") != NULL);
    json_decref(j);
}

/* --- Patient compartment ------------------------------------------------ */

static void
comp_at(const char *text, cr_rc want, const char *want_id, const char *file,
        int line)
{
    json_t *j = parse_at(text, file, line);
    char out[65];
    cr_rc rc = cr_fhir_compartment_patient(j, out, sizeof out);

    json_decref(j);
    if (rc != want)
        cr_unit_fail(file, line, "expected %s, got %s", cr_rc_name(want),
                     cr_rc_name(rc));
    if (want == CR_OK && strcmp(out, want_id) != 0)
        cr_unit_fail(file, line, "expected id '%s', got '%s'", want_id, out);
}

#define COMP(text, rc, id) comp_at((text), (rc), (id), __FILE__, __LINE__)

TEST(compartment)
{
    COMP(OBS ",'subject':{'reference':'Patient/abc'}}", CR_OK, "abc");
    COMP(OBS ",'subject':{'reference':'Patient/abc/_history/2'}}", CR_OK,
         "abc");
    COMP(OBS ",'subject':{'reference':"
             "'https://node.example/fhir/Patient/abc'}}",
         CR_OK, "abc");
    COMP(OBS ",'subject':{'reference':"
             "'https://node.example/fhir/Patient/abc/_history/7'}}",
         CR_OK, "abc");
    /* Subject comes before performer in the definition's order. */
    COMP(OBS ",'performer':[{'reference':'Patient/p2'}],"
             "'subject':{'reference':'Patient/p1'}}",
         CR_OK, "p1");
    COMP(OBS ",'performer':[{'reference':'Practitioner/d'},"
             "{'reference':'Patient/p2'}],'subject':{'reference':"
             "'Group/g'}}",
         CR_OK, "p2");
    COMP(OBS ",'subject':{'reference':'Group/g'}}", CR_ENOTFOUND, "");
    COMP(OBS "}", CR_ENOTFOUND, "");
    COMP(OBS ",'subject':{'reference':'#p'}}", CR_ENOTFOUND, "");
    COMP(OBS ",'subject':{'reference':'urn:uuid:c757873d-ec9a-4326-a141-"
             "556f43239520'}}",
         CR_ENOTFOUND, "");
    COMP(OBS ",'subject':{'identifier':{'system':'https://fhir.nhs.uk/Id/"
             "nhs-number','value':'9912003888'}}}",
         CR_ENOTFOUND, "");
    COMP(OBS ",'subject':{'reference':'Patient/'}}", CR_ENOTFOUND, "");
    COMP(OBS ",'subject':{'reference':'Patient/a/b'}}", CR_ENOTFOUND, "");
    COMP(OBS ",'subject':{'reference':'Patients/a'}}", CR_ENOTFOUND, "");
    /* Backbone paths through arrays. */
    COMP("{'resourceType':'Appointment','participant':[{'actor':"
         "{'reference':'Practitioner/d'}},{'actor':{'reference':"
         "'Patient/x9'}}]}",
         CR_OK, "x9");
    COMP("{'resourceType':'CarePlan','activity':[{'detail':{'performer':"
         "[{'reference':'Patient/q'}]}}]}",
         CR_OK, "q");
    COMP("{'resourceType':'AllergyIntolerance','patient':{'reference':"
         "'Patient/al'}}",
         CR_OK, "al");
    COMP("{'resourceType':'Encounter','subject':{'reference':'Patient/e'}}",
         CR_OK, "e");
    /* Patients: their own id, else link.other. */
    COMP("{'resourceType':'Patient','id':'me','link':[{'other':"
         "{'reference':'Patient/other'},'type':'seealso'}]}",
         CR_OK, "me");
    COMP("{'resourceType':'Patient','link':[{'other':{'reference':"
         "'RelatedPerson/r'},'type':'seealso'},{'other':{'reference':"
         "'Patient/other'},'type':'seealso'}]}",
         CR_OK, "other");
    COMP("{'resourceType':'Patient'}", CR_ENOTFOUND, "");
    /* Types outside the compartment. */
    COMP("{'resourceType':'Practitioner','id':'d'}", CR_ENOTFOUND, "");
    COMP("{'resourceType':'Organization','id':'o'}", CR_ENOTFOUND, "");
    COMP("{'resourceType':'Medication','id':'m'}", CR_ENOTFOUND, "");
    /* Not a resource. */
    COMP("{'id':'x'}", CR_EINVAL, "");
    COMP("{'resourceType':'Nope','subject':{'reference':'Patient/a'}}",
         CR_EINVAL, "");
}

TEST(compartment_out_size)
{
    json_t *j = J(OBS ",'subject':{'reference':'Patient/abcdef'}}");
    char out[7];

    CHECK_EQ_INT(cr_fhir_compartment_patient(j, out, 6), CR_EINVAL);
    CHECK_EQ_INT(cr_fhir_compartment_patient(j, out, 7), CR_OK);
    CHECK_EQ_STR(out, "abcdef");
    CHECK_EQ_INT(cr_fhir_compartment_patient(j, out, 0), CR_EINVAL);
    CHECK_EQ_INT(cr_fhir_compartment_patient(j, NULL, 7), CR_EINVAL);
    CHECK_EQ_INT(cr_fhir_compartment_patient(NULL, out, 7), CR_EINVAL);
    json_decref(j);
}

/* --- The official HL7 R4 examples ---------------------------------------- */

/* Official examples that are invalid per the R4 spec itself. Each is
 * reported by the HL7 Java validator too. */
static const struct {
    const char *file;
    const char *where; /* the error we expect */
} invalid_examples[] = {
    /* Served types: an item of type "display" without its required
     * linkId (Questionnaire.item.linkId is 1..1). */
    { "Questionnaire-qs1.json", "Questionnaire.item[0].item[0].linkId" },
    /* Other types (validate_any): SearchParameter.base is 1..* but these
     * extension search parameters have none. */
    { "SearchParameter-codesystem-extensions-CodeSystem-author.json",
      "SearchParameter.base" },
    { "SearchParameter-codesystem-extensions-CodeSystem-effective.json",
      "SearchParameter.base" },
    { "SearchParameter-codesystem-extensions-CodeSystem-end.json",
      "SearchParameter.base" },
    { "SearchParameter-codesystem-extensions-CodeSystem-keyword.json",
      "SearchParameter.base" },
    { "SearchParameter-codesystem-extensions-CodeSystem-workflow.json",
      "SearchParameter.base" },
    { "SearchParameter-valueset-extensions-ValueSet-author.json",
      "SearchParameter.base" },
    { "SearchParameter-valueset-extensions-ValueSet-effective.json",
      "SearchParameter.base" },
    { "SearchParameter-valueset-extensions-ValueSet-end.json",
      "SearchParameter.base" },
    { "SearchParameter-valueset-extensions-ValueSet-keyword.json",
      "SearchParameter.base" },
    { "SearchParameter-valueset-extensions-ValueSet-workflow.json",
      "SearchParameter.base" },
    /* An id of 66 characters; ids are at most 64. */
    { "SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse"
      "-item-subject.json",
      "SearchParameter.id" },
    /* ImplementationGuide.name is 1..1. */
    { "ImplementationGuide-fhir.json", "ImplementationGuide.name" },
};

static const char *
known_invalid(const char *file)
{
    for (size_t i = 0; i < sizeof invalid_examples / sizeof invalid_examples[0];
         i++) {
        if (strcmp(file, invalid_examples[i].file) == 0)
            return invalid_examples[i].where;
    }
    return NULL;
}

/* The examples directory, or NULL when node_modules is not installed. */
static const char *
examples_dir(void)
{
    return cr_unit_node_package("hl7.fhir.r4.examples");
}

/* Run every <Type>-<id>.json example whose Type is an R4 resource type
 * (and a served one unless 'any') through the validator. */
static void
run_examples(bool any)
{
    const char *dir = examples_dir();
    DIR *d;
    struct dirent *de;
    int n = 0, invalid = 0;

    if (dir == NULL) {
        printf("  (skipped: node_modules/hl7.fhir.r4.examples not found; "
               "run npm ci)\n");
        return;
    }
    d = opendir(dir);
    CHECK(d != NULL);
    while ((de = readdir(d)) != NULL) {
        char type[128], file[PATH_MAX + 256], id[65];
        const char *dash = strchr(de->d_name, '-');
        size_t len = strlen(de->d_name);
        const char *want;
        json_error_t je;
        struct cr_err err;
        json_t *j;
        cr_rc rc;

        if (dash == NULL || len < 6 ||
            strcmp(de->d_name + len - 5, ".json") != 0 ||
            (size_t)(dash - de->d_name) >= sizeof type)
            continue;
        memcpy(type, de->d_name, (size_t)(dash - de->d_name));
        type[dash - de->d_name] = '\0';
        if (!cr_fhir_is_resource_type(type))
            continue;
        if (!any && !cr_fhir_is_supported_type(type))
            continue;
        snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
        j = json_load_file(file, 0, &je);
        if (j == NULL)
            cr_unit_fail(__FILE__, __LINE__, "%s: %s", de->d_name, je.text);
        CHECK_EQ_STR(json_string_value(json_object_get(j, "resourceType")),
                     type);
        cr_err_clear(&err);
        rc = any ? cr_fhir_validate_any(j, &err)
                 : cr_fhir_validate(j, &err);
        want = known_invalid(de->d_name);
        if (want != NULL) {
            if (rc != CR_EINVAL || strcmp(err.where, want) != 0)
                cr_unit_fail(__FILE__, __LINE__,
                             "%s: expected the known error at %s, got %s "
                             "at '%s'",
                             de->d_name, want, cr_rc_name(rc), err.where);
            invalid++;
        } else if (rc != CR_OK) {
            cr_unit_fail(__FILE__, __LINE__, "%s: %s %s at '%s': %s",
                         de->d_name, cr_rc_name(rc), err.code, err.where,
                         err.msg);
        }
        rc = cr_fhir_compartment_patient(j, id, sizeof id);
        CHECK(rc == CR_OK || rc == CR_ENOTFOUND);
        json_decref(j);
        n++;
    }
    closedir(d);
    printf("  %d examples validated (%d known invalid)\n", n, invalid);
    CHECK(n > (any ? 5000 : 250));
}

TEST(official_examples_supported)
{
    run_examples(false);
}

TEST(official_examples_all_types)
{
    run_examples(true);
}

TEST(official_example_compartments)
{
    const char *dir = examples_dir();
    static const struct {
        const char *file;
        cr_rc rc;
        const char *id;
    } cases[] = {
        { "Observation-example.json", CR_OK, "example" },
        { "Patient-example.json", CR_OK, "example" },
        { "Appointment-example.json", CR_OK, "example" },
        { "Encounter-example.json", CR_OK, "example" },
        { "Practitioner-example.json", CR_ENOTFOUND, "" },
        { "Organization-hl7.json", CR_ENOTFOUND, "" },
    };

    if (dir == NULL) {
        printf("  (skipped: node_modules/hl7.fhir.r4.examples not found)\n");
        return;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char file[PATH_MAX + 64], id[65];
        json_error_t je;
        json_t *j;
        cr_rc rc;

        snprintf(file, sizeof file, "%s/%s", dir, cases[i].file);
        j = json_load_file(file, 0, &je);
        CHECK(j != NULL);
        rc = cr_fhir_compartment_patient(j, id, sizeof id);
        json_decref(j);
        CHECK_EQ_INT(rc, cases[i].rc);
        if (rc == CR_OK)
            CHECK_EQ_STR(id, cases[i].id);
    }
}
