"""Acknowledgment codes in plain words, written by us (the official code lists belong to X12 and WPC).
Unknown codes are shown as "code N" so nothing is hidden."""

IK5_STATUS = {
    "A": "accepted",
    "E": "accepted, but errors were noted",
    "M": "rejected: message authentication code failed",
    "P": "partially accepted",
    "R": "rejected",
    "W": "rejected: assurance failed validity tests",
    "X": "rejected: content could not be analyzed after decryption",
}

IK5_ERRORS = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "23": "transaction set control number not unique within the functional group",
    "I5": "implementation: one or more segments in error",
    "I6": "implementation convention not supported",
}

IK3_SEGMENT_ERRORS = {
    "1": "unrecognized segment",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": "implementation 'not used' segment present",
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": "implementation dependent 'not used' segment present",
}

IK4_ELEMENT_ERRORS = {
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I10": "implementation 'not used' data element present",
    "I11": "implementation too few repetitions",
    "I12": "implementation pattern match failure",
    "I13": "implementation dependent 'not used' data element present",
    "I6": "code value not used in implementation",
    "I9": "implementation dependent data element missing",
}

# 277CA claim status category codes (STC01-1)
STATUS_CATEGORY = {
    "A0": "forwarded to another entity",
    "A1": "received",
    "A2": "accepted into adjudication",
    "A3": "returned as unprocessable",
    "A4": "not found",
    "A5": "split claim",
    "A6": "rejected for missing information",
    "A7": "rejected for invalid information",
    "A8": "rejected for relational field error",
    "E0": "response not possible: error on submitted request",
    "E1": "response not possible: system status",
    "E2": "information holder not responding",
    "E3": "correction required: relational fields in error",
    "E4": "trading partner agreement specific requirement not met",
}
ACCEPTED_CATEGORIES = frozenset({"A1", "A2", "A5"})
REJECTED_CATEGORIES = frozenset({"A3", "A4", "A6", "A7", "A8", "E0", "E3", "E4"})

# Claim status codes (STC01-2), the ones clearinghouses send most on rejections.
STATUS_CODE = {
    "0": "cannot provide further status electronically",
    "3": "claim has been adjudicated and is awaiting payment",
    "19": "entity acknowledges receipt of claim",
    "20": "accepted for processing",
    "21": "missing or invalid information",
    "23": "returned to entity",
    "24": "entity not approved as an electronic submitter",
    "29": "subscriber and policy number not found",
    "33": "subscriber and subscriber ID not found",
    "35": "claim or encounter not found",
    "96": "no agreement with entity",
    "97": "patient eligibility not found with entity",
    "116": "claim submitted to the incorrect payer",
    "128": "entity's tax ID",
    "145": "entity's specialty or taxonomy code",
    "153": "entity's ID number",
    "158": "entity's date of birth",
    "164": "entity's contract or member number",
    "187": "dates of service",
    "189": "facility type code",
    "247": "line information",
    "254": "principal diagnosis code",
    "255": "diagnosis code",
    "454": "procedure code for services rendered",
    "455": "revenue code for services rendered",
    "458": "date(s) of service",
    "460": "place of service code",
    "465": "principal procedure code",
    "478": "claim frequency type code",
    "484": "business application currently not available",
    "496": "submitter not approved for electronic claim submissions on behalf of this entity",
    "507": "HCPCS code",
    "509": "E-code",
    "510": "future date",
    "511": "invalid character",
    "512": "length invalid for receiver's application system",
    "513": "HIPAA violation",
    "516": "other payer's explanation of benefits / payment information",
    "532": "entity's mailing address",
    "539": "the claim or encounter is a duplicate",
    "546": "claim or line was not adjudicated as it was rejected by the clearinghouse",
    "562": "entity's National Provider Identifier (NPI)",
    "564": "entity's sex",
    "565": "entity's name",
    "583": "line item control number",
    "585": "denial letter",
    "655": "total charges",
    "673": "patient control number",
    "697": "provider signature",
    "732": "information submitted inconsistent with billing guidelines",
    "747": "insured's ID",
}

ENTITY = {
    "03": "dependent",
    "1P": "provider",
    "40": "receiver",
    "41": "submitter",
    "45": "drop-off location",
    "71": "attending physician",
    "77": "service location",
    "82": "rendering provider",
    "85": "billing provider",
    "87": "pay-to provider",
    "DK": "ordering physician",
    "DN": "referring provider",
    "GB": "other insured",
    "HK": "subscriber",
    "IL": "insured or subscriber",
    "PR": "payer",
    "QC": "patient",
    "TT": "transfer to",
}


def _word(table: dict, code: str) -> str:
    return table.get(code, f"code {code}")


def status_in_words(category: str, status: str = "", entity: str = "") -> str:
    text = _word(STATUS_CATEGORY, category).capitalize()
    if status:
        text += f": {_word(STATUS_CODE, status)}"
    if entity:
        text += f" ({_word(ENTITY, entity)})"
    return text
