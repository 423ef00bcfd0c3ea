"""Notify is a lower layer: the apps above compose their notices; notify imports none of them."""

import ast
from pathlib import Path

NOTIFY = Path(__file__).resolve().parents[1]
ABOVE = ("tsur.appeals", "tsur.dispatch", "tsur.nlp", "tsur.open311", "tsur.web")


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_notify_imports_no_app_above_it():
    found = {
        f"{path.relative_to(NOTIFY)}: {name}"
        for path in NOTIFY.rglob("*.py")
        if "tests" not in path.parts
        for name in imported(path)
        if name.startswith(ABOVE)
    }
    assert found == set()
