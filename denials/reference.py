"""The one reference for claim adjustment reason codes (CARC), remittance advice remark codes (RARC) and
claim adjustment group codes: plain words, the root-cause category a denial reason hints at, and which
adjustments are denials.

The descriptions are ours, written for a biller reading a remittance; the official lists belong to X12
and we neither copy nor ship them. Deactivated codes stay known because old remits (and reversals of
them) still carry them; the stop date is kept where we know it. A code missing here is never dropped:
its words say so ("CARC 999 (not in our reference)"), so the amount still shows with its code.

Claims reads this through the port in ``claims.remittances.reason_codes`` (claims never imports
denials); ``DenialsConfig.ready`` registers this module there."""

import dataclasses
import datetime


@dataclasses.dataclass(frozen=True)
class RootCause:
    """A denial root-cause category (DESIGN.md's starting map) with the CARCs that typically mean it."""

    key: str
    label: str
    owner: str
    codes: frozenset[str]


@dataclasses.dataclass(frozen=True)
class ReasonCode:
    code: str
    description: str
    category: str = ""  # RootCause.key the code hints at, "" when the map gives none
    deactivated: bool = False
    deactivated_on: datetime.date | None = None  # the stop date, when we know it


def _codes(spec: str) -> frozenset[str]:
    """``"4-12 146"`` → {"4", "5", ..., "12", "146"}: the ranges read as they do in the design table."""
    codes: set[str] = set()
    for part in spec.split():
        first, _, last = part.partition("-")
        codes.update(str(n) for n in range(int(first), int(last or first) + 1))
    return frozenset(codes)


# The starting map from DESIGN.md, kept as data so it can be edited in one place.
ROOT_CAUSES: tuple[RootCause, ...] = (
    RootCause(
        "eligibility", "eligibility / registration", "front desk", _codes("26 27 31 32 33 140 177 200")
    ),
    RootCause(
        "authorization", "authorization / referral", "front desk / scheduling", _codes("39 197 198 243 284")
    ),
    RootCause("coding", "coding", "coding", _codes("4-12 146 181 182 189")),
    RootCause(
        "medical_necessity",
        "medical necessity / coverage",
        "provider / coding",
        _codes("50 55 56 96 119 151 167 204"),
    ),
    RootCause("documentation", "documentation", "provider", _codes("16 163 226 227 250-252")),
    RootCause("timely_filing", "timely filing", "billing", _codes("29")),
    RootCause("duplicate", "duplicate", "billing", _codes("18")),
    RootCause("bundling", "bundling / NCCI", "coding", _codes("97 231 234 236")),
    RootCause(
        "coordination_of_benefits",
        "coordination of benefits / wrong payer",
        "front desk",
        _codes("19-23 109 276"),
    ),
    RootCause(
        "enrollment",
        "provider enrollment / credentialing",
        "credentialing",
        _codes("170 183-185 206-208 242"),
    ),
    RootCause("contractual", "contractual (not a denial)", "", _codes("45 253")),
)

# Who fixes a denial's cause, as the denial record keeps it (one owner each).
OWNER_CHOICES: list[tuple[str, str]] = [
    ("front_desk", "front desk"),
    ("coding", "coding"),
    ("provider", "provider"),
    ("billing", "billing"),
    ("credentialing", "credentialing"),
]
OTHER = "other"  # the category of a CARC the map gives none (or an unknown CARC)
CATEGORY_CHOICES: list[tuple[str, str]] = [(cause.key, cause.label) for cause in ROOT_CAUSES] + [
    (OTHER, "other / not in the map")
]


@dataclasses.dataclass(frozen=True)
class CategoryDefault:
    """What a category means for the work, before a practice edits its rules: the one owner, whether
    such denials are preventable, and a short "what to do"."""

    owner: str
    preventable: bool
    what_to_do: str


