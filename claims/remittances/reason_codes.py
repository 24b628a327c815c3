"""What claims needs from the CARC/RARC reference: whether an adjustment is a denial (ERA posting) and the
plain words for adjustments and remark codes (remittance pages and API).

The reference itself is owned by the denials app, which reads claims and never the other way round, so
claims asks through this port and the denials app registers its reference here when apps are ready
(``DenialsConfig.ready``), the same way it registers its denial handler with posting. Asking before
anything is registered is a configuration error, raised loudly rather than guessed around."""

from typing import Protocol


class ReasonCodeReference(Protocol):
    def is_denial(self, group: str, reason: str) -> bool: ...

    def adjustment_words(self, group: str, reason: str) -> str: ...

    def rarc_words(self, code: str) -> str: ...


class ReferenceNotRegistered(RuntimeError):
    pass


_registered: list[ReasonCodeReference] = []  # at most one: the last registered wins


def register(reference: ReasonCodeReference) -> None:
    """Make ``reference`` the one claims asks (replacing any earlier one)."""
    _registered[:] = [reference]


def registered() -> ReasonCodeReference:
    if not _registered:
        raise ReferenceNotRegistered(
            "No CARC/RARC reference is registered: the denials app registers one in its ready(); "
            "is 'denials' in INSTALLED_APPS?"
        )
    return _registered[0]


def is_denial(group: str, reason: str) -> bool:
    return registered().is_denial(group, reason)


def adjustment_words(group: str, reason: str) -> str:
    return registered().adjustment_words(group, reason)


def rarc_words(code: str) -> str:
    return registered().rarc_words(code)
