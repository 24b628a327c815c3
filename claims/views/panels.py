"""Panels that apps above claims add to the claim page (claims never imports them): each app registers its
panels in its ``AppConfig.ready`` (the denials app adds the denial risk of a ready claim).

A panel is a template and a function that gives its context for a claim, or None when the panel has
nothing to say about that claim (then it is not shown)."""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class ClaimPanel:
    key: str
    template: str  # rendered with ``panel`` = the context
    context: Callable[..., dict | None]  # (claim=..., request=...) -> the template's ``panel`` or None


CLAIM_PANELS: list[ClaimPanel] = []


def claim_panel_register(panel: ClaimPanel) -> None:
    """Add a panel (or replace the one with the same key)."""
    CLAIM_PANELS[:] = [p for p in CLAIM_PANELS if p.key != panel.key] + [panel]


def claim_panels(*, claim, request) -> list[dict]:
    """The panels to show on this claim's page, in registration order: {"template", "context"}."""
    shown = []
    for panel in CLAIM_PANELS:
        context = panel.context(claim=claim, request=request)
        if context is not None:
            shown.append({"key": panel.key, "template": panel.template, "context": context})
    return shown
