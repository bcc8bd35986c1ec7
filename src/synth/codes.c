/* codes.c: the terminology table, condition prevalence definitions and
 * medicine prescribing details. Depends on codes.h. */
#include "synth/codes.h"

#include <string.h>

#define SCT CR_SYS_SCT
#define DMD CR_SYS_DMD
#define LN CR_SYS_LOINC
#define UCP CR_LOCAL "ucp"
#define CEILING CR_LOCAL "ceiling-of-treatment"
#define PATHWAY CR_LOCAL "pathway"

const struct cr_synth_code cr_synth_codes[CR_C_COUNT] = {
    [CR_C_ASTHMA] = { SCT, "195967001", "Asthma" },
    [CR_C_COPD] = { SCT, "13645005", "Chronic obstructive lung disease" },
    [CR_C_HYPERTENSION] = { SCT, "59621000", "Essential hypertension" },
    [CR_C_DIABETES_T2] = { SCT, "44054006", "Type 2 diabetes mellitus" },
    [CR_C_HEART_FAILURE] = { SCT, "84114007", "Heart failure" },
    [CR_C_CKD] = { SCT, "709044004", "Chronic kidney disease" },
    [CR_C_DEMENTIA] = { SCT, "52448006", "Dementia" },
    [CR_C_ALZHEIMER] = { SCT, "26929004", "Alzheimer's disease" },
    [CR_C_SCHIZOPHRENIA] = { SCT, "58214004", "Schizophrenia" },
    [CR_C_BIPOLAR] = { SCT, "13746004", "Bipolar disorder" },
    [CR_C_CA_BREAST] = { SCT, "254837009", "Malignant neoplasm of breast" },
    [CR_C_CA_PROSTATE] = { SCT, "399068003", "Malignant tumor of prostate" },
    [CR_C_CA_LUNG] = { SCT, "93880001", "Primary malignant neoplasm of lung" },
    [CR_C_CA_COLON] = { SCT, "363406005", "Malignant tumor of colon" },

    [CR_C_URTI] = { SCT, "54150009", "Upper respiratory infection" },
    [CR_C_UTI] = { SCT, "68566005", "Urinary tract infectious disease" },
    [CR_C_BACK_PAIN] = { SCT, "279039007", "Low back pain" },
    [CR_C_OTITIS] = { SCT, "65363002", "Otitis media" },
    [CR_C_TONSILLITIS] = { SCT, "90176007", "Tonsillitis" },
    [CR_C_ECZEMA] = { SCT, "43116000", "Eczema" },
    [CR_C_DEPRESSION] = { SCT, "35489007", "Depressive disorder" },
    [CR_C_ANXIETY] = { SCT, "197480006", "Anxiety disorder" },

    [CR_C_CHEST_PAIN] = { SCT, "29857009", "Chest pain" },
    [CR_C_ABDO_PAIN] = { SCT, "21522001", "Abdominal pain" },
    [CR_C_DYSPNOEA] = { SCT, "267036007", "Dyspnea" },
    [CR_C_FALL] = { SCT, "161898004", "Falls" },
    [CR_C_HEADACHE] = { SCT, "25064002", "Headache" },
    [CR_C_FEVER] = { SCT, "386661006", "Fever" },
    [CR_C_SYNCOPE] = { SCT, "271594007", "Syncope" },
    [CR_C_LACERATION] = { SCT, "312608009", "Laceration - injury" },
    [CR_C_PNEUMONIA] = { SCT, "233604007", "Pneumonia" },
    [CR_C_COPD_EXACERBATION] = { SCT, "195951007", "Acute exacerbation of chronic obstructive airways disease" },
    [CR_C_ASTHMA_ATTACK] = { SCT, "266364000", "Asthma attack" },
    [CR_C_HIP_FRACTURE] = { SCT, "5913000", "Fracture of neck of femur" },
    [CR_C_CELLULITIS] = { SCT, "128045006", "Cellulitis" },
    [CR_C_MI] = { SCT, "22298006", "Myocardial infarction" },
    [CR_C_STROKE] = { SCT, "230690007", "Cerebrovascular accident" },
    [CR_C_SEPSIS] = { SCT, "91302008", "Sepsis" },

    [CR_C_ALLERGY_PENICILLIN] = { SCT, "91936005", "Allergy to penicillin" },
    [CR_C_ALLERGY_PEANUT] = { SCT, "91935009", "Allergy to peanut" },
    [CR_C_ALLERGY_LATEX] = { SCT, "300916003", "Latex allergy" },
    [CR_C_ALLERGY_ASPIRIN] = { SCT, "293586001", "Allergy to aspirin" },
    [CR_C_URTICARIA] = { SCT, "126485001", "Urticaria" },
    [CR_C_ANAPHYLAXIS] = { SCT, "39579001", "Anaphylaxis" },
    [CR_C_RASH] = { SCT, "271807003", "Eruption of skin" },
    [CR_C_WHEEZE] = { SCT, "56018004", "Wheezing" },

    [CR_C_CONSULTATION] = { SCT, "11429006", "Consultation" },
    [CR_C_TELEPHONE] = { SCT, "185317003", "Telephone encounter" },
    [CR_C_ED_VISIT] = { SCT, "4525004", "Emergency department patient visit" },
    [CR_C_ADMISSION] = { SCT, "32485007", "Hospital admission" },
    [CR_C_HOME_VISIT] = { SCT, "439708006", "Home visit" },
    [CR_C_DISCHARGE_SUMMARY] = { SCT, "373942005", "Discharge summary" },
    [CR_C_EOL_PLAN] = { SCT, "736373009", "End of life care plan" },
    [CR_C_CARE_PLAN] = { SCT, "734163000", "Care plan" },
    [CR_C_REFERRAL] = { SCT, "3457005", "Patient referral" },

    [CR_C_BP] = { LN, "85354-9", "Blood pressure panel with all children optional" },
    [CR_C_BP_SCT] = { SCT, "75367002", "Blood pressure" },
    [CR_C_SYSTOLIC] = { LN, "8480-6", "Systolic blood pressure" },
    [CR_C_SYSTOLIC_SCT] = { SCT, "271649006", "Systolic blood pressure" },
    [CR_C_DIASTOLIC] = { LN, "8462-4", "Diastolic blood pressure" },
    [CR_C_DIASTOLIC_SCT] = { SCT, "271650006", "Diastolic blood pressure" },
    [CR_C_HBA1C] = { LN, "59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol" },
    [CR_C_EGFR] = { LN, "62238-1", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI)" },
    [CR_C_CREATININE] = { LN, "14682-9", "Creatinine [Moles/volume] in Serum or Plasma" },
    [CR_C_CHOLESTEROL] = { LN, "14647-2", "Cholesterol [Moles/volume] in Serum or Plasma" },
    [CR_C_RENAL_PANEL] = { LN, "24362-6", "Renal function 2000 panel - Serum or Plasma" },
    [CR_C_LIPID_PANEL] = { LN, "24331-1", "Lipid 1996 panel - Serum or Plasma" },

    [CR_C_CPR_YES] = { SCT, "450475007", "For cardiopulmonary resuscitation" },
    [CR_C_CPR_NO] = { SCT, "450476008", "Not for cardiopulmonary resuscitation" },
    [CR_C_CPR_UNKNOWN] = { SCT, "845151000000104", "Not aware of do not attempt cardiopulmonary resuscitation clinical decision" },
    [CR_C_PLACE_HOME] = { SCT, "264362003", "Home" },
    [CR_C_PLACE_HOSPICE] = { SCT, "284546000", "Hospice" },
    [CR_C_PLACE_HOSPITAL] = { SCT, "22232009", "Hospital" },
    [CR_C_PLACE_NURSING_HOME] = { SCT, "42665001", "Nursing home" },
    [CR_C_TEP] = { SCT, "735324008", "Treatment escalation plan" },
    [CR_C_ADRT] = { SCT, "816301000000100", "Has advance decision to refuse treatment (Mental Capacity Act 2005)" },
    [CR_C_LPA] = { SCT, "816361000000101", "Has appointed person with personal welfare lasting power of attorney (Mental Capacity Act 2005)" },
    [CR_C_GSF_A] = { SCT, "845701000000104", "Gold standards framework prognostic indicator stage A (blue) - year plus prognosis" },
    [CR_C_CEILING_FULL] = { CEILING, "full-escalation", "Full escalation of treatment, including intensive care" },
    [CR_C_CEILING_WARD] = { CEILING, "ward-based", "Ward-based treatment; not for intensive care" },
    [CR_C_CEILING_SYMPTOMS] = { CEILING, "symptom-control", "Symptom control and comfort where the person is" },
    [CR_C_UCP_JIC] = { UCP, "just-in-case-medicines", "Just-in-case medicines" },

    [CR_C_USC_REFERRAL] = { PATHWAY, "urgent-suspected-cancer", "Urgent suspected cancer referral" },
    [CR_C_DECISION_TO_TREAT] = { PATHWAY, "decision-to-treat", "Decision to treat" },
    [CR_C_MAMMOGRAPHY] = { SCT, "71651007", "Mammography" },
    [CR_C_COLONOSCOPY] = { SCT, "73761001", "Colonoscopy" },
    [CR_C_CT_CHEST] = { SCT, "169069000", "Computed tomography of chest" },
    [CR_C_PROSTATE_BIOPSY] = { SCT, "65575008", "Biopsy of prostate" },
    [CR_C_BIOPSY] = { SCT, "86273004", "Biopsy" },
    [CR_C_MASTECTOMY] = { SCT, "69031006", "Excision of breast tissue" },
    [CR_C_PROSTATECTOMY] = { SCT, "90470006", "Prostatectomy" },
    [CR_C_LOBECTOMY] = { SCT, "173171007", "Lobectomy of lung" },
    [CR_C_COLECTOMY] = { SCT, "23968004", "Colectomy" },
    [CR_C_CHEMOTHERAPY] = { SCT, "367336001", "Chemotherapy" },
    [CR_C_RADIOTHERAPY] = { SCT, "108290001", "Radiation oncology AND/OR radiotherapy" },

    [CR_C_PATH_REPORT] = { LN, "22637-3", "Pathology report final diagnosis Narrative" },
    [CR_C_IMAGING_REPORT] = { LN, "18748-4", "Diagnostic imaging study" },

    [CR_C_IVF] = { SCT, "52637005", "Test tube ovum fertilization" },
    [CR_C_CHLAMYDIA] = { SCT, "105629000", "Chlamydial infection" },
    [CR_C_GONORRHOEA] = { SCT, "15628003", "Gonorrhea" },

    [CR_C_VAC_6IN1] = { SCT, "871895005", "Bordetella pertussis and Clostridium tetani and Corynebacterium diphtheriae and Haemophilus influenzae type B and Hepatitis B virus and Human poliovirus antigens only vaccine product" },
    [CR_C_VAC_MENB] = { SCT, "1981000221108", "Neisseria meningitidis serogroup B antigen only vaccine product" },
    [CR_C_VAC_ROTA] = { SCT, "1081000221109", "Live attenuated Rotavirus antigen only vaccine product" },
    [CR_C_VAC_PCV] = { SCT, "1801000221105", "Streptococcus pneumoniae capsular polysaccharide antigen conjugated only vaccine product" },
    [CR_C_VAC_HIBMENC] = { SCT, "836500008", "Haemophilus influenzae type B and Neisseria meningitidis serogroup C antigens only vaccine product" },
    [CR_C_VAC_MMR] = { SCT, "871831003", "Measles morbillivirus and Mumps orthorubulavirus and Rubella virus antigens only vaccine product" },
    [CR_C_VAC_MMRV] = { SCT, "871908002", "Human alphaherpesvirus 3 and Measles morbillivirus and Mumps orthorubulavirus and Rubella virus antigens only vaccine product" },
    [CR_C_VAC_4IN1] = { SCT, "871878002", "Bordetella pertussis and Clostridium tetani and Corynebacterium diphtheriae and Human poliovirus antigens only vaccine product" },
    [CR_C_VAC_FLU] = { SCT, "1181000221105", "Influenza virus antigen only vaccine product" },

    [CR_C_MED_SALBUTAMOL] = { DMD, "39113611000001102", "Salbutamol 100micrograms/dose inhaler CFC free" },
    [CR_C_MED_BECLOMETASONE] = { DMD, "35908111000001105", "Beclometasone 100micrograms/dose inhaler CFC free" },
    [CR_C_MED_AMLODIPINE] = { DMD, "319283006", "Amlodipine 5mg tablets" },
    [CR_C_MED_RAMIPRIL] = { DMD, "318902004", "Ramipril 5mg capsules" },
    [CR_C_MED_METFORMIN] = { DMD, "325278007", "Metformin 500mg tablets" },
    [CR_C_MED_ATORVASTATIN] = { DMD, "320029006", "Atorvastatin 10mg tablets" },
    [CR_C_MED_FUROSEMIDE] = { DMD, "317972000", "Furosemide 40mg tablets" },
    [CR_C_MED_OLANZAPINE] = { DMD, "42275511000001103", "Olanzapine 10mg tablets" },
    [CR_C_MED_PREDNISOLONE] = { DMD, "325427002", "Prednisolone 5mg tablets" },
    [CR_C_MED_AMOXICILLIN] = { DMD, "323509004", "Amoxicillin 500mg capsules" },
    [CR_C_MED_PARACETAMOL] = { DMD, "322236009", "Paracetamol 500mg tablets" },
    [CR_C_MED_MIDAZOLAM] = { DMD, "36124911000001107", "Midazolam 10mg/2ml solution for injection ampoules" },
};