CATEGORY_DEFAULTS: dict[str, CategoryDefault] = {
    "eligibility": CategoryDefault(
        "front_desk",
        True,
        "Verify coverage for the date of service (270/271), fix the patient's coverage or subscriber data, "
        "and send a corrected claim; bill the patient only if there was no coverage.",
    ),
    "authorization": CategoryDefault(
        "front_desk",
        True,
        "Find the authorization or referral number, attach it to the claim and send a corrected claim; "
        "without one, appeal with the records showing the care was urgent.",
    ),
    "coding": CategoryDefault(
        "coding",
        True,
        "Have coding review the procedure, modifiers and diagnosis against the records, then send a "
        "corrected claim with the right codes.",
    ),
    "medical_necessity": CategoryDefault(
        "provider",
        False,
        "Appeal with the clinical notes and a letter of medical necessity from the provider; cite the "
        "payer's coverage policy.",
    ),
    "documentation": CategoryDefault(
        "provider",
        True,
        "Send the records or attachment the payer asked for (or a corrected claim with the missing data).",
    ),
    "timely_filing": CategoryDefault(
        "billing",
        True,
        "Appeal with proof of timely submission: our batch date and the payer's 999/277CA acknowledgments.",
    ),
    "duplicate": CategoryDefault(
        "billing",
        True,
        "Check whether the first claim was paid; if the service really is distinct, send a corrected claim "
        "with the modifier that says so, otherwise close the denial.",
    ),
    "bundling": CategoryDefault(
        "coding",
        True,
        "Check the NCCI edit; where the services were separate, send a corrected claim with modifier "
        "59/XE-XU and the records, otherwise write off.",
    ),
    "coordination_of_benefits": CategoryDefault(
        "front_desk",
        True,
        "Confirm which payer is primary with the patient, update the coverage order and bill the right "
        "payer (with the other payer's EOB).",
    ),
    "enrollment": CategoryDefault(
        "credentialing",
        True,
        "Check the provider's enrollment and NPI with the payer; once fixed, send a corrected claim.",
    ),
    "contractual": CategoryDefault("billing", False, "Not a denial: the contract reduces the amount."),
    OTHER: CategoryDefault(
        "billing",
        False,
        "Read the remark codes and the payer's notes, then choose: corrected claim, appeal or write-off.",
    ),
}


@dataclasses.dataclass(frozen=True)
class RootCauseDefault:
    """The default reading of one CARC (a practice's ``RootCauseRule`` overrides it)."""

    reason_code: str
    category: str
    owner: str
    preventable: bool
    what_to_do: str


def root_cause_default(code: str) -> RootCauseDefault:
    """The reference's reading of a CARC: its category from the map (``other`` when none), and that
    category's owner, preventability and what to do."""
    cause = root_cause(code)
    category = cause.key if cause else OTHER
    default = CATEGORY_DEFAULTS[category]
    return RootCauseDefault(code, category, default.owner, default.preventable, default.what_to_do)


def is_known_carc(code: str) -> bool:
    return code in CARC


def is_known_rarc(code: str) -> bool:
    return code in RARC


GROUPS: dict[str, str] = {
    "CO": "contractual obligation (the practice absorbs it)",
    "PR": "patient responsibility",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
    "CR": "correction or reversal",
}

