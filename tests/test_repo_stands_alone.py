"""The repository stands alone: no tracked file reads anything beside it (a sibling ``shared`` folder, the
samples that once lived there) or climbs out of it with ``Path(__file__).parents[N]``. A fresh clone on its
own must build, run and pass its tests."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Names of places outside the repository.
OUTSIDE_NAMES = re.compile(r"\.\.[/\\]+shared\b|\bshared/x12-samples\b")
# ``Path(__file__).parents[N]`` and ``Path(__file__).parent.parent...``: outside the repository when they
# climb more levels than the file sits below the root.
PARENTS_INDEX = re.compile(r"__file__\)(?:\.resolve\(\)|\.absolute\(\))?\.parents\[(\d+)\]")
PARENT_CHAIN = re.compile(r"__file__\)(?:\.resolve\(\)|\.absolute\(\))?((?:\.parent\b)+)")


def tracked_text_files() -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [name for name in listing.split("\0") if name]


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:8000]  # git's own test


def climbs_out(path: str, line: str) -> bool:
    depth = len(Path(path).parts)  # tests/rcm/x.py: parents[2] is the root, parents[3] is outside
    for match in PARENTS_INDEX.finditer(line):
        if int(match.group(1)) >= depth:
            return True
    for match in PARENT_CHAIN.finditer(line):
        if match.group(1).count(".parent") > depth:
            return True
    return False


def offenders() -> list[str]:
    found = []
    for path in tracked_text_files():
        if path == THIS_FILE:  # it names the patterns it looks for
            continue
        file = ROOT / path
        if not file.is_file():  # deleted in the work tree, not yet in the index
            continue
        data = file.read_bytes()
        if is_binary(data):
            continue
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
            if OUTSIDE_NAMES.search(line) or climbs_out(path, line):
                found.append(f"{path}:{number}: {line.strip()}")
    return found


def test_no_tracked_file_reaches_outside_the_repository():
    found = offenders()
    assert found == [], (
        "These lines reach outside the repository (a fresh clone has nothing beside it; keep what the "
        "project needs inside it, e.g. tests/fixtures/):\n" + "\n".join(found)
    )


def test_the_check_sees_what_it_looks_for():
    parent = ".."  # spelled apart so this file does not name the path it looks for
    assert OUTSIDE_NAMES.search(f"SAMPLES = ROOT / '..' / '{parent}/shared/x12'")
    assert OUTSIDE_NAMES.search("open('shared/x12-samples/835.txt')")
    assert not OUTSIDE_NAMES.search("from rcm.practice_cache import shared_value")
    assert climbs_out("tests/rcm/test_x.py", "ROOT = Path(__file__).resolve().parents[3]")
    assert not climbs_out("tests/rcm/test_x.py", "ROOT = Path(__file__).resolve().parents[2]")
    assert not climbs_out("tests/claims/edi/test_x.py", "ROOT = Path(__file__).resolve().parents[3]")
    assert climbs_out("manage.py", "BASE = Path(__file__).resolve().parent.parent")
    assert not climbs_out("rcm/settings.py", "BASE_DIR = Path(__file__).resolve().parent.parent")
    assert is_binary(b"\x89PNG\r\n\x1a\n\0\0")
    assert not is_binary(b"plain text\n")
