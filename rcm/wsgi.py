import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcm.settings")
application = get_wsgi_application()

if not settings.DEBUG:
    # Each production server process loads the ICD-10-CM tables (about 2.7 s) as it starts, not on the
    # first claim a user opens (claim pages describe every diagnosis). Development reloads stay quick.
    from rcm.validators import icd10_description

    icd10_description("I10")