_CARC_DESCRIPTIONS: dict[str, str] = {
    "1": "deductible",
    "2": "coinsurance",
    "3": "copay",
    "4": "the modifier does not fit the procedure code, or a needed modifier is missing",
    "5": "procedure code or bill type does not fit the place of service",
    "6": "procedure does not fit the patient's age",
    "7": "procedure does not fit the patient's sex",
    "8": "procedure does not fit the provider's type or specialty",
    "9": "diagnosis does not fit the patient's age",
    "10": "diagnosis does not fit the patient's sex",
    "11": "diagnosis does not support the procedure",
    "12": "diagnosis does not fit the provider's type",
    "13": "the patient's date of death is before the date of service",
    "16": "information missing from the claim, or a billing error to fix",
    "18": "duplicate of a claim or service already processed",
    "19": "work-related injury: bill workers' compensation",
    "20": "a liability carrier pays for this injury",
    "21": "a no-fault carrier pays for this injury",
    "22": "another payer may cover this care (coordination of benefits)",
    "23": "reduced by what an earlier payer already decided",
    "24": "covered under a capitation or managed care arrangement",
    "26": "service before the patient's coverage began",
    "27": "coverage had ended before the date of service",
    "29": "filed after the payer's timely-filing limit",
    "31": "the payer cannot find the patient as a member",
    "32": "the payer does not list the patient as an eligible dependent",
    "33": "the member's plan has no dependent coverage",
    "34": "the member's plan does not cover newborns",
    "35": "the patient reached the plan's lifetime maximum",
    "39": "the payer refused the authorization when it was requested",
    "40": "does not qualify as emergency or urgent care",
    "42": "charges above the fee schedule or maximum allowed (replaced by 45)",
    "45": "charge exceeds the fee schedule or contracted amount",
    "49": "routine or preventive service the plan does not cover",
    "50": "the payer does not consider the service medically necessary",
    "51": "pre-existing condition not covered",
    "52": "referring, ordering or rendering provider not eligible for this service (replaced by 183-185)",
    "53": "care by a relative or household member is not covered",
    "54": "more than one physician or assistant is not covered here",
    "55": "the payer considers the procedure experimental or investigational",
    "56": "the payer does not consider the procedure proven effective",
    "57": "information does not support the level, number, length, dosage or supply (replaced by 150-154)",
    "58": "the place of service is not appropriate for this treatment",
    "59": "reduced under multiple or concurrent procedure rules",
    "61": "penalty: no second surgical opinion obtained",
    "62": "authorization absent or exceeded (replaced by 197 and 198)",
    "89": "professional fees taken out of the charges",
    "90": "drug ingredient cost adjustment",
    "94": "paid more than the charge",
    "95": "the plan's procedures were not followed",
    "96": "the plan does not cover these charges",
    "97": "included in the payment for another service (bundled)",
    "100": "paid to the patient, member or responsible party instead",
    "101": "predetermination: what the payer expects to pay once the service is done",
    "104": "managed care withhold",
    "107": "the claim or service this one depends on was not found",
    "109": "not this payer's claim: send it to the right payer or contractor",
    "110": "the bill is dated before the service",
    "111": "covered only when the provider accepts assignment",
    "112": "service not given directly to the patient, or not documented",
    "114": "the FDA has not approved this procedure or product",
    "115": "the procedure was postponed, canceled or delayed",
    "116": "the patient did not sign the advance notice of non-coverage",
    "117": "transport is covered only to the nearest suitable facility",
    "119": "the benefit maximum for this period or occurrence was reached",
    "121": "indemnification adjustment",
    "125": "errors in how the claim was submitted or billed",
    "128": "a newborn's care is paid within the mother's allowance",
    "129": "the earlier processing information looks wrong",
    "130": "fee for submitting the claim",
    "131": "discount negotiated for this claim",
    "132": "demonstration project adjustment",
    "133": "held for further review",
    "134": "technical fees taken out of the charges",
    "135": "interim bills are not processed",
    "136": "the earlier payer's coverage rules were not followed",
    "137": "regulatory surcharge, assessment, allowance or health tax",
    "139": "funding agreement: the member works for the provider",
    "140": "the member's ID and name do not match",
    "142": "the patient's monthly Medicaid share of cost",
    "143": "part of the payment was deferred",
    "144": "incentive adjustment",
    "146": "the diagnosis code was not valid on the date of service",
    "147": "no contracted rate on file, or it has expired",
    "148": "information from another provider was missing or incomplete",
    "149": "the lifetime maximum for this service was reached",
    "150": "the records do not support this level of service",
    "151": "the records do not support this many services, or this often",
    "152": "the records do not support this length of service",
    "153": "the records do not support this dosage",
    "154": "the records do not support this day's supply",
    "155": "the patient refused the service",
    "157": "service needed because of an act of war",
    "158": "service given outside the United States",
    "159": "service needed because of terrorism",
    "160": "injury or illness from an activity the plan excludes",
    "163": "the attachment or records the claim mentions never arrived",
    "164": "the attachment or records arrived after the claim was processed",
    "165": "referral missing or used up",
    "166": "billed after this payer stopped being responsible",
    "167": "the diagnosis is not covered",
    "169": "an alternate benefit was paid instead",
    "170": "not paid when this type of provider performs or bills it",
    "171": "not paid when this type of provider does it in this type of facility",
    "172": "reduced when a provider of this specialty performs or bills it",
    "173": "no physician prescribed the service or equipment",
    "174": "prescribed only after it was delivered",
    "175": "the prescription is incomplete",
    "176": "the prescription is out of date",
    "177": "the patient does not meet the plan's eligibility rules",
    "178": "the patient has not met the spend-down",
    "179": "the patient has not met the waiting period",
    "180": "the patient does not meet the residency rules",
    "181": "the procedure code did not exist, or was retired, on the date of service",
    "182": "the modifier did not exist, or was retired, on the date of service",
    "183": "the referring provider may not refer this service",
    "184": "the prescribing or ordering provider may not order this service",
    "185": "the rendering provider may not perform this service",
    "186": "adjustment for a change in level of care",
    "187": "paid from a consumer spending account",
    "189": "an 'unlisted' or 'not otherwise classified' code was billed where a specific code exists",
    "190": "included in the payment for a skilled nursing facility stay",
    "192": "non-standard code carried over from a paper remittance",
    "193": "after review, the payer keeps its original decision",
    "194": "anesthesia given by the operating surgeon or assistant",
    "195": "refund sent to a payer that was wrongly paid first",
    "197": "prior authorization or notification required and not on file",
    "198": "more than the authorization or notification allowed",
    "199": "the revenue code and procedure code do not match",
    "200": "service during a gap in the patient's coverage",
    "201": "the patient's share under the spend-down",
    "202": "personal comfort or convenience items are not covered",
    "203": "service discontinued or reduced",
    "204": "not covered by the patient's current benefit plan",
    "205": "pharmacy discount card fee",
    "206": "National Provider Identifier (NPI) missing",
    "207": "National Provider Identifier (NPI) not valid",
    "208": "National Provider Identifier (NPI) does not match the payer's records",
    "209": "by regulation or agreement, the provider may not bill the patient for this",
    "210": "the authorization was not obtained in time",
    "211": "drugs not eligible for the rebate program are not covered",
    "212": "administrative surcharges are not covered",
    "213": "breaks the physician self-referral rules",
    "215": "based on a subrogation settlement with a third party",
    "216": "based on a review organization's findings",
    "219": "based on how far the injury extends",
    "222": "more hours, days or units than the contract allows",
    "223": "adjustment required by a federal, state or local law",
    "224": "the patient's identity was compromised (identity theft)",
    "225": "penalty or interest paid by the payer",
    "226": "the payer asked the provider for information it did not get, or not enough",
    "227": "the payer asked the patient or member for information it did not get, or not enough",
    "228": "a previous payer did not get the information it asked for",
    "231": "procedures that cannot both be done on the same day or in the same setting",
    "232": "institutional transfer amount",
    "233": "related to a hospital-acquired condition or a serious preventable event",
    "234": "this procedure is not paid on its own",
    "235": "sales tax",
    "236": "not paid with the other procedure billed for the same day (NCCI)",
    "237": "penalty set by law or regulation",
    "238": "the claim spans covered and uncovered dates: this is the uncovered part",
    "239": "the claim spans covered and uncovered dates: bill them on separate claims",
    "240": "the diagnosis does not fit the patient's birth weight",
    "242": "not given by an in-network or primary care provider",
    "243": "not authorized by an in-network or primary care provider",
    "245": "withheld under a provider performance program",
    "246": "reported only: this code is never paid",
    "247": "deductible for a professional service billed on an institutional claim",
    "250": "the attachment or records received were wrong or incomplete",
    "251": "the attachment or records received lacked what the payer needed",
    "252": "the payer needs an attachment or records to decide this claim",
    "253": "sequestration: the federal payment cut",
    "254": "sent to the dental plan, which has no benefit for it",
    "256": "not payable under the current pricing method",
    "257": "the payer has not decided the claim yet",
    "258": "not covered while the patient is in custody or incarcerated",
    "270": "sent to the medical plan, which has no benefit for it",
    "272": "the plan's coverage guidelines were not met",
    "273": "the plan's coverage guidelines were exceeded",
    "275": "the earlier payer's patient share is not covered",
    "276": "this payer does not cover what the earlier payer denied",
    "279": "not given by a preferred network provider",
    "284": "authorization or notification number missing, not valid or not matching",
    "A1": "claim or service denied (the remark codes say why)",
    "A2": "contractual adjustment (replaced by 45)",
    "A5": "Medicare capital cost outlier amount",
    "A6": "the prior hospital stay or 30-day transfer rule was not met",
    "A8": "the stay could not be assigned a DRG",
    "B1": "visits the plan does not cover",
    "B4": "penalty for filing late",
    "B5": "the plan's coverage guidelines were not met or were exceeded",
    "B7": "the provider was not certified or eligible for this service on this date",
    "B8": "an alternative service was available and should have been used",
    "B9": "the patient is in hospice",
    "B10": "allowed amount reduced because part of the procedure or test was already paid",
    "B11": "the payer sent the claim on to the right payer",
    "B12": "the patient's medical record does not document the service",
    "B13": "possibly paid already in an earlier payment",
    "B14": "the plan pays one visit or consultation per physician per day",
    "B15": "needs a qualifying service that has not been received or covered",
    "B16": "the patient does not qualify as a new patient",
    "B20": "another provider gave part or all of the service",
    "B22": "reduced or adjusted because of the diagnosis",
    "B23": "the lab's CLIA certificate does not cover the procedure",
    "P1": "state-mandated requirement (property and casualty)",
    "W1": "adjusted to the state's workers' compensation fee schedule",
}

