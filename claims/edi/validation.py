"""Validation of X12 text with pyx12 (the implementation-guide maps it ships).

``validate_x12`` returns the findings as plain dicts, so they can be stored beside a batch or an
imported file and shown to a biller; it never raises for bad input, only reports it."""

import io
import json
import logging
from dataclasses import asdict, dataclass

import pyx12.errors
import pyx12.params
import pyx12.x12n_document


@dataclass(frozen=True)
class Finding:
    level: str  # interchange, group, transaction, segment, element
    code: str
    message: str
    segment: str = ""
    line: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _walk(node, level: str, findings: list[Finding], segment: str = "", line=None) -> None:
    if not isinstance(node, dict):
        return
    for error in node.get("errors", []) or []:
        findings.append(
            Finding(
                level=level,
                code=str(error.get("code", error.get("err_cde", ""))),
                message=str(error.get("message", error.get("err_str", error))),
                segment=node.get("seg_id", segment) or segment,
                line=node.get("line", line),
            )
        )
    for key, child_level in (
        ("interchanges", "interchange"),
        ("groups", "group"),
        ("transactions", "transaction"),
        ("segments", "segment"),
        ("elements", "element"),
    ):
        for child in node.get(key, []) or []:
            _walk(child, child_level, findings, node.get("seg_id", segment), node.get("line", line))


def validate_x12(text: str) -> tuple[bool, list[Finding]]:
    """Validate ``text`` against pyx12's maps: (valid, findings)."""
    param = pyx12.params.params()
    out = io.StringIO()
    pyx12_logger = logging.getLogger("pyx12")
    previous = pyx12_logger.level
    pyx12_logger.setLevel(logging.CRITICAL)  # pyx12 logs every finding; we return them instead
    try:
        valid = pyx12.x12n_document.x12n_document(param, io.StringIO(text), None, None, None, fd_json=out)
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as exc:
        return False, [Finding(level="interchange", code="engine", message=str(exc))]
    finally:
        pyx12_logger.setLevel(previous)
    findings: list[Finding] = []
    raw = out.getvalue()
    if raw:
        _walk(json.loads(raw), "root", findings)
    return bool(valid) and not findings, findings
