"""A lenient, strict-where-it-matters X12 reader.

Delimiters come from the ISA segment (element separator at position 3, component separator at 104,
segment terminator at 105, repetition separator in ISA11); line breaks and stray whitespace between
segments are ignored. Envelopes are checked (ISA/IEA, GS/GE, ST/SE pairs, counts and control
numbers) and every problem is reported as ``X12Error`` naming the segment and its position, so an
import can refuse a file with a message a biller can act on. Implementation-guide validation is
separate (``claims.x12.validation``): real-world files often fail it and must still be read."""

import dataclasses
import re

_SEGMENT_ID = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_ISA_WIDTHS = (
    2,
    10,
    2,
    10,
    2,
    15,
    2,
    15,
    6,
    4,
    1,
    5,
    9,
    1,
    1,
)  # ISA01..ISA15; ISA16 is the component separator


class X12Error(ValueError):
    """A file that cannot be read; the message names the segment and where it is."""


@dataclasses.dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    segment: str
    repetition: str


@dataclasses.dataclass
class Segment:
    id: str
    elements: list[str]  # elements[0] is the segment id, so elements[1] is XX01
    position: int  # 1-based position of the segment in the file

    def get(self, index: int, default: str = "") -> str:
        return self.elements[index] if index < len(self.elements) else default

    def components(self, index: int, delimiters: Delimiters) -> list[str]:
        return self.get(index).split(delimiters.component)

    def __str__(self) -> str:
        return "*".join(self.elements)


@dataclasses.dataclass
class TransactionSet:
    code: str  # ST01: 837, 835, 999, 277
    control_number: str
    implementation: str  # ST03 (or GS08 when ST03 is absent)
    segments: list[Segment]  # from ST to SE inclusive


@dataclasses.dataclass
class FunctionalGroup:
    functional_id: str  # GS01: HC, HP, FA, HN
    sender: str
    receiver: str
    control_number: str
    version: str  # GS08
    transactions: list[TransactionSet]


@dataclasses.dataclass
class Interchange:
    sender: str
    receiver: str
    control_number: str
    usage: str
    delimiters: Delimiters
    groups: list[FunctionalGroup]
    warnings: list[str] = dataclasses.field(default_factory=list)

    def transactions(self):
        for group in self.groups:
            yield from group.transactions


def delimiters_from(text: str) -> Delimiters:
    if not text.startswith("ISA"):
        first = text[:40].splitlines()[0] if text else ""
        raise X12Error(
            f"This is not an X12 file: it must start with an ISA segment, it starts with {first!r}."
        )
    if len(text) < 106:
        raise X12Error("The ISA segment is truncated: it must be 106 characters long.")
    element, component, terminator = text[3], text[104], text[105]
    if element.isalnum() or component.isalnum() or terminator.isalnum():
        raise X12Error(
            "The ISA segment is malformed: its delimiters (positions 4, 105 and 106) "
            "must not be letters or digits."
        )
    isa = text[:106].split(element)
    if len(isa) != 17:
        raise X12Error(f"The ISA segment is malformed: it must have 16 elements, it has {len(isa) - 1}.")
    for number, (value, width) in enumerate(zip(isa[1:16], _ISA_WIDTHS, strict=True), 1):
        if len(value) != width:
            raise X12Error(
                f"The ISA segment is malformed: ISA{number:02d} must be {width} characters, "
                f"it is {len(value)} ({value!r}); the delimiters cannot be read."
            )
    repetition = isa[11] if isa[12] >= "00501" and not isa[11].isalnum() else "^"
    return Delimiters(element=element, component=component, segment=terminator, repetition=repetition)


def split_segments(text: str) -> tuple[Delimiters, list[Segment]]:
    text = text.lstrip("\ufeff \t\r\n")
    delimiters = delimiters_from(text)
    segments = []
    for raw in text.split(delimiters.segment):
        raw = raw.strip(" \t\r\n")
        if not raw:
            continue
        elements = raw.split(delimiters.element)
        position = len(segments) + 1
        segment_id = elements[0]
        if not _SEGMENT_ID.match(segment_id):
            raise X12Error(f"Segment {position} has an invalid segment identifier {segment_id[:20]!r}.")
        segments.append(Segment(id=segment_id, elements=elements, position=position))
    return delimiters, segments