# Stop dates we know; None where we know the code was retired but not when.
_CARC_DEACTIVATED: dict[str, datetime.date | None] = {
    "42": datetime.date(2007, 6, 1),
    "52": datetime.date(2006, 2, 1),
    "57": datetime.date(2007, 6, 30),
    "62": datetime.date(2007, 4, 1),
    "A2": datetime.date(2008, 1, 1),
    "B5": None,
}

_RARC_DESCRIPTIONS: dict[str, str] = {
    "M15": "services billed separately were bundled into one payment",
    "M20": "HCPCS code missing or not valid",
    "M51": "procedure code missing, incomplete or not valid",
    "M76": "diagnosis missing, incomplete or not valid",
    "M77": "place of service missing, incomplete or not valid",
    "M80": "not covered in the same session as another service",
    "M86": "denied: the same or a similar procedure was already paid",
    "M119": "National Drug Code (NDC) missing, incomplete or not valid",
    "MA01": "you may appeal this decision",
    "MA04": "the secondary payer needs the primary payer's identity or payment first",
    "MA07": "the claim was also sent on to Medicaid",
    "MA13": "billing the patient for amounts not shown as patient responsibility may bring penalties",
    "MA18": "the claim was also sent on to the patient's supplemental insurer",
    "MA130": "information missing or not valid: send a new, complete claim",
    "N4": "the earlier payer's explanation of benefits is missing or not valid",
    "N20": "not payable with another service given the same day",
    "N30": "the patient is not eligible for this service",
    "N54": "the claim does not match the services that were authorized",
    "N56": "the procedure code does not fit the services billed or the date of service",
    "N95": "this provider type or specialty may not bill this service",
    "N115": "decided under a local coverage determination",
    "N130": "consult plan benefit documents or guidelines for coverage information",
    "N179": "the payer asked the member for more information",
    "N180": "does not meet the criteria for the category it was billed under",
    "N290": "rendering provider's primary identifier missing or not valid",
    "N362": "more days or units than the maximum allowed",
    "N386": "decided under a national coverage determination",
    "N418": "sent to the wrong payer: follow the payer's submission instructions",
    "N425": "excluded from coverage by statute",
    "N432": "adjusted after a recovery audit",
    "N479": "the explanation of benefits needed for coordination of benefits is missing",
    "N517": "send a new claim with the information asked for",
    "N522": "duplicate of a crossover claim already processed or in process",
    "N657": "bill these services with the code meant for them",
    "N702": "decided under a public health emergency policy",
}

