"""Spreadsheet exports of the KPIs app (the drill-down's claims and the KPI table), as CSV and XLSX.

A spreadsheet runs a text cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (CSV or formula
injection): every text cell gets a quote in front of such a start, in both formats. Money stays Decimal
(written as a number with two places in XLSX, never through a float of ours)."""

from rcm.exports import XLSX_TYPE, xlsx_bytes

__all__ = ["XLSX_TYPE", "xlsx_bytes"]
