"""Claim adjustment reason codes (CARC) and remittance advice remark codes (RARC) in plain words,
written by us (the official lists belong to X12 and CMS). Deactivated codes stay: old remits carry
them. An unknown code reads as "code N"."""

GROUPS = {
    "CO": "contractual obligation (the practice absorbs it)",
    "PR": "patient responsibility",
    "OA": "other adjustment",
    "PI": "payer-initiated reduction",
    "CR": "correction or reversal",
}

CARC = {
    "1": "deductible", "2": "coinsurance", "3": "copay", "4": "procedure code inconsistent with the modifier, or a modifier is missing",
    "5": "procedure code or bill type inconsistent with the place of service", "6": "procedure inconsistent with the patient's age",
    "7": "procedure inconsistent with the patient's sex", "8": "procedure inconsistent with the provider type or specialty",
    "9": "diagnosis inconsistent with the patient's age", "10": "diagnosis inconsistent with the patient's sex",
    "11": "diagnosis inconsistent with the procedure", "12": "diagnosis inconsistent with the provider type",
    "13": "date of death precedes the date of service", "16": "claim lacks information or has billing errors",
    "18": "exact duplicate claim or service", "19": "work-related injury: bill workers' compensation",
    "20": "injury covered by another payer (liability)", "21": "injury is the liability of a no-fault carrier",
    "22": "care may be covered by another payer (coordination of benefits)", "23": "impact of prior payer adjudication",
    "24": "charges covered under a capitation or managed care plan", "26": "expenses incurred before coverage began",
    "27": "expenses incurred after coverage ended", "29": "time limit for filing has expired",
    "31": "patient cannot be identified as our insured", "32": "our records show the patient is not an eligible dependent",
    "33": "insured has no dependent coverage", "34": "insured has no coverage for newborns",
    "35": "lifetime benefit maximum reached", "39": "services denied when authorization was requested",
    "40": "charges do not meet qualifications for emergency or urgent care", "42": "charges exceed the fee schedule or maximum allowable (deactivated code)",
    "45": "charge exceeds the fee schedule or contracted amount", "49": "routine or preventive service not covered",
    "50": "not deemed a medical necessity by the payer", "51": "pre-existing condition not covered",
    "53": "services by an immediate relative or household member are not covered", "54": "multiple physicians or assistants are not covered",
    "55": "procedure or treatment is experimental or investigational", "56": "procedure or treatment not proven effective",
    "58": "treatment rendered in an inappropriate place of service", "59": "processed under multiple or concurrent procedure rules",
    "61": "penalty for failure to obtain a second surgical opinion", "89": "professional fees removed from charges",
    "90": "ingredient cost adjustment", "94": "processed in excess of charges", "95": "plan procedures not followed",
    "96": "non-covered charges", "97": "payment included in the allowance for another service (bundled)",
    "100": "payment made to the patient, insured or responsible party", "101": "predetermination: anticipated payment on completion",
    "104": "managed care withholding", "107": "the related or qualifying claim or service was not identified",
    "109": "not covered by this payer: send to the correct payer or contractor", "110": "billing date precedes the service date",
    "111": "not covered unless the provider accepts assignment", "112": "service not furnished directly to the patient or not documented",
    "114": "procedure or product not approved by the FDA", "115": "procedure postponed, canceled or delayed",
    "116": "advance indemnification notice was not signed", "117": "transportation only covered to the closest facility",
    "119": "benefit maximum for this period or occurrence reached", "121": "indemnification adjustment",
    "125": "submission or billing errors", "128": "newborn's services are covered in the mother's allowance",
    "129": "prior processing information appears incorrect", "130": "claim submission fee",
    "131": "claim-specific negotiated discount", "132": "prearranged demonstration project adjustment",
    "133": "claim pended for further review", "134": "technical fees removed from charges",
    "135": "interim bills cannot be processed", "136": "failure to follow prior payer's coverage rules",
    "137": "regulatory surcharges, assessments, allowances or health-related taxes", "139": "contracted funding agreement: subscriber is employed by the provider",
    "140": "patient or insured health identification number and name do not match", "142": "monthly Medicaid patient liability amount",
    "143": "portion of payment deferred", "144": "incentive adjustment", "146": "diagnosis was invalid for the date of service",
    "147": "provider contracted or negotiated rate expired or not on file", "148": "information from another provider was not provided or was incomplete",
    "149": "lifetime benefit maximum for this service reached", "150": "information submitted does not support this level of service",
    "151": "information submitted does not support this many or this frequency of services", "152": "information submitted does not support this length of service",
    "153": "information submitted does not support this dosage", "154": "information submitted does not support this day's supply",
    "155": "patient refused the service or procedure", "157": "service provided as a result of an act of war",
    "158": "service provided outside the United States", "159": "service provided as a result of terrorism",
    "160": "injury or illness from activity that is a benefit exclusion", "163": "attachment or other documentation referenced on the claim was not received",
    "164": "attachment or other documentation received after the claim was processed", "165": "referral absent or exceeded",
    "166": "services submitted after this payer's responsibility ended", "167": "diagnosis is not covered",
    "169": "alternate benefit has been provided", "170": "payment denied when performed or billed by this type of provider",
    "171": "payment denied when performed by this type of provider in this type of facility", "172": "payment adjusted when performed or billed by a provider of this specialty",
    "173": "service or equipment was not prescribed by a physician", "174": "service was not prescribed prior to delivery",
    "175": "prescription is incomplete", "176": "prescription is not current", "177": "patient has not met the required eligibility requirements",
    "178": "patient has not met the required spend down", "179": "patient has not met the required waiting requirements",
    "180": "patient has not met the required residency requirements", "181": "procedure code was invalid on the date of service",
    "182": "procedure modifier was invalid on the date of service", "183": "referring provider is not eligible to refer the service billed",
    "184": "prescribing or ordering provider is not eligible to prescribe or order the service billed",
    "185": "rendering provider is not eligible to perform the service billed", "186": "level of care change adjustment",
    "187": "consumer spending account payments", "189": "'not otherwise classified' or 'unlisted' procedure code was billed when a specific code exists",
    "190": "payment included in the allowance for a skilled nursing facility stay", "192": "non-standard adjustment code from paper remittance",
    "193": "original payment decision is being maintained after review", "194": "anesthesia performed by the operating physician or assistant surgeon",
    "195": "refund issued to an erroneous priority payer for this claim", "197": "precertification, authorization or notification absent",
    "198": "precertification, notification or authorization exceeded", "199": "revenue code and procedure code do not match",
    "200": "expenses incurred during a lapse in coverage", "201": "patient is responsible for the amount of this cost under the spend down",
    "202": "non-covered personal comfort or convenience services", "203": "discontinued or reduced service",
    "204": "service, equipment or drug not covered under the patient's current benefit plan", "205": "pharmacy discount card processing fee",
    "206": "National Provider Identifier missing", "207": "National Provider Identifier invalid", "208": "National Provider Identifier not matched",
    "209": "per regulatory or other agreement, the provider cannot collect this amount from the patient",
    "210": "payment adjusted because precertification or authorization was not received in a timely fashion",
    "211": "National Drug Codes not eligible for rebate are not covered", "212": "administrative surcharges are not covered",
    "213": "non-compliance with the physician self-referral prohibition legislation", "215": "based on subrogation of a third-party settlement",
    "216": "based on the findings of a review organization", "219": "based on extent of injury",
    "222": "exceeds the contracted maximum number of hours, days or units", "223": "adjustment code for a mandated federal, state or local law or regulation",
    "224": "patient identification compromised by identity theft", "225": "penalty or interest payment by the payer",
    "226": "information requested from the billing or rendering provider was not provided or was insufficient",
    "227": "information requested from the patient or insured was not provided or was insufficient",
    "228": "denied for failure of this provider, another provider or the subscriber to supply requested information to a previous payer",
    "231": "mutually exclusive procedures cannot be done in the same day or setting", "232": "institutional transfer amount",
    "233": "services or charges related to hospital-acquired conditions or serious preventable events",
    "234": "this procedure is not paid separately", "235": "sales tax", "236": "this procedure or combination is not compatible with another procedure on the same day (NCCI)",
    "237": "legislated or regulatory penalty", "238": "claim spans eligible and ineligible periods of coverage",
    "239": "claim spans eligible and ineligible periods of coverage: rebill separate claims", "240": "the diagnosis is inconsistent with the patient's birth weight",
    "242": "services not provided by network or primary care providers", "243": "services not authorized by network or primary care providers",
    "245": "provider performance program withhold", "246": "this non-payable code is for required reporting only",
    "247": "deductible for professional service rendered in an institutional setting and billed on an institutional claim",
    "250": "the attachment or other documentation received was incorrect or incomplete", "251": "the attachment or other documentation received did not contain the information needed",
    "252": "an attachment or other documentation is required to adjudicate this claim", "253": "sequestration: reduction in federal payment",
    "254": "claim received by the dental plan, but benefits not available under this plan", "256": "service not payable under the current pricing methodology",
    "257": "the disposition of the claim has not yet been determined", "258": "claim or service not covered when the patient is in custody or incarcerated",
    "270": "claim received by the medical plan, but benefits not available under this plan", "272": "coverage or program guidelines were not met",
    "273": "coverage or program guidelines were exceeded", "275": "prior payer's patient responsibility not covered", "276": "services denied by the prior payer are not covered by this payer",
    "279": "services not provided by Preferred network providers", "284": "precertification, authorization or notification number missing, invalid or not matched",
    "A1": "claim or service denied", "A2": "contractual adjustment (deactivated code)", "A5": "Medicare claim PPS capital cost outlier amount",
    "A6": "prior hospitalization or 30-day transfer requirement not met", "A8": "ungroupable DRG", "B1": "non-covered visits",
    "B4": "late filing penalty", "B5": "coverage or program guidelines were not met or were exceeded (deactivated code)",
    "B7": "this provider was not certified or eligible to be paid for this procedure on this date of service",
    "B8": "alternative services were available and should have been used", "B9": "patient is enrolled in a hospice",
    "B10": "allowed amount reduced because a component of the basic procedure or test was paid",
    "B11": "the claim has been transferred to the proper payer or processor", "B12": "services not documented in the patient's medical records",
    "B13": "previously paid: payment for this claim or service may have been provided in a previous payment",
    "B14": "only one visit or consultation per physician per day is covered", "B15": "this service requires that a qualifying service be received and covered",
    "B16": "'new patient' qualifications were not met", "B20": "procedure or service was partially or fully furnished by another provider",
    "B22": "this payment is adjusted based on the diagnosis", "B23": "procedure billed is not authorized per the CLIA certificate",
    "P1": "state-mandated requirement for property and casualty", "W1": "workers' compensation jurisdictional fee schedule adjustment",
}