/* Relative risk by five-year age band: 0-4, 5-9, ..., 85-89, 90+. The
 * scale is calibrated at run time against the age pyramid so that the
 * population prevalence meets 'target' (people.c). */
const struct cr_synth_cond_def cr_synth_cond_defs[CR_SYNTH_CONDS] = {
    [CR_SYNTH_ASTHMA] = { "asthma", CR_C_ASTHMA, 0.065, false, 2,
        { 0.4f, 1.0f, 1.1f, 1.1f, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1.1f, 1.1f, 1.1f, 1, 1, 1 } },
    [CR_SYNTH_COPD] = { "copd", CR_C_COPD, 0.020, false, 35,
        { 0, 0, 0, 0, 0, 0, 0, 0.2f, 0.5f, 1, 2, 3, 4.5f, 6, 7.5f, 8.5f, 9, 9, 8 } },
    [CR_SYNTH_HYPERTENSION] = { "hypertension", CR_C_HYPERTENSION, 0.140, false, 18,
        { 0, 0, 0, 0.02f, 0.05f, 0.1f, 0.2f, 0.4f, 0.8f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f, 6.5f, 7, 7.5f, 7.5f, 7.5f } },
    [CR_SYNTH_DIABETES] = { "diabetes", CR_C_DIABETES_T2, 0.070, false, 18,
        { 0, 0, 0, 0.02f, 0.1f, 0.2f, 0.3f, 0.5f, 0.8f, 1.2f, 1.8f, 2.5f, 3, 3.5f, 4, 4, 3.8f, 3.5f, 3 } },
    [CR_SYNTH_HEART_FAILURE] = { "heart-failure", CR_C_HEART_FAILURE, 0.010, false, 40,
        { 0, 0, 0, 0, 0, 0, 0, 0, 0.05f, 0.1f, 0.2f, 0.4f, 0.7f, 1.2f, 2, 3.2f, 5, 7, 8 } },
    [CR_SYNTH_CKD] = { "ckd", CR_C_CKD, 0.040, true, 18,
        { 0, 0, 0, 0.05f, 0.05f, 0.05f, 0.1f, 0.15f, 0.2f, 0.3f, 0.5f, 0.8f, 1.2f, 2, 3, 4.5f, 6, 7, 8 } },
    [CR_SYNTH_DEMENTIA] = { "dementia", CR_C_DEMENTIA, 0.008, false, 50,
        { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.01f, 0.03f, 0.06f, 0.12f, 0.25f, 0.6f, 1.3f, 2.6f, 4.5f } },
    [CR_SYNTH_SMI] = { "smi", CR_C_SCHIZOPHRENIA, 0.010, false, 16,
        { 0, 0, 0, 0.5f, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.5f } },
    [CR_SYNTH_CANCER] = { "cancer", CR_C_CA_BREAST, 0.030, false, 0,
        { 0.01f, 0.01f, 0.01f, 0.02f, 0.03f, 0.05f, 0.08f, 0.12f, 0.2f, 0.3f, 0.5f, 0.8f, 1.2f, 1.7f, 2.2f, 2.6f, 3, 3, 3 } },
};

