"""The reminder run's beat schedule: hourly in the day unless the smoke test shortens it."""

from celery.schedules import crontab

from rcm.celery import app, reminders_schedule


def test_the_reminders_run_hourly_in_the_day_unless_the_smoke_setting_shortens_it(monkeypatch):
    monkeypatch.delenv("RCM_REMINDERS_BEAT_SECONDS", raising=False)
    default = reminders_schedule()
    assert isinstance(default, crontab)
    assert default.hour == set(range(8, 24)) and default.minute == {5}
    monkeypatch.setenv("RCM_REMINDERS_BEAT_SECONDS", "")
    assert isinstance(reminders_schedule(), crontab)
    monkeypatch.setenv("RCM_REMINDERS_BEAT_SECONDS", "5")
    assert reminders_schedule() == 5
    assert app.conf.beat_schedule["payment-plans-reminders"]["task"] == "payment_plans.reminders_daily"