RARC = {
    "M15": "separately billed services or tests have been bundled", "M20": "missing or invalid HCPCS code",
    "M51": "missing, incomplete or invalid procedure code", "M76": "missing, incomplete or invalid diagnosis or condition",
    "M77": "missing, incomplete or invalid place of service", "M80": "not covered when performed during the same session as another service",
    "M86": "service denied because payment already made for the same or a similar procedure", "M119": "missing, incomplete or invalid National Drug Code",
    "MA04": "secondary payment cannot be considered without the identity of or payment information from the primary payer",
    "MA07": "the claim information has also been forwarded to Medicaid", "MA18": "the claim information is also being forwarded to the patient's supplemental insurer",
    "MA01": "you may appeal this decision", "MA13": "you may be subject to penalties if you bill the patient for amounts not reported with PR",
    "MA130": "the claim has missing or invalid information: submit a new claim with the complete information",
    "N4": "missing or incomplete or invalid prior insurance carrier EOB", "N20": "service not payable with other service rendered on the same date",
    "N30": "patient ineligible for this service", "N54": "claim information is inconsistent with pre-certified or authorized services",
    "N56": "procedure code billed is not correct or valid for the services billed or the date of service",
    "N95": "this provider type or specialty may not bill this service", "N115": "this decision was based on a local coverage determination",
    "N130": "consult plan benefit documents or guidelines for coverage information", "N179": "additional information has been requested from the member",
    "N180": "this item or service does not meet the criteria for the category under which it was billed",
    "N290": "missing, incomplete or invalid rendering provider primary identifier", "N362": "the number of days or units exceeds the acceptable maximum",
    "N386": "this decision was based on a national coverage determination", "N418": "misrouted claim: see the payer's claim submission instructions",
    "N425": "statutorily excluded service", "N432": "adjustment based on a recovery audit", "N479": "missing explanation of benefits (coordination of benefits)",
    "N517": "resubmit a new claim with the requested information", "N522": "duplicate of a claim processed or in process as a crossover claim",
    "N657": "this should be billed with the appropriate code for these services", "N702": "decision based on public health emergency policy",
}


def carc_words(code: str) -> str:
    return CARC.get(code, f"code {code}")


def rarc_words(code: str) -> str:
    return RARC.get(code, f"code {code}")


def adjustment_words(group: str, reason: str) -> str:
    return f"{group}-{reason}: {carc_words(reason)} ({GROUPS.get(group, group)})"


# Contractual reductions that are not denials (DESIGN.md: "contractual (not a denial): 45, 253"), plus the
# patient-responsibility and prior-payer codes that never mean the payer refused the service.
NOT_DENIAL = frozenset({"1", "2", "3", "23", "42", "45", "59", "94", "104", "131", "144", "223", "237", "253", "A2"})


def is_denial(group: str, reason: str) -> bool:
    return group in ("CO", "PI", "OA") and reason not in NOT_DENIAL
