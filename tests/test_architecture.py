"""docs/architecture.md is the map of the tree: it names every package, and names none that is gone."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("rcm", "claims", "denials", "payment_plans", "kpis", "devdata")
NOT_MAPPED = {"migrations", "commands"}  # Django's own homes, described with their parent


def _packages() -> set[str]:
    found = set()
    for app in APPS:
        for init in (ROOT / app).rglob("__init__.py"):
            package = init.parent
            if NOT_MAPPED & set(package.relative_to(ROOT).parts):
                continue
            found.add(package.relative_to(ROOT).as_posix() + "/")
    return found


def _mapped() -> set[str]:
    text = (ROOT / "docs" / "architecture.md").read_text()
    return set(re.findall(r"^\| `([a-z_/]+/)` \|", text, re.M))


def test_every_package_is_on_the_map():
    missing = sorted(_packages() - _mapped())
    assert not missing, f"docs/architecture.md does not describe these packages: {missing}"


def test_the_map_names_no_package_that_is_not_there():
    gone = sorted(_mapped() - _packages())
    assert not gone, f"docs/architecture.md describes packages that do not exist: {gone}"
