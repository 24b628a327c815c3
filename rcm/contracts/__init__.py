"""Payers, their contracts and fee schedules: the services that write them (``services``), the fee schedule
files read, checked, applied and exported (``fee_schedules``), the reads (``selectors``), the manager's pages
(``views``, ``forms``, ``urls``) and the API (``api``). Pricing itself stays in ``rcm.pricing``."""
