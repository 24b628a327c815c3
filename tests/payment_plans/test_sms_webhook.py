"""STOP by text reaches us through the SMS provider's signed webhook and opts the number out at once."""

import pytest

from payment_plans.reminders.services import phone_digits, sms_inbound
from payment_plans.reminders.webhooks import twilio_signature
from tests.payment_plans.test_reminders import planned  # noqa: F401  (fixture)

TOKEN = "test-auth-token"  # noqa: S105
URL = "http://testserver/sms/twilio/inbound/"


def post(client, params, *, signature=None):
    signature = twilio_signature(TOKEN, URL, params) if signature is None else signature
    return client.post("/sms/twilio/inbound/", params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def twilio(settings):
    settings.SMS_TWILIO_AUTH_TOKEN = TOKEN


def test_a_signed_stop_opts_the_number_out_written_any_way(client, twilio, planned, practice):  # noqa: F811
    assert phone_digits(planned.phone) == phone_digits("+1" + phone_digits(planned.phone))
    e164 = "+1" + phone_digits(planned.phone)
    response = post(client, {"From": e164, "To": "+14125550000", "Body": " Stop ", "MessageSid": "SM1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml"
    assert response.content.decode().endswith("<Response></Response>")
    assert planned.consent_events.order_by("-id").first().method == "STOP reply"
    assert planned.consent_events.order_by("-id").first().granted is False


def test_other_words_change_nothing(client, twilio, planned):  # noqa: F811
    before = planned.consent_events.count()
    e164 = "+1" + phone_digits(planned.phone)
    assert post(client, {"From": e164, "Body": "thank you"}).status_code == 200
    assert planned.consent_events.count() == before


def test_a_request_without_a_valid_signature_is_refused_and_changes_nothing(client, twilio, planned):  # noqa: F811
    before = planned.consent_events.count()
    e164 = "+1" + phone_digits(planned.phone)
    assert post(client, {"From": e164, "Body": "STOP"}, signature="forged").status_code == 403
    assert post(client, {"From": e164, "Body": "STOP"}, signature="").status_code == 403
    # signed for other content (the body changed on the way)
    signed_for_hello = twilio_signature(TOKEN, URL, {"From": e164, "Body": "hello"})
    assert post(client, {"From": e164, "Body": "STOP"}, signature=signed_for_hello).status_code == 403
    assert planned.consent_events.count() == before


def test_without_a_provider_the_endpoint_does_not_exist_and_it_takes_only_posts(client, settings, twilio):
    assert client.get("/sms/twilio/inbound/").status_code == 405
    settings.SMS_TWILIO_AUTH_TOKEN = ""
    assert post(client, {"From": "+14125550100", "Body": "STOP"}).status_code == 404


def test_the_number_is_matched_by_its_digits_only(practice):
    from tests.rcm.factories import PatientFactory

    ana = PatientFactory(practice=practice, phone="(412) 555-0177")
    ben = PatientFactory(practice=practice, phone="412-555-1177")  # the same last four digits
    assert sms_inbound(practice=None, phone="+14125550177", body="ALTO") == 1
    assert [(e.channel, e.granted) for e in ana.consent_events.all()] == [("sms", False)]
    assert not ben.consent_events.exists()
    assert sms_inbound(practice=None, phone="+1", body="STOP") == 0  # no number: nobody
