"""The layout of DESIGN.md holds: each package imports only what its row allows, no import runs
back up, workflows address activities by name, and no code reaches into a library's private
attributes. Read from the source (AST), so a violation fails here before it fails anywhere."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "core",
    "planning",
    "erp",
    "store",
    "services",
    "workflows",
    "activities",
    "api",
    "portal",
    "channels",
    "cli",
]
CONTRACT = "workflows.contract"
# Who may import whom (besides itself and third-party libraries). `workflows.contract` is its
# own layer: the workflows' inputs, results, statuses and names, shared with their callers.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "planning": {"core"},
    "erp": {"core", "planning"},
    "store": {"core"},
    CONTRACT: {"core"},
    "services": {"core", "planning", "erp", "store", CONTRACT},
    "workflows": {"core", "planning", CONTRACT},
    "activities": {"core", "services", "erp", "store", CONTRACT},
    "api": {"core", "planning", "erp", "store", "services", CONTRACT},
    "portal": {"core", "store", "services", "api", CONTRACT},
    "channels": {"core", "store", "services", "api", CONTRACT},
    "cli": set(PACKAGES) | {CONTRACT},
}
# The portal renders what services return; of the API it uses the auth dependencies only.
PORTAL_API = ("api.auth", "api.deps", "api.errors")
# A channel's webhook is a route of its own; of the API it uses the dependencies and the
# shape of an error answer only.
CHANNEL_API = ("api.deps", "api.schemas.common")


def _layer(module: str) -> str | None:
    if module == CONTRACT or module.startswith(CONTRACT + "."):
        return CONTRACT
    top = module.split(".")[0]
    return top if top in PACKAGES else None


def _imports() -> list[tuple[str, Path, int, str]]:
    """(importing layer, file, line, imported module) for every project import."""
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            layer = _layer(module)
            assert layer is not None
            for node in ast.walk(ast.parse(path.read_text())):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                for name in names:
                    if _layer(name) is not None:
                        found.append((layer, path, node.lineno, name))
    return found


IMPORTS = _imports()


def test_each_package_imports_only_what_its_row_allows() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for layer, path, line, name in IMPORTS
        if (target := _layer(name)) != layer and target not in ALLOWED[layer]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_portal_uses_services_not_api_routes() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for layer, path, line, name in IMPORTS
        if layer == "portal" and _layer(name) == "api" and not name.startswith(PORTAL_API)
    ]
    assert not wrong, "\n".join(wrong)


def test_channels_use_services_not_api_routes() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for layer, path, line, name in IMPORTS
        if layer == "channels" and _layer(name) == "api" and not name.startswith(CHANNEL_API)
    ]
    assert not wrong, "\n".join(wrong)


def test_there_are_no_cycles_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for layer, _path, _line, name in IMPORTS:
        target = _layer(name)
        if target and target != layer:
            graph[layer].add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cyclic = sorted(layer for layer in list(graph) if reaches(layer, layer, {layer}))
    assert not cyclic, {layer: sorted(graph[layer]) for layer in cyclic}


@pytest.mark.parametrize("path", sorted((ROOT / "workflows").glob("*.py")), ids=lambda p: p.name)
def test_workflows_address_activities_by_name(path: Path) -> None:
    """A workflow module imports no activity code: it runs activities by their names, so the
    sandbox never loads what they import (database, HTTP clients)."""
    source = path.read_text()
    assert "from activities" not in source and "import activities" not in source
    assert "execute_activity_method" not in source


def test_no_code_reaches_into_private_attributes() -> None:
    """No `obj._private` on anything but self/cls, no `getattr(obj, "_private")`: library
    internals change without notice (starting a cycle once read the SDK's private start
    response)."""
    wrong = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute):
                    private = node.attr.startswith("_") and not node.attr.startswith("__")
                    own = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
                    if private and not own:
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "getattr"
                    and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                    and str(node.args[1].value).startswith("_")
                ):
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert not wrong, "\n".join(wrong)


def test_no_code_is_generated_at_run_time() -> None:
    """No exec, eval or compile of source text: the code that runs is the code in the repo
    (the ERP mapping once compiled its converters with exec)."""
    wrong = [
        f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}"
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"exec", "eval", "compile"}
    ]
    assert not wrong, "\n".join(wrong)
