"""The Celery application. Tasks are autodiscovered from every installed app's ``tasks`` module."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcm.settings")

app = Celery("rcm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
