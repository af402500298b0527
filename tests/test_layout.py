"""The package's layout: imports point from the entry points down the stages to the ground floor.

Walks every module of ``taxonomy`` with :mod:`ast` (imports inside functions included, since a
lazy import is still a dependency) and fails on an import cycle between modules, or on a module
importing one of a higher layer or of a sibling stage. A package's ``__init__`` may import its own
modules; its modules never import the package ``__init__`` back (that would be a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "taxonomy"

# Lower number = lower layer. Units of the same layer are siblings and do not import each other.
LAYERS: dict[str, int] = {
    # ground floor: shared by every stage
    "__init__": 0, "errors": 0, "schema": 0, "config": 0, "storage": 0, "parallel": 0,
    "redact": 0, "personal": 0, "people": 0, "identifiers": 0, "validate": 0, "window": 0, "hive": 0, "language": 0, "actions": 0, "quotes": 0, "wording": 0,
    # stages, in the order data flows through them
    "pull": 1, "ingest": 1, "samples": 1, "embed": 1,
    "tiers": 2, "topics": 2, "uncertainty": 2,
    "scoring": 3, "calibrate": 3, "enrich": 3,
    "publish": 4, "review": 4,
    "report": 5, "proving": 5,
    # entry points
    "pipeline": 6,
    "airflow_tasks": 7, "cli_parser": 7,
    "cli": 8,
    "__main__": 9,
}
GROUND = 0


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules ``name`` imports, resolved to modules (``from pkg import mod`` -> ``pkg.mod``)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target not in known:
                continue
            subs = {f"{target}.{a.name}" for a in node.names} & known
            out.update(subs or {target})
            if subs and len(subs) < len(node.names):
                out.add(target)
    out.discard(name)
    return out


def unit(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path a -> ... -> a), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state and (found := visit(n)):
            return found
    return None


def test_every_module_has_a_layer() -> None:
    missing = sorted({unit(n) for n in modules()} - set(LAYERS))
    assert not missing, f"give these a layer in LAYERS: {missing}"


def test_no_import_cycles() -> None:
    cycle = find_cycle(graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_point_down_the_layers() -> None:
    bad = []
    for name, deps in graph().items():
        u = unit(name)
        for dep in deps:
            d = unit(dep)
            if d == u:
                continue
            if LAYERS[d] > LAYERS[u] or (LAYERS[d] == LAYERS[u] and LAYERS[u] != GROUND):
                bad.append(f"{name} (layer {LAYERS[u]}) imports {dep} (layer {LAYERS[d]})")
    assert not bad, "\n".join(sorted(bad))


def test_modules_of_a_stage_do_not_import_their_own_package_init() -> None:
    mods = modules()
    bad = [f"{n} imports {d}" for n, deps in graph().items() for d in deps
           if n.count(".") >= 2 and d == n.rsplit(".", 1)[0] and mods[n].name != "__init__.py"]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_under_400_lines(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines < 400, f"{path.relative_to(PACKAGE)} has {lines} lines: split it"


def test_the_checker_finds_a_cycle_and_an_upward_import() -> None:
    """The checks above can fail: a planted cycle and a planted upward import are found."""
    g = {"taxonomy.storage": {"taxonomy.tiers.model"}, "taxonomy.tiers.model": {"taxonomy.storage"}}
    assert find_cycle(g) == ["taxonomy.storage", "taxonomy.tiers.model", "taxonomy.storage"]
    assert LAYERS[unit("taxonomy.tiers.model")] > LAYERS[unit("taxonomy.storage")]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
