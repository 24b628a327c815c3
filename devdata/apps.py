from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Development data: the demo (``seed_demo``) and the benchmark data (``bench_data``). It sits
    above every app and drives them through their services; no app imports it."""

    name = "devdata"
    verbose_name = "Development data"