# Adjustments that are not denials: the contractual codes of the root-cause map ("contractual (not a
# denial)"), patient shares, an earlier payer's decision, and the reductions, withholds and penalties
# that reduce a paid service rather than refuse it.
NOT_DENIAL = frozenset(
    {"1", "2", "3", "23", "42", "45", "59", "94", "104", "131", "144", "223", "237", "253", "A2"}
)
DENIAL_GROUPS = frozenset({"CO", "PI", "OA"})  # PR shifts the amount to the patient; CR corrects


def root_cause(code: str) -> RootCause | None:
    """The root-cause category a CARC hints at, or None when the map gives none."""
    return next((cause for cause in ROOT_CAUSES if code in cause.codes), None)


CARC: dict[str, ReasonCode] = {
    code: ReasonCode(
        code=code,
        description=description,
        category=cause.key if (cause := root_cause(code)) else "",
        deactivated=code in _CARC_DEACTIVATED,
        deactivated_on=_CARC_DEACTIVATED.get(code),
    )
    for code, description in _CARC_DESCRIPTIONS.items()
}
RARC: dict[str, ReasonCode] = {
    code: ReasonCode(code=code, description=description) for code, description in _RARC_DESCRIPTIONS.items()
}


def _words(entry: ReasonCode) -> str:
    if not entry.deactivated:
        return entry.description
    if entry.deactivated_on is None:
        return f"{entry.description} (deactivated code)"
    return f"{entry.description} (code deactivated {entry.deactivated_on:%m/%d/%Y})"


def carc_words(code: str) -> str:
    """The plain words for a CARC; an unknown code reads "CARC 999 (not in our reference)"."""
    entry = CARC.get(code)
    return _words(entry) if entry else f"CARC {code} (not in our reference)"


def rarc_words(code: str) -> str:
    """The plain words for a RARC; an unknown code reads "RARC N999 (not in our reference)"."""
    entry = RARC.get(code)
    return _words(entry) if entry else f"RARC {code} (not in our reference)"


def group_words(group: str) -> str:
    return GROUPS.get(group) or f"group code {group} (not in our reference)"


def adjustment_words(group: str, reason: str) -> str:
    """One CAS adjustment in words: "CO-45: charge exceeds ... (contractual obligation (...))"."""
    entry = CARC.get(reason)
    reason_words = _words(entry) if entry else "not in our reference"
    return f"{group}-{reason}: {reason_words} ({group_words(group)})"


def is_denial(group: str, reason: str) -> bool:
    """Whether an adjustment refuses (part of) a service rather than reducing or shifting it. Posting
    treats it as a denial only when the line also pays nothing."""
    return group in DENIAL_GROUPS and reason not in NOT_DENIAL
