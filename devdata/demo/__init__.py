"""Demo data for development and evaluation: ``python manage.py seed_demo``.

Two practices (Riverside Family Medicine, the main one, and Lakeview Pediatrics, to show tenancy) with
15 months of believable revenue-cycle history, built through the same services the app uses.

- ``reference``: procedure prices, diagnoses, names and places (all written by us).
- ``payers``: payer profiles (pricing, lag, denials, underpayment, cost sharing) and their contracts.
- ``practices``: the two practices as data.
- ``people``: practice, clinicians, demo logins, patients, coverage, consents.
- ``encounters``: which visits happened and what was billed (no database).
- ``lifecycle``: the claims' lives played through the app's services; payers decide with
  ``devdata.simulator``.
- ``builder``: the steps, run per practice; later features append theirs to ``PRACTICE_STEPS``.
"""
