"""Panels other apps add to the claim page without claims importing them (dependencies point one way).

An app registers, in its ``AppConfig.ready``, a function ``(request, claim) -> dict | None``; a dict names
the ``template`` to include and its ``context`` (read as ``panel`` in the template). None shows nothing."""

from collections.abc import Callable

CLAIM_PANELS: list[Callable] = []


def claim_panels(request, claim) -> list[dict]:
    return [panel for hook in CLAIM_PANELS if (panel := hook(request, claim)) is not None]
