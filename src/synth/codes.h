/* codes.h: every clinical code the generator writes (internal to
 * src/synth).
 *
 * One table holds each coding (system, code, display) once, named by an
 * enum, so a reader can audit the terminology in one place and the unit
 * tests can check every SNOMED CT and dm+d identifier's Verhoeff check
 * digit. Codes marked "unverified" in docs/synth.md were chosen from
 * memory of the published terminologies and not confirmed against a
 * browser. The local code systems under https://carerecord.example/ cover
 * what has no national code we could confirm. Depends on synth.h. */
#ifndef CR_SYNTH_CODES_H
#define CR_SYNTH_CODES_H

#include "synth/synth.h"

#include <stdbool.h>
#include <stdint.h>

#define CR_SYS_SCT "http://snomed.info/sct"
#define CR_SYS_DMD "https://dmd.nhs.uk"
#define CR_SYS_LOINC "http://loinc.org"
#define CR_SYS_UCUM "http://unitsofmeasure.org"
#define CR_SYS_NHS_NUMBER "https://fhir.nhs.uk/Id/nhs-number"
#define CR_SYS_ODS "https://fhir.nhs.uk/Id/ods-organization-code"
#define CR_SYS_SDS_USER "https://fhir.nhs.uk/Id/sds-user-id"
#define CR_SYS_UBRN "https://fhir.nhs.uk/Id/UBRN"
#define CR_SYS_PUBLISHER "https://carerecord.example/publisher"
#define CR_LOCAL "https://carerecord.example/CodeSystem/"
#define CR_PROFILE "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"

struct cr_synth_code {
    const char *system;
    const char *code;
    const char *display;
};

enum cr_synth_code_id {
    /* long-term conditions */
    CR_C_ASTHMA, CR_C_COPD, CR_C_HYPERTENSION, CR_C_DIABETES_T2,
    CR_C_HEART_FAILURE, CR_C_CKD, CR_C_DEMENTIA, CR_C_ALZHEIMER,
    CR_C_SCHIZOPHRENIA, CR_C_BIPOLAR,
    CR_C_CA_BREAST, CR_C_CA_PROSTATE, CR_C_CA_LUNG, CR_C_CA_COLON,
    /* short illnesses seen in general practice */
    CR_C_URTI, CR_C_UTI, CR_C_BACK_PAIN, CR_C_OTITIS, CR_C_TONSILLITIS,
    CR_C_ECZEMA, CR_C_DEPRESSION, CR_C_ANXIETY,
    /* emergency presentations and admission diagnoses */
    CR_C_CHEST_PAIN, CR_C_ABDO_PAIN, CR_C_DYSPNOEA, CR_C_FALL, CR_C_HEADACHE,
    CR_C_FEVER, CR_C_SYNCOPE, CR_C_LACERATION,
    CR_C_PNEUMONIA, CR_C_COPD_EXACERBATION, CR_C_ASTHMA_ATTACK,
    CR_C_HIP_FRACTURE, CR_C_CELLULITIS, CR_C_MI, CR_C_STROKE, CR_C_SEPSIS,
    /* allergies and reactions */
    CR_C_ALLERGY_PENICILLIN, CR_C_ALLERGY_PEANUT, CR_C_ALLERGY_LATEX,
    CR_C_ALLERGY_ASPIRIN, CR_C_URTICARIA, CR_C_ANAPHYLAXIS, CR_C_RASH,
    CR_C_WHEEZE,
    /* encounters, documents, plans */
    CR_C_CONSULTATION, CR_C_TELEPHONE, CR_C_ED_VISIT, CR_C_ADMISSION,
    CR_C_HOME_VISIT, CR_C_DISCHARGE_SUMMARY, CR_C_EOL_PLAN, CR_C_CARE_PLAN,
    CR_C_REFERRAL,
    /* observations */
    CR_C_BP, CR_C_BP_SCT, CR_C_SYSTOLIC, CR_C_SYSTOLIC_SCT, CR_C_DIASTOLIC,
    CR_C_DIASTOLIC_SCT, CR_C_HBA1C, CR_C_EGFR, CR_C_CREATININE,
    CR_C_CHOLESTEROL, CR_C_RENAL_PANEL, CR_C_LIPID_PANEL,
    /* care plan content */
    CR_C_CPR_YES, CR_C_CPR_NO, CR_C_CPR_UNKNOWN,
    CR_C_PLACE_HOME, CR_C_PLACE_HOSPICE, CR_C_PLACE_HOSPITAL,
    CR_C_PLACE_NURSING_HOME,
    CR_C_TEP, CR_C_ADRT, CR_C_LPA, CR_C_GSF_A,
    CR_C_CEILING_FULL, CR_C_CEILING_WARD, CR_C_CEILING_SYMPTOMS,
    CR_C_UCP_JIC,
    /* cancer pathway */
    CR_C_USC_REFERRAL, CR_C_DECISION_TO_TREAT,
    CR_C_MAMMOGRAPHY, CR_C_COLONOSCOPY, CR_C_CT_CHEST, CR_C_PROSTATE_BIOPSY,
    CR_C_BIOPSY, CR_C_MASTECTOMY, CR_C_PROSTATECTOMY, CR_C_LOBECTOMY,
    CR_C_COLECTOMY, CR_C_CHEMOTHERAPY, CR_C_RADIOTHERAPY,
    CR_C_PATH_REPORT, CR_C_IMAGING_REPORT,
    /* legally sensitive items */
    CR_C_IVF, CR_C_CHLAMYDIA, CR_C_GONORRHOEA,
    /* vaccines */
    CR_C_VAC_6IN1, CR_C_VAC_MENB, CR_C_VAC_ROTA, CR_C_VAC_PCV,
    CR_C_VAC_HIBMENC, CR_C_VAC_MMR, CR_C_VAC_MMRV, CR_C_VAC_4IN1,
    CR_C_VAC_FLU,
    /* medicines (dm+d virtual medicinal products) */
    CR_C_MED_SALBUTAMOL, CR_C_MED_BECLOMETASONE, CR_C_MED_AMLODIPINE,
    CR_C_MED_RAMIPRIL, CR_C_MED_METFORMIN, CR_C_MED_ATORVASTATIN,
    CR_C_MED_FUROSEMIDE, CR_C_MED_OLANZAPINE, CR_C_MED_PREDNISOLONE,
    CR_C_MED_AMOXICILLIN, CR_C_MED_PARACETAMOL, CR_C_MED_MIDAZOLAM,
    CR_C_COUNT
};

