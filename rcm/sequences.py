from django.db import transaction

from rcm.models import NumberSequence


def sequence_next(*, practice, name: str, count: int = 1) -> range:
    """Reserve ``count`` consecutive numbers of the practice's ``name`` sequence (first is 1)."""
    with transaction.atomic():
        sequence, _ = NumberSequence.objects.select_for_update().get_or_create(practice=practice, name=name)
        first = sequence.last_value + 1
        sequence.last_value += count
        sequence.save(update_fields=["last_value"])
    return range(first, first + count)
