"""Builds 835 files for tests from plain data, with the balancing done right unless told otherwise."""

from decimal import Decimal


def _money(value) -> str:
    return f"{Decimal(value):.2f}"


def transaction_set(
    *,
    st="0001",
    trace="EFT10001",
    payer_name="ACME HEALTH",
    payer_id="ACME1",
    payer_tin="1371234567",
    payee_name="RIVERSIDE FAMILY MEDICINE",
    payee_npi="1245319599",
    payment_date="20260320",
    claims=(),
    plb=(),
    total=None,
) -> list[str]:
    body = []
    claim_total = Decimal("0")
    for claim in claims:
        claim_total += Decimal(claim["paid"])
    plb_total = sum((Decimal(p[2]) for p in plb), Decimal("0"))
    total = Decimal(total) if total is not None else claim_total - plb_total
    body += [
        f"BPR*I*{_money(total)}*C*ACH*CCP*01*999999999*DA*123456*{payer_tin}**01*888888888*DA*654321*{payment_date}",
        f"TRN*1*{trace}*{payer_tin}",
        f"DTM*405*{payment_date}",
        f"N1*PR*{payer_name}",
        "N3*1 PAYER WAY",
        "N4*HARTFORD*CT*06101",
        f"REF*2U*{payer_id}",
        f"N1*PE*{payee_name}*XX*{payee_npi}",
        "REF*TJ*371234567",
        "LX*1",
    ]
    for claim in claims:
        body.append(
            "*".join(
                [
                    "CLP",
                    claim["pcn"],
                    claim.get("status", "1"),
                    _money(claim["charge"]),
                    _money(claim["paid"]),
                    _money(claim.get("pr", "0")),
                    "12",
                    claim.get("payer_claim", "PCN" + claim["pcn"]),
                    "11",
                    claim.get("freq", "1"),
                ]
            )
        )
        for group, reason, amount in claim.get("cas", []):
            body.append(f"CAS*{group}*{reason}*{_money(amount)}")
        last, first = claim.get("patient", ("GARCIA", "ELENA"))
        body.append(f"NM1*QC*1*{last}*{first}****MI*{claim.get('member', 'XJH123456789')}")
        if claim.get("interest"):
            body.append(f"AMT*I*{_money(claim['interest'])}")
        for service in claim.get("services", []):
            composite = ":".join(["HC", service["code"], *service.get("mods", [])])
            parts = [
                "SVC",
                composite,
                _money(service["charge"]),
                _money(service["paid"]),
                "",
                str(service.get("units", 1)),
            ]
            if service.get("original"):
                parts.append(":".join(["HC", *service["original"]]))
            body.append("*".join(parts))
            body.append(f"DTM*472*{service.get('date', '20260302')}")
            for group, reason, amount in service.get("cas", []):
                body.append(f"CAS*{group}*{reason}*{_money(amount)}")
            if service.get("lcn"):
                body.append(f"REF*6R*{service['lcn']}")
            if service.get("allowed") is not None:
                body.append(f"AMT*B6*{_money(service['allowed'])}")
            for remark in service.get("rarc", []):
                body.append(f"LQ*HE*{remark}")
    for reason, reference, amount in plb:
        body.append(f"PLB*1245319599*20261231*{reason}:{reference}*{_money(amount)}")
    return [f"ST*835*{st}*005010X221A1", *body, f"SE*{len(body) + 2}*{st}"]


def interchange(*sets: list[str], control="000000101") -> str:
    segments = [
        (
            "ISA*00*          *00*          *ZZ*ACMEHEALTH     *ZZ*RIVERSIDE01    *"
            f"260320*1200*^*00501*{control}*0*P*:"
        ),
        "GS*HP*ACMEHEALTH*RIVERSIDE01*20260320*1200*101*X*005010X221A1",
    ]
    for transaction_segments in sets:
        segments += transaction_segments
    segments += [f"GE*{len(sets)}*101", f"IEA*1*{control}"]
    return "~\n".join(segments) + "~\n"


def era(**kwargs) -> str:
    """A one-transaction 835 file."""
    control = kwargs.pop("control", "000000101")
    return interchange(transaction_set(**kwargs), control=control)
