"""The package's shape, checked from its source so it cannot rot: layers import downwards only, no circles.

Layers, top to bottom: cli → web → orchestration → pipeline → stages | catalog → the base modules (records,
contract, settings, errors, store, ...). `stages` and `catalog` are peers that never import each other. Airflow is
imported only by `orchestration` and by `web.plugin` (the plugin that mounts the browser in Airflow's API server),
typer and rich only by `cli`, fastapi and jinja2 only by `web`. Imports inside functions count: a lazy import is still a
dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "tubescribe"
LAYERS = {"cli": 5, "web": 4, "orchestration": 3, "pipeline": 2, "stages": 1, "catalog": 1}  # the rest: base, 0
ONLY_IN = {
    "airflow": {"orchestration", "tubescribe.web.plugin"},
    "typer": {"cli"},
    "rich": {"cli"},
    "fastapi": {"web"},
    "starlette": {"web"},
    "jinja2": {"web"},
    "markupsafe": {"web"},
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """Every module `name` imports (absolute names), at any depth of its code."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from tubescribe.x import y` names the module tubescribe.x.y when y is one.
            found.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES)
    return found


def _layer(module: str) -> tuple[str, int]:
    top = module.split(".")[1] if module.count(".") >= 1 else ""
    return (top, LAYERS[top]) if top in LAYERS else ("base", 0)


GRAPH = {name: {m for m in _imports(name) if m in MODULES and m != name} for name in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_only(module):
    here, level = _layer(module)
    wrong = []
    for target in GRAPH[module]:
        there, target_level = _layer(target)
        if there == here and here != "base":
            continue
        if target_level >= level and not (here == there == "base"):
            wrong.append(f"{target} ({there})")
    assert not wrong, f"{module} ({here}) imports sideways or up: {', '.join(sorted(wrong))}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_third_party_frameworks_stay_in_their_layer(module):
    here, _ = _layer(module)
    for target in _imports(module):
        root = target.split(".")[0]
        if root in ONLY_IN:
            allowed = ONLY_IN[root]
            assert here in allowed or module in allowed, f"{module} imports {target}; only {sorted(allowed)} may"


def test_no_import_circles():
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in sorted(GRAPH[node]):
            if seen.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise AssertionError("import circle: " + " → ".join(cycle))
            if nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for name in sorted(MODULES):
        if name not in seen:
            visit(name, [name])


def test_the_rule_sees_the_layers():
    # Guards the guard: if the layout moved and the walk found nothing, every test above would pass vacuously.
    layers = {_layer(m)[0] for m in MODULES}
    assert {"cli", "orchestration", "pipeline", "stages", "catalog", "base"} <= layers
    assert any(GRAPH[m] for m in MODULES if m.startswith("tubescribe.cli"))


def test_airflow_does_not_import_the_package_as_plugins():
    # Airflow imports every .py under its plugins folder as a plugin module, by its bare name; the package is
    # installed, not a set of plugins, and plugins/.airflowignore keeps Airflow's discovery out of it.
    from airflow._shared.module_loading import find_path_from_directory

    found = [p for p in find_path_from_directory(str(PACKAGE.parent), ".airflowignore", "glob") if p.endswith(".py")]
    assert found == []
    everything = list(PACKAGE.rglob("*.py"))
    assert everything, "the check would pass vacuously without modules to hide"
