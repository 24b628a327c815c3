"""An X12 file's outcome reads in the same order on every database (PostgreSQL's jsonb sorts keys
by length)."""

from claims.edi.intake import outcome_words


def test_counts_read_in_the_order_the_import_counts_them_whatever_order_the_keys_come_in():
    stored_by_jsonb = {"exceptions": 1, "remittances": 1, "claims_posted": 2}
    assert outcome_words(stored_by_jsonb) == ["1 remittance", "2 claims posted", "1 exception"]


def test_a_count_of_unknown_kind_comes_last_and_nothing_empty_breaks():
    assert outcome_words({"surprises": 3, "claims_rejected": 1}) == ["1 claim rejected", "3 surprises"]
    assert outcome_words({}) == []
    assert outcome_words(None) == []
