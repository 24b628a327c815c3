"""The ``Audited`` mixin: models whose creates and updates land in the audit log (see ``rcm.audit``)."""

import hashlib

from django.db import models


def content_digest(value) -> str | None:
    """What the audit log keeps of a large content: ``sha256:<hex>, <n> bytes`` (None stays None)."""
    if value is None:
        return None
    data = value.encode() if isinstance(value, str) else bytes(value)
    return f"sha256:{hashlib.sha256(data).hexdigest()}, {len(data)} bytes"


class Audited(models.Model):
    """Mixin for models whose creates and updates are written to the audit log with the changed fields."""

    audit_exclude: tuple[str, ...] = ()
    # Large contents (X12 files: PHI, megabytes) are written to the log as their SHA-256 and size only,
    # never the content itself; the row's id is the event's object id.
    audit_digest: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Keep what was loaded as it came (cheap); the dict is built only if the row is saved.
        instance._audit_loaded_raw = (field_names, values)
        return instance

    @property
    def _audit_loaded(self):
        raw = self.__dict__.get("_audit_loaded_raw")
        if raw is None:
            return None
        field_names, values = raw
        return dict(zip(field_names, values, strict=True))

    @_audit_loaded.setter
    def _audit_loaded(self, snapshot):
        self._audit_loaded_raw = (list(snapshot), list(snapshot.values()))

    def audit_snapshot(self) -> dict:
        return {
            f.attname: content_digest(value) if f.attname in self.audit_digest else value
            for f in self._meta.concrete_fields
            if f.attname not in self.audit_exclude and not f.primary_key
            for value in (getattr(self, f.attname),)
        }

    def audit_changes(self, created: bool) -> dict:
        now = self.audit_snapshot()
        if created:
            return {k: [None, v] for k, v in now.items() if v not in (None, "", [], {})}
        before = getattr(self, "_audit_loaded", None)
        if before is None:
            return {k: [None, v] for k, v in now.items()}
        before = {k: content_digest(v) if k in self.audit_digest else v for k, v in before.items()}
        return {k: [before[k], v] for k, v in now.items() if k in before and before[k] != v}