extern const struct cr_synth_code cr_synth_codes[CR_C_COUNT];

/* A long-term condition: its code, its target prevalence and how the risk
 * rises with age (relative weights per five-year band, 0-4 .. 90+). */
struct cr_synth_cond_def {
    const char *key;             /* "asthma", as in the manifest */
    int code;                    /* enum cr_synth_code_id */
    double target;               /* share of the denominator with it */
    bool is_adults_only;         /* denominator: aged 18+ (else everyone) */
    uint8_t min_age;
    float weight[19];
};

extern const struct cr_synth_cond_def cr_synth_cond_defs[CR_SYNTH_CONDS];

/* A medicine: its dm+d code and how it is prescribed. */
enum cr_synth_med {
    CR_MED_SALBUTAMOL, CR_MED_BECLOMETASONE, CR_MED_AMLODIPINE,
    CR_MED_RAMIPRIL, CR_MED_METFORMIN, CR_MED_ATORVASTATIN,
    CR_MED_FUROSEMIDE, CR_MED_OLANZAPINE, CR_MED_PREDNISOLONE,
    CR_MED_AMOXICILLIN, CR_MED_PARACETAMOL, CR_MED_MIDAZOLAM,
    CR_MED_COUNT
};

struct cr_synth_med_def {
    int code;                    /* enum cr_synth_code_id */
    const char *dosage;          /* dosage instruction text */
    int quantity;                /* per issue */
    const char *unit;            /* "tablet", "dose", ... */
    int days;                    /* days one issue lasts */
};

extern const struct cr_synth_med_def cr_synth_meds[CR_MED_COUNT];

/* True when 'id' is a syntactically valid SNOMED CT identifier: 6 to 18
 * digits, no leading zero, correct Verhoeff check digit. */
bool
cr_synth_sctid_valid(const char *id);

#endif
