"""Reference facts the rules use, kept as data with the reason for each."""

import re

# Evaluation and management codes (office/outpatient, preventive, hospital, consults, nursing facility,
# home, telephone/online): modifier 25 belongs only on these, and 59 never does.
EM_CODE = re.compile(r"^(992\d\d|993\d\d|994\d\d|99091|9945[3-8]|G0438|G0439|G2012|G2211)$")

# Modifiers that let an NCCI pair with modifier indicator 1 be paid (CMS NCCI policy manual, ch. I):
# distinct procedural service, the X{EPSU} subset, anatomic modifiers, global-surgery modifiers.
NCCI_ASSOCIATED_MODIFIERS = frozenset(
    {
        "59",
        "XE",
        "XP",
        "XS",
        "XU",
        "24",
        "25",
        "27",
        "57",
        "58",
        "78",
        "79",
        "91",
        "E1",
        "E2",
        "E3",
        "E4",
        "FA",
        "F1",
        "F2",
        "F3",
        "F4",
        "F5",
        "F6",
        "F7",
        "F8",
        "F9",
        "TA",
        "T1",
        "T2",
        "T3",
        "T4",
        "T5",
        "T6",
        "T7",
        "T8",
        "T9",
        "LT",
        "RT",
        "LC",
        "LD",
        "LM",
        "RC",
        "RI",
    }
)
X_MODIFIERS = frozenset({"XE", "XP", "XS", "XU"})

# Age and sex conflicts, by ICD-10-CM code prefix (chapter and block structure of the classification):
# (prefix, sex allowed or None, minimum age, maximum age, why)
AGE_SEX_EDITS: list[tuple[str, str | None, int | None, int | None, str]] = [
    ("O", "F", 9, 64, "pregnancy, childbirth and the puerperium (chapter 15)"),
    ("Z3A", "F", 9, 64, "weeks of gestation"),
    ("Z33", "F", 9, 64, "pregnant state"),
    ("Z34", "F", 9, 64, "supervision of normal pregnancy"),
    ("Z36", "F", 9, 64, "antenatal screening"),
    ("Z39", "F", 9, 64, "postpartum care"),
    ("N7", "F", None, None, "inflammatory diseases of female pelvic organs"),
    ("N8", "F", None, None, "noninflammatory disorders of female genital tract"),
    ("N9", "F", None, None, "disorders of the female genital tract"),
    ("C51", "F", None, None, "malignant neoplasm of vulva"),
    ("C52", "F", None, None, "malignant neoplasm of vagina"),
    ("C53", "F", None, None, "malignant neoplasm of cervix uteri"),
    ("C54", "F", None, None, "malignant neoplasm of corpus uteri"),
    ("C56", "F", None, None, "malignant neoplasm of ovary"),
    ("Z01.41", "F", None, None, "routine gynecological examination"),
    ("Z12.4", "F", None, None, "screening for malignant neoplasm of cervix"),
    ("N40", "M", None, None, "benign prostatic hyperplasia"),
    ("N41", "M", None, None, "inflammatory diseases of prostate"),
    ("N42", "M", None, None, "other disorders of prostate"),
    ("N43", "M", None, None, "hydrocele and spermatocele"),
    ("N44", "M", None, None, "noninflammatory disorders of testis"),
    ("N45", "M", None, None, "orchitis and epididymitis"),
    ("N46", "M", None, None, "male infertility"),
    ("C61", "M", None, None, "malignant neoplasm of prostate"),
    ("C62", "M", None, None, "malignant neoplasm of testis"),
    ("Z12.5", "M", None, None, "screening for malignant neoplasm of prostate"),
    ("P", None, 0, 0, "conditions originating in the perinatal period (newborn record)"),
    ("Z38", None, 0, 0, "liveborn infant"),
    ("Z00.11", None, 0, 0, "newborn health examination"),
    ("Z00.12", None, 0, 17, "routine child health examination"),
    ("Z00.0", None, 18, None, "general adult medical examination"),
]
