"""Dependencies point one way: the text pipeline stands on core alone, and no app imports the demo
loader that fills them all."""

import ast
from pathlib import Path

TSUR = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every tsur module the file imports, wherever the import statement sits."""
    package = ".".join(path.relative_to(TSUR.parent).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return {name for name in found if name.startswith("tsur.")}


def sources(app: str, *, tests: bool) -> list[Path]:
    return [p for p in (TSUR / app).rglob("*.py") if tests or "tests" not in p.relative_to(TSUR).parts]


def test_the_text_pipeline_imports_nothing_above_core():
    allowed = ("tsur.nlp", "tsur.core")
    wrong = {
        f"{path.relative_to(TSUR.parent)}: {name}"
        for path in sources("nlp", tests=False)
        for name in imported_modules(path)
        if not name.startswith(allowed)
    }
    assert wrong == set()


def test_no_app_imports_the_demo():
    apps = [p.name for p in TSUR.iterdir() if (p / "apps.py").exists() and p.name != "demo"]
    wrong = {
        f"{path.relative_to(TSUR.parent)}: {name}"
        for app in apps
        for path in sources(app, tests=True)
        for name in imported_modules(path)
        if name.startswith("tsur.demo")
    }
    assert apps and wrong == set()
