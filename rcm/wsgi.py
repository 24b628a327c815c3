import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcm.settings")
application = get_wsgi_application()

# Each server process loads the ICD-10-CM tables (about 2.7 s) as it starts, not on the first claim a
# user opens (the claim pages describe every diagnosis).
from rcm.validators import icd10_description  # noqa: E402

icd10_description("I10")
