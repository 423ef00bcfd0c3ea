"""The shape of the code, checked: dependencies between apps point one way, imports of the
project's own modules sit at the top, interfaces do not write to the database themselves, and no
module grows past what a reader can hold."""

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the tsur package
MAX_LINES = 600
# Each app may import only from apps on a lower layer (or its own): the domain stands on core, the
# interfaces on the domain, the demo loader on everything it fills.
LAYERS = {"core": 0, "nlp": 1, "notify": 1, "appeals": 2, "dispatch": 3, "social": 3, "open311": 4, "web": 4, "demo": 5}
# The project's modules a function may import late, and why: scikit-learn and SciPy load with the
# first text model, not in every process that imports the register.
LATE = {"tsur.nlp.model.TextModel"}
INTERFACES = ("web", "open311")  # apps that only present the domain; also every app's api/ package


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "tests" in parts or "migrations" in parts:
            continue
        yield path, parts


def dotted(parts) -> str:
    names = ["tsur", *parts[:-1]]
    return ".".join(names if parts[-1] == "__init__.py" else [*names, parts[-1][:-3]])


def imported(node, module: str, is_package: bool) -> list[str]:
    """The project's modules an import statement names, resolved from relative form."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("tsur.")]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    if not target.startswith("tsur"):
        return []
    return [f"{target}.{a.name}" for a in node.names] if not node.module or node.level else [target]


def app_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else ""


def imports():
    """(module, path, node, imported module, whether at the top of the module) for every import of
    the project's own code."""
    for path, parts in modules():
        module = dotted(parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        for n in tree.body:  # `if TYPE_CHECKING:` imports are for the reader and the type checker
            if isinstance(n, ast.If) and ast.unparse(n.test).endswith("TYPE_CHECKING"):
                top.update(id(child) for child in n.body)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in imported(node, module, parts[-1] == "__init__.py"):
                    yield module, path, node, target, id(node) in top


def test_apps_import_only_from_lower_layers():
    upward = sorted(
        f"{module} → {target}"
        for module, _path, _node, target, _top in imports()
        if LAYERS[app_of(module)] < LAYERS[app_of(target)]
    )
    assert set(LAYERS) == {p.name for p in ROOT.iterdir() if (p / "apps.py").exists()}
    assert upward == []


def test_no_import_cycle_between_apps():
    graph = defaultdict(set)
    for module, _path, _node, target, _top in imports():
        if app_of(module) != app_of(target):
            graph[app_of(module)].add(app_of(target))
    cycles = []
    for app in list(graph):
        seen, stack = set(), [(app, [app])]
        while stack:
            current, trail = stack.pop()
            for nxt in graph.get(current, ()):
                if nxt == app:
                    cycles.append(" → ".join([*trail, app]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
    assert cycles == []


def test_the_project_is_imported_at_the_top_of_modules():
    """An import hidden in a function to dodge a cycle means something lives in the wrong app;
    AppConfig.ready() wiring is the exception."""
    hidden = [
        f"{path.relative_to(ROOT.parent)}:{node.lineno} {target}"
        for module, path, node, target, top in imports()
        if not top and path.name != "apps.py" and target not in LATE
    ]
    assert hidden == []


def test_domain_code_never_imports_its_interfaces():
    def is_interface(module: str) -> bool:
        return (
            app_of(module) in INTERFACES
            or any(f".{part}" in module for part in (".api", ".management", ".filtersets", ".admin"))
            or module.endswith((".views", ".urls"))
        )

    wrong = sorted(
        f"{module} → {target}"
        for module, path, _node, target, _top in imports()
        if not is_interface(module) and is_interface(target) and path.name != "apps.py"
    )
    assert wrong == []


WRITES = {"save", "create", "bulk_create", "update", "delete", "get_or_create", "update_or_create"}


def is_view(parts) -> bool:
    return "api" in parts or parts[0] == "web" or parts[-1] == "views.py" or parts[-1].endswith("_views.py")


def test_views_write_only_through_actions():
    """Pages and APIs call actions; a model written from a view is a step without its event."""
    found = []
    for path, parts in modules():
        if not is_view(parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = ast.unparse(node.func.value)
            if node.func.attr in {"save", "delete"} or (node.func.attr in WRITES and "objects" in receiver):
                found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {receiver}.{node.func.attr}()")
    assert found == []


@pytest.mark.parametrize("path", [p for p, _ in modules()], ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_longer_than_a_reader_can_hold(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES
