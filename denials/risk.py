"""Denial risk before submission: how likely the payer is to deny a claim line, learned from what the
same payer did with the practice's own lines in the last six months, and why, in words.

The model is empirical Bayes smoothing down a hierarchy: the practice's overall denial rate, then the
payer's, then payer × procedure, payer × procedure × modifiers, payer × procedure × modifiers × diagnosis
group (the ICD-10-CM category, the first three characters of the line's first diagnosis). At each level
the group's own rate is pulled towards the level above by ``PRIOR_WEIGHT`` lines of pseudo-evidence:

    p(level) = (denied + PRIOR_WEIGHT × p(level above)) / (lines + PRIOR_WEIGHT)

so a combination seen twice barely moves from its payer's rate, and one seen a hundred times speaks for
itself. A claim is denied when any of its lines is, so its score is 1 − Π(1 − p(line)).

This module is pure (a table of outcomes in, scores out): ``denials.selectors`` reads the outcomes,
``denials.services`` stores the scores, and the backtest replays it day by day."""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from denials.reference import carc_words

PRIOR_WEIGHT = 5.0  # lines of pseudo-evidence from the level above
MIN_EVIDENCE = 5  # lines a group needs before the reason quotes its rate
WINDOW_DAYS = 183  # "the last 6 months"
DEFAULT_THRESHOLD = Decimal("0.10")  # twice the demo practices' 5% first-pass denial rate

# One outcome per claim line per adjudication (a posted, not reversed, claim payment).
OUTCOME_COLUMNS = [
    "payer_id",
    "procedure_code",
    "modifiers",
    "diagnosis_group",
    "adjudicated_on",
    "denied",
    "carc",
]
LEVELS: tuple[tuple[str, ...], ...] = (
    ("payer_id",),
    ("payer_id", "procedure_code"),
    ("payer_id", "procedure_code", "modifiers"),
    ("payer_id", "procedure_code", "modifiers", "diagnosis_group"),
)


@dataclasses.dataclass(frozen=True)
class LineFeatures:
    """What the model knows about a line before it is sent."""

    line_number: int
    payer_id: int
    procedure_code: str
    modifiers: str  # modifiers_key(...)
    diagnosis_group: str


@dataclasses.dataclass(frozen=True)
class LineRisk:
    line_number: int
    procedure_code: str
    score: float
    reason: str


@dataclasses.dataclass(frozen=True)
class ClaimRisk:
    score: float
    reason: str
    lines: list[LineRisk]  # the riskiest first


def modifiers_key(modifiers) -> str:
    """A line's modifiers as one comparable key: sorted, space-separated, "" for none."""
    return " ".join(sorted(m for m in modifiers or [] if m))


def diagnosis_group(diagnosis_codes: list[str], pointers: list[int]) -> str:
    """The ICD-10-CM category (first three characters) of the line's first pointed diagnosis."""
    position = (pointers or [1])[0]
    if not 1 <= position <= len(diagnosis_codes or []):
        return ""
    return diagnosis_codes[position - 1].replace(".", "")[:3].upper()


def percent(part: int, whole: int) -> int:
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def empty_outcomes() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in OUTCOME_COLUMNS})


class RiskModel:
    """Counts per level of the hierarchy from a table of outcomes (``OUTCOME_COLUMNS``)."""

    def __init__(self, outcomes: pd.DataFrame, *, payer_names: dict[int, str]):
        self.payer_names = payer_names
        denied = outcomes["denied"].astype(bool)
        self.lines = len(outcomes)
        self.denied = int(denied.sum())
        self.base = self.denied / self.lines if self.lines else 0.0
        self.counts: list[dict[tuple, tuple[int, int]]] = []
        self.top_carc: list[dict[tuple, tuple[str, int]]] = []
        frame = outcomes.assign(denied=denied.astype(int))
        for level in LEVELS:
            if frame.empty:
                self.counts.append({})
                self.top_carc.append({})
                continue
            grouped = frame.groupby(list(level), sort=False)["denied"].agg(["size", "sum"])
            self.counts.append(
                {
                    _key(index): (int(lines), int(refused))
                    for index, lines, refused in zip(
                        grouped.index, grouped["size"], grouped["sum"], strict=True
                    )
                }
            )
            refused = frame[frame["denied"] == 1]
            by_carc = refused.groupby([*level, "carc"], sort=False).size().reset_index(name="n")
            # The most frequent CARC of each group; a tie goes to the lowest code, so it never flickers.
            by_carc = by_carc.sort_values(["n", "carc"], ascending=[False, True]).drop_duplicates(list(level))
            self.top_carc.append(
                {_key(tuple(row[:-2])): (row[-2], int(row[-1])) for row in by_carc.itertuples(index=False)}
            )

    def _evidence(self, depth: int, features: LineFeatures) -> tuple[int, int]:
        return self.counts[depth].get(_prefix(features, depth), (0, 0))

    def line_score(self, features: LineFeatures) -> float:
        score = self.base
        for depth in range(len(LEVELS)):
            lines, denied = self._evidence(depth, features)
            score = (denied + PRIOR_WEIGHT * score) / (lines + PRIOR_WEIGHT)
        return score

    def line_risk(self, features: LineFeatures) -> LineRisk:
        return LineRisk(
            line_number=features.line_number,
            procedure_code=features.procedure_code,
            score=self.line_score(features),
            reason=self.reason(features),
        )

    def claim_risk(self, lines: list[LineFeatures]) -> ClaimRisk:
        risks = sorted((self.line_risk(f) for f in lines), key=lambda r: (-r.score, r.line_number))
        paid = 1.0
        for risk in risks:
            paid *= 1.0 - risk.score
        top = risks[0]
        reason = (
            top.reason if len(risks) == 1 else f"Line {top.line_number} ({top.procedure_code}): {top.reason}"
        )
        return ClaimRisk(score=1.0 - paid, reason=reason, lines=risks)

    # --- the reason in words ----------------------------------------------------------------------

    def reason(self, features: LineFeatures) -> str:
        payer = self.payer_names.get(features.payer_id, "This payer")
        for depth, subject in ((2, self._with_modifiers(features)), (1, features.procedure_code)):
            lines, denied = self._evidence(depth, features)
            if lines >= MIN_EVIDENCE:
                return self._quote(
                    payer, subject, lines, denied, self.top_carc[depth].get(_prefix(features, depth))
                )
        lines, denied = self._evidence(0, features)
        if lines >= MIN_EVIDENCE:
            quoted = self._quote(
                payer, "its lines", lines, denied, self.top_carc[0].get(_prefix(features, 0))
            )
            return f"Little history for {features.procedure_code}: {quoted}"
        overall = percent_text(self.base)
        return (
            f"Little history with {payer} in the last 6 months: "
            f"the practice's overall rate ({overall}) applies."
        )

    def _with_modifiers(self, features: LineFeatures) -> str:
        """ "97110 without modifier GP" when the same payer denies the code less often with a modifier the
        line lacks; "97110 with modifier 25" or "97110" otherwise."""
        own_lines, own_denied = self._evidence(2, features)
        own_rate = own_denied / own_lines if own_lines else 0.0
        own = set(features.modifiers.split())
        best = None
        for key, (lines, denied) in self.counts[2].items():
            if key[:2] != (features.payer_id, features.procedure_code) or lines < MIN_EVIDENCE:
                continue
            other = set(key[2].split())
            rate = denied / lines
            if other > own and rate < own_rate and (best is None or rate < best[0]):
                best = (rate, sorted(other - own))
        if best is not None:
            missing = best[1]
            word = "modifier" if len(missing) == 1 else "modifiers"
            return f"{features.procedure_code} without {word} {' and '.join(missing)}"
        if own:
            word = "modifier" if len(own) == 1 else "modifiers"
            return f"{features.procedure_code} with {word} {' and '.join(sorted(own))}"
        return features.procedure_code

    @staticmethod
    def _quote(payer: str, subject: str, lines: int, denied: int, top: tuple[str, int] | None) -> str:
        if not denied:
            return f"{payer} denied none of the {lines} lines of {subject} in the last 6 months."
        rate = percent(denied, lines)
        text = f"{payer} denied {rate}% of {subject} in the last 6 months ({denied} of {lines} lines)"
        if top is not None:
            text += f", mostly CARC {top[0]} ({carc_words(top[0])})"
        return text + "."


def percent_text(rate: float) -> str:
    return f"{Decimal(str(rate * 100)).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


def _key(index) -> tuple:
    return index if isinstance(index, tuple) else (index,)


def _prefix(features: LineFeatures, depth: int) -> tuple:
    values = (features.payer_id, features.procedure_code, features.modifiers, features.diagnosis_group)
    return values[: depth + 1]


def window(outcomes: pd.DataFrame, *, before: datetime.date) -> pd.DataFrame:
    """The outcomes known before ``before``: adjudicated in the six months up to the day before."""
    start = before - datetime.timedelta(days=WINDOW_DAYS)
    known = (outcomes["adjudicated_on"] >= start) & (outcomes["adjudicated_on"] < before)
    return outcomes[known]


@dataclasses.dataclass(frozen=True)
class Backtest:
    threshold: Decimal
    claims: int
    denied: int
    flagged: int
    true_positives: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.denied if self.denied else None


def backtest(
    outcomes: pd.DataFrame,
    claims: list[tuple[datetime.date, list[LineFeatures], bool]],
    *,
    payer_names: dict[int, str],
    threshold: Decimal = DEFAULT_THRESHOLD,
) -> Backtest:
    """Score each claim (submitted on its date, its lines, whether its first adjudication denied it) with a
    model trained only on the outcomes known before that day, and count hits at ``threshold``."""
    models: dict[datetime.date, RiskModel] = {}
    flagged = hits = denied = 0
    for submitted_on, lines, was_denied in claims:
        if submitted_on not in models:
            models[submitted_on] = RiskModel(window(outcomes, before=submitted_on), payer_names=payer_names)
        score = models[submitted_on].claim_risk(lines).score
        flag = Decimal(str(score)) >= threshold
        flagged += flag
        denied += was_denied
        hits += flag and was_denied
    return Backtest(
        threshold=threshold, claims=len(claims), denied=denied, flagged=flagged, true_positives=hits
    )
