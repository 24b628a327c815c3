"""No import cycles between the app's modules.

A cycle between modules works only as long as one of its imports is hidden inside a function, and
breaks the day someone moves that import to the top. The graph is built from the source with ``ast``.
The first check takes module-level imports only (what runs when a module is imported; ``if
TYPE_CHECKING:`` blocks never run). The second adds the imports inside functions, except in the two
places where a deferred import is the convention and runs once every module is loaded: a Celery task's
body (``tasks.py``) and ``AppConfig.ready()`` (``apps.py``); so a cycle hidden in a function shows."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_PACKAGES = ("claims", "rcm", "denials", "payment_plans", "kpis")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _app_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in APP_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(body: list[ast.stmt], *, in_functions: bool):
    """The statements that run when the module is imported, and with ``in_functions`` those in
    function bodies too."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if in_functions:
                yield from _statements(node.body, in_functions=True)
            continue
        yield node
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _statements(node.body, in_functions=in_functions)
            yield from _statements(node.orelse, in_functions=in_functions)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _statements(block, in_functions=in_functions)
        elif isinstance(node, ast.With | ast.For | ast.While):
            yield from _statements(node.body, in_functions=in_functions)
        elif isinstance(node, ast.ClassDef):
            # AppConfig.ready() runs once the app registry is loaded: its imports are not counted.
            body = [n for n in node.body if not (isinstance(n, ast.FunctionDef) and n.name == "ready")]
            yield from _statements(body, in_functions=in_functions)


def _imported_names(module: str, path: Path, *, deferred: bool) -> set[str]:
    """Every dotted name ``module`` imports when it is itself imported, and with ``deferred`` the
    names its functions import too (not a task body's: tasks import what they call when they run)."""
    is_package = path.name == "__init__.py"
    in_functions = deferred and module.rsplit(".", 1)[-1] != "tasks"
    names: set[str] = set()
    for node in _statements(ast.parse(path.read_text(), str(path)).body, in_functions=in_functions):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")
                package = package[: len(package) - node.level + (1 if is_package else 0)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module
            names.add(base)
            # ``from package import module`` imports the submodule too.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(*, deferred: bool = False) -> dict[str, set[str]]:
    """Module -> the app modules it imports at import time (with ``deferred``: or inside a function,
    see the module docstring). Importing ``a.b.c`` also runs the ``__init__`` of ``a`` and ``a.b``,
    except those the importer is already inside."""
    modules = _app_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        own_packages = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 2)}
        targets = set()
        for name in _imported_names(module, path, deferred=deferred):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in modules and target not in own_packages:
                    targets.add(target)
        graph[module] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]``, or None (an iterative depth-first search)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path, on_path = [start], {start}
        stack = [iter(sorted(graph[start]))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                finished = path.pop()
                done.add(finished)
                on_path.discard(finished)
                continue
            if following in on_path:
                return path[path.index(following) :] + [following]
            if following not in done:
                path.append(following)
                on_path.add(following)
                stack.append(iter(sorted(graph[following])))
    return None


def test_the_graph_sees_the_app_imports():
    graph = import_graph()
    # A few edges known to exist, so an empty graph cannot pass for a clean one.
    assert "claims.models" in graph["claims.remittances.posting"]
    assert "claims.edi.reader" in graph["claims.edi.intake"]
    assert "claims.scrubber.engine" in graph["claims.scrubber"]


def test_find_cycle_reports_the_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None


def test_there_is_no_import_cycle_between_app_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_import_inside_a_function_hides_a_cycle():
    cycle = find_cycle(import_graph(deferred=True))
    assert cycle is None, "import cycle, closed by an import inside a function: " + " -> ".join(cycle or [])
