"""The layers, read from the source: imports point down (ui -> agent/retrain -> memory; retrain may
use agent, never the other way), and no module of ui/ imports another that imports it back."""
import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BELOW = {"memory": set(), "agent": {"memory"}, "retrain": {"memory", "agent"},
         "ui": {"memory", "agent", "retrain"}}


def imports(path: Path) -> set[str]:
    """Every memoloop module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] in BELOW}


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def sources(layer: str) -> list[Path]:
    return [p for p in (REPO / layer).rglob("*.py") if "packs" not in p.parts]


def test_imports_point_down():
    wrong = [(module_of(p), m) for layer, allowed in BELOW.items() for p in sources(layer)
             for m in imports(p) if m.split(".")[0] not in allowed | {layer}]
    assert wrong == []


def test_no_import_cycle_in_ui():
    modules = {module_of(p): p for p in sources("ui")}
    graph = {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in graph[start])

    assert [name for name in graph if reaches(name, name)] == []