const struct cr_synth_med_def cr_synth_meds[CR_MED_COUNT] = {
    [CR_MED_SALBUTAMOL] = { CR_C_MED_SALBUTAMOL, "Two puffs when required for breathlessness", 200, "dose", 30 },
    [CR_MED_BECLOMETASONE] = { CR_C_MED_BECLOMETASONE, "Two puffs twice a day", 200, "dose", 50 },
    [CR_MED_AMLODIPINE] = { CR_C_MED_AMLODIPINE, "One tablet once a day", 56, "tablet", 56 },
    [CR_MED_RAMIPRIL] = { CR_C_MED_RAMIPRIL, "One capsule once a day", 56, "capsule", 56 },
    [CR_MED_METFORMIN] = { CR_C_MED_METFORMIN, "One tablet twice a day with food", 112, "tablet", 56 },
    [CR_MED_ATORVASTATIN] = { CR_C_MED_ATORVASTATIN, "One tablet at night", 56, "tablet", 56 },
    [CR_MED_FUROSEMIDE] = { CR_C_MED_FUROSEMIDE, "One tablet in the morning", 56, "tablet", 56 },
    [CR_MED_OLANZAPINE] = { CR_C_MED_OLANZAPINE, "One tablet at night", 28, "tablet", 28 },
    [CR_MED_PREDNISOLONE] = { CR_C_MED_PREDNISOLONE, "Eight tablets once a day for five days", 40, "tablet", 5 },
    [CR_MED_AMOXICILLIN] = { CR_C_MED_AMOXICILLIN, "One capsule three times a day for five days", 15, "capsule", 5 },
    [CR_MED_PARACETAMOL] = { CR_C_MED_PARACETAMOL, "One or two tablets up to four times a day", 32, "tablet", 8 },
    [CR_MED_MIDAZOLAM] = { CR_C_MED_MIDAZOLAM, "2.5mg to 5mg subcutaneously when required for agitation", 10, "ampoule", 28 },
};

bool
cr_synth_sctid_valid(const char *id)
{
    static const unsigned char d[10][10] = {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 },
        { 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 }, { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 },
        { 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
        { 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 },
        { 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 }, { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
    };
    static const unsigned char p[8][10] = {
        { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 },
        { 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 }, { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 },
        { 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
        { 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 },
    };
    size_t n, i;
    int c = 0;

    if (id == NULL)
        return false;
    n = strlen(id);
    if (n < 6 || n > 18 || id[0] == '0')
        return false;
    for (i = 0; i < n; i++) {
        int digit = id[n - 1 - i] - '0';
        if (digit < 0 || digit > 9)
            return false;
        c = d[c][p[i % 8][digit]];
    }
    return c == 0;
}
