"""What reminders say, in plain words, in English and Spanish (by the patient's preferred language)."""

from decimal import Decimal

SPANISH = {"spanish", "español", "espanol", "es", "spa"}

SUBJECTS = {
    "en": {
        "upcoming": "Your payment is due soon",
        "missed": "We have not received your payment",
        "balance": "You have a balance with us",
    },
    "es": {
        "upcoming": "Su pago vence pronto",
        "missed": "No hemos recibido su pago",
        "balance": "Usted tiene un saldo pendiente",
    },
}

BODIES = {
    "en": {
        "upcoming": (
            "Hello {first_name}, this is {practice}. Your payment plan installment of ${amount} "
            "is due on {date}. Thank you."
        ),
        "missed": (
            "Hello {first_name}, this is {practice}. Your installment of ${amount} was due on {date} "
            "and we have not received it. Please pay, or call us at {phone} if you need to change your plan."
        ),
        "balance": (
            "Hello {first_name}, this is {practice}. You have a balance of ${amount}. You can pay it "
            "in full or ask us for a payment plan: call {phone}."
        ),
    },
    "es": {
        "upcoming": (
            "Hola {first_name}, le escribe {practice}. La cuota de su plan de pagos de ${amount} "
            "vence el {date}. Gracias."
        ),
        "missed": (
            "Hola {first_name}, le escribe {practice}. Su cuota de ${amount} vencía el {date} y no "
            "la hemos recibido. Por favor pague, o llámenos al {phone} si necesita cambiar su plan."
        ),
        "balance": (
            "Hola {first_name}, le escribe {practice}. Usted tiene un saldo de ${amount}. Puede "
            "pagarlo completo o pedirnos un plan de pagos: llame al {phone}."
        ),
    },
}

OPT_OUT = {
    "en": "Reply STOP to stop text messages.",
    "es": "Responda STOP (o ALTO) para no recibir más mensajes.",
}


def language_of(preferred: str) -> str:
    return "es" if (preferred or "").strip().lower() in SPANISH else "en"


def family(kind: str) -> str:
    return "missed" if kind.startswith("missed") else kind


def compose(
    *, kind: str, language: str, channel: str, first_name: str, practice, amount: Decimal, date
) -> tuple:
    """(subject, body) of one reminder."""
    words = family(kind)
    body = BODIES[language][words].format(
        first_name=first_name,
        practice=practice.name,
        amount=Decimal(amount).quantize(Decimal("0.01")),
        date=date.strftime("%m/%d/%Y") if date else "",
        phone=practice.phone or "the office",
    )
    if channel == "sms":
        body = f"{body} {OPT_OUT[language]}"
    return SUBJECTS[language][words], body
