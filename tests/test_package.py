"""The package's shape, as a newcomer relies on it: one sub-package per stage, mirroring
workflow/rules/; steps apart from pure code; no import circles; small modules and
functions."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from alspec.cli.common import COMMANDS

from conftest import REPO

SOURCE = REPO / "src" / "alspec"
RULES = REPO / "workflow" / "rules"
LONGEST_MODULE = 500  # lines
LONGEST_FUNCTION = 60  # lines, unless its docstring says why ("Long because ...")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(SOURCE.parent).with_suffix("").parts).removesuffix(".__init__")


MODULES = {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}
STAGES = sorted(path.stem for path in RULES.glob("*.smk") if path.stem != "common")


def imported(name: str) -> Iterator[tuple[str, int]]:
    """Every alspec module `name` imports, at its top or inside a function, and where."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target, node.lineno


def import_graph() -> dict[str, set[str]]:
    return {name: {target for target, _ in imported(name)} for name in MODULES}


def test_no_module_imports_itself_back_through_others():
    """No import circle, counting the imports inside functions (Tarjan's components)."""
    graph, index, low, stack, circles = import_graph(), {}, {}, [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                circles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not circles, f"import circles: {circles}"


def test_pure_modules_never_import_a_step():
    """Steps (what the CLI and the rules run) call pure code, never the other way round."""
    offenders = [
        f"{name}:{line} imports {target}"
        for name in MODULES
        if not name.endswith(".steps") and not name.startswith("alspec.cli")
        for target, line in imported(name)
        if target.endswith(".steps")
    ]
    assert not offenders


@pytest.mark.parametrize("stage", STAGES)
def test_each_rule_file_runs_the_steps_of_its_own_stage(stage):
    """workflow/rules/<stage>.smk runs `alspec <command>`s that alspec.cli.<stage> defines,
    and that module calls alspec.<stage>.steps alone (`alspec config`, which resolves a
    config, is no stage's: evaluation records with it what an iteration ran with)."""
    assert f"alspec.{stage}.steps" in MODULES, f"no src/alspec/{stage}/steps.py"
    text = (RULES / f"{stage}.smk").read_text()
    commands = set(re.findall(r'"alspec ([a-z][a-z-]*)', text)) - {"config"}
    assert commands, f"{stage}.smk runs no alspec command"
    for command in commands:
        run = COMMANDS[command][0]
        assert run.__module__ == f"alspec.cli.{stage}", f"{command} is not in alspec.cli.{stage}"
    steps = {target for target, _ in imported(f"alspec.cli.{stage}") if target.endswith(".steps")}
    assert steps == {f"alspec.{stage}.steps"}, steps


def test_the_package_says_where_each_stage_lives():
    import alspec

    assert re.fullmatch(r"\d+\.\d+\.\d+", alspec.__version__)
    for stage in STAGES:
        assert f"{stage}/" in alspec.__doc__, f"alspec/__init__.py does not name {stage}/"


def test_modules_and_functions_stay_small():
    long_modules = [
        f"{name}: {lines} lines"
        for name, path in MODULES.items()
        if (lines := len(path.read_text().splitlines())) > LONGEST_MODULE
    ]
    long_functions = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
        and node.end_lineno - node.lineno + 1 > LONGEST_FUNCTION
        and "Long because" not in (ast.get_docstring(node) or "")
    ]
    assert not long_modules and not long_functions, long_modules + long_functions