def _expect(segment: Segment | None, segment_id: str, context: str) -> Segment:
    if segment is None:
        raise X12Error(f"The file is truncated: {segment_id} expected {context}, but the file ends.")
    if segment.id != segment_id:
        raise X12Error(f"Segment {segment.position} ({segment.id}): expected {segment_id} {context}.")
    return segment


def parse(text: str) -> list[Interchange]:
    """Every interchange in ``text`` with its groups and transaction sets, envelopes checked."""
    delimiters, segments = split_segments(text)
    interchanges = []
    index = 0

    def peek():
        return segments[index] if index < len(segments) else None

    while index < len(segments):
        isa = _expect(peek(), "ISA", "to open an interchange")
        index += 1
        interchange = Interchange(
            sender=isa.get(6).strip(),
            receiver=isa.get(8).strip(),
            control_number=isa.get(13),
            usage=isa.get(15),
            delimiters=delimiters,
            groups=[],
        )
        while peek() is not None and peek().id == "GS":
            gs = peek()
            index += 1
            group = FunctionalGroup(
                functional_id=gs.get(1),
                sender=gs.get(2),
                receiver=gs.get(3),
                control_number=gs.get(6),
                version=gs.get(8),
                transactions=[],
            )
            while peek() is not None and peek().id == "ST":
                st = peek()
                body = [st]
                index += 1
                while peek() is not None and peek().id not in ("SE", "ST", "GE", "IEA", "GS", "ISA"):
                    body.append(peek())
                    index += 1
                se = _expect(
                    peek(), "SE", f"to close transaction set {st.get(2)} opened at segment {st.position}"
                )
                body.append(se)
                index += 1
                if se.get(2) != st.get(2):
                    interchange.warnings.append(
                        f"Segment {se.position} (SE): control number {se.get(2)!r} "
                        f"does not match ST02 {st.get(2)!r}."
                    )
                try:
                    declared = int(se.get(1))
                except ValueError:
                    raise X12Error(
                        f"Segment {se.position} (SE): the segment count {se.get(1)!r} is not a number."
                    ) from None
                if declared != len(body):
                    raise X12Error(
                        f"Segment {se.position} (SE): says {declared} segments, "
                        f"transaction set {st.get(2)} has {len(body)}."
                    )
                group.transactions.append(
                    TransactionSet(
                        code=st.get(1),
                        control_number=st.get(2),
                        implementation=st.get(3) or group.version,
                        segments=body,
                    )
                )
            ge = _expect(
                peek(),
                "GE",
                f"to close functional group {group.control_number} (or ST to open a transaction set)",
            )
            index += 1
            if ge.get(2) != group.control_number:
                interchange.warnings.append(
                    f"Segment {ge.position} (GE): control number {ge.get(2)!r} "
                    f"does not match GS06 {group.control_number!r}."
                )
            if ge.get(1) != str(len(group.transactions)):
                raise X12Error(
                    f"Segment {ge.position} (GE): says {ge.get(1)} transaction sets, "
                    f"the group has {len(group.transactions)}."
                )
            interchange.groups.append(group)
        iea = _expect(
            peek(), "IEA", f"to close interchange {interchange.control_number} (or GS to open a group)"
        )
        index += 1
        if iea.get(2) != interchange.control_number:
            interchange.warnings.append(
                f"Segment {iea.position} (IEA): control number {iea.get(2)!r} "
                f"does not match ISA13 {interchange.control_number!r}."
            )
        if iea.get(1) != str(len(interchange.groups)):
            raise X12Error(
                f"Segment {iea.position} (IEA): says {iea.get(1)} groups, "
                f"the interchange has {len(interchange.groups)}."
            )
        interchanges.append(interchange)
    if not interchanges:
        raise X12Error("The file holds no interchange.")
    return interchanges


def transaction_kind(interchanges: list[Interchange]) -> str:
    """'999', '277CA', '835' or '837' when every transaction set in the file is of that kind."""
    kinds = set()
    for interchange in interchanges:
        for transaction in interchange.transactions():
            if transaction.code == "277":
                kinds.add("277CA" if "X214" in transaction.implementation else "277")
            else:
                kinds.add(transaction.code)
    if len(kinds) != 1:
        raise X12Error(
            f"The file mixes transaction types ({', '.join(sorted(kinds)) or 'none'}); "
            "import one kind per file."
        )
    return kinds.pop()
