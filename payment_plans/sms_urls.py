"""The SMS provider's webhooks, under ``/sms/`` (signed by the provider, no sign-in)."""

from django.urls import path

from payment_plans.reminders import webhooks

urlpatterns = [
    path("twilio/inbound/", webhooks.twilio_inbound, name="sms_twilio_inbound"),
]
