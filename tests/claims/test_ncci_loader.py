import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from claims.models import MueLimit, NcciPtpEdit
from claims.scrubber.ncci import SAMPLE_PTP


def test_sample_tables_load_once_and_reload_changes_nothing(db, capsys):
    call_command("load_ncci", "--sample")
    assert "ncci_ptp_sample.txt: PTP — 11 added, 0 changed." in capsys.readouterr().out
    assert (NcciPtpEdit.objects.count(), MueLimit.objects.count()) == (11, 18)
    call_command("load_ncci", "--sample")
    out = capsys.readouterr().out
    assert "PTP — 0 added, 0 changed." in out and "MUE — 0 added, 0 changed." in out
    edit = NcciPtpEdit.objects.get(column1="99214", column2="36415")
    assert (str(edit.deletion_date), edit.modifier_indicator) == ("2003-01-01", "9")


def test_a_changed_row_is_updated(db, tmp_path, capsys):
    call_command("load_ncci", "--sample")
    changed = tmp_path / "ptp.txt"
    changed.write_text(
        SAMPLE_PTP.read_text().replace("17000\t11102\t\t20190101\t*\t1", "17000\t11102\t\t20190101\t*\t0")
    )
    call_command("load_ncci", str(changed))
    assert "ptp.txt: PTP — 0 added, 1 changed." in capsys.readouterr().out
    assert NcciPtpEdit.objects.get(column1="17000", column2="11102").modifier_indicator == "0"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            (
                "Column 1\tColumn 2\t*\tEffective Date\tDeletion Date\tModifier\n"
                "93000\t93005\t\t20000101\t*\t7\n"
            ),
            "Row 2: modifier indicator '7' must be 0, 1 or 9. Nothing was loaded from this file.",
        ),
        (
            (
                "Column 1\tColumn 2\t*\tEffective Date\tDeletion Date\tModifier\n"
                "93000\t93005\t\t2000-01-01\t*\t0\n"
            ),
            "Row 2: effective date '2000-01-01' is not a date (YYYYMMDD). Nothing was loaded from this file.",
        ),
        (
            '"HCPCS/CPT Code","Practitioner Services MUE Values"\n"36415","two"\n',
            "Row 2: MUE value 'two' is not a whole number. Nothing was loaded from this file.",
        ),
        ("hello\n", "This is neither an NCCI PTP file"),
    ],
)
def test_a_bad_file_is_refused_whole(db, tmp_path, content, message):
    path = tmp_path / "bad.txt"
    good_rows = "93010\t93000\t\t20000101\t*\t0\n" if "Column 1" in content else ""
    path.write_text(content + good_rows)
    with pytest.raises(
        CommandError, match=message.split(" Nothing")[0].replace("(", r"\(").replace(")", r"\)")
    ):
        call_command("load_ncci", str(path))
    assert NcciPtpEdit.objects.count() == 0 and MueLimit.objects.count() == 0
