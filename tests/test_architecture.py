"""The house rules of ARCHITECTURE.md, checked: imports point one way, state has one door, each concept has one
table and everything that lists a concept follows its table."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from mockserver import catalogue, control, faults, operations, records, scenarios
from mockserver.app import routes
from mockserver.journal import operation_ids
from mockserver.models import Run

ROOT = Path(__file__).resolve().parents[1]

# Layers, lowest first: a module may import from its own layer and the layers below, never from above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("models", "errors"),
    ("catalogue", "wire", "config", "sources", "scenarios", "faults", "control", "contract", "prompts", "tool_schemas",
     "schema_values", "model_config"),
    ("records", "paging", "store"),
    ("synthesize", "engine"),
    ("http", "sending", "runs", "history", "handlers", "operations", "journal", "calls", "admin", "dashboard",
     "appstate", "openapi", "recording", "auth"),  # recording: the recording proxy and the replay layer are HTTP-level
    ("app", "serving", "live", "cli", "pytest_plugin", "testing", "hypothesis_hook", "fuzz", "conformance",
     "__init__"),
)
LAYER = {name: index for index, names in enumerate(LAYERS) for name in names}
# Below the HTTP layer nothing knows of Starlette or uvicorn: the engine and the state are plain Python.
WEB_FRAMEWORKS = ("starlette", "uvicorn")
# What the strategies may use of the server package: the contract, the catalogue, the wire rules.
STRATEGIES_MAY_IMPORT = {"models", "catalogue", "wire"}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def top_name(path: Path, package: str) -> str:
    """``mockserver/engine/loop.py`` -> ``engine``; ``mockserver/store.py`` -> ``store``."""
    parts = path.relative_to(ROOT / package).with_suffix("").parts
    return parts[0]


def imports(path: Path) -> list[tuple[str, int]]:
    """Every module ``path`` imports (at the top or inside functions), absolute, with its line."""
    tree = ast.parse(path.read_text(), str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{path}:{node.lineno}: a relative import (the house uses absolute ones)"
            base = node.module or ""
            found.append((base, node.lineno))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def test_the_layers_name_every_server_module() -> None:
    named = {top_name(path, "mockserver") for path in modules("mockserver")}
    assert named == set(LAYER)


@pytest.mark.parametrize("path", modules("mockserver"), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_server_module_imports_only_from_its_layer_and_below(path: Path) -> None:
    own = LAYER[top_name(path, "mockserver")]
    wrong = []
    for name, line in imports(path):
        parts = name.split(".")
        if parts[0] == "strategies":
            wrong.append(f"line {line}: {name} (the server never imports the strategies)")
        elif parts[0] == "mockserver" and len(parts) > 1 and parts[1] in LAYER and LAYER[parts[1]] > own:
            wrong.append(f"line {line}: {name} is in layer {LAYER[parts[1]]}, above this module's {own}")
        elif parts[0] in WEB_FRAMEWORKS and own < LAYER["http"]:
            wrong.append(f"line {line}: {name}: below the HTTP layer, nothing knows of {parts[0]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", modules("strategies"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_strategies_import_only_the_contract_the_catalogue_and_the_wire_rules(path: Path) -> None:
    wrong = [
        f"line {line}: {name}"
        for name, line in imports(path)
        if name.startswith("mockserver.") and name.split(".")[1] not in STRATEGIES_MAY_IMPORT
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_hypothesis_hook_names_the_strategies_and_only_at_run_time() -> None:
    naming = [p for p in modules("mockserver") if re.search(r"""["']strategies[._]""", p.read_text())]
    assert naming == [ROOT / "mockserver" / "hypothesis_hook.py"]


# -- state has one door -------------------------------------------------------------------------------------------

RECORD_FIELDS = {
    field.name
    for record in (records.AgentRecord, records.RunRecord, records.StoredMessage, records.PendingApproval)
    for field in dataclasses.fields(record)
} | {"agents", "messages", "runs", "conversations", "scripts"}  # the Store's own collections
RUN_FIELDS = set(Run.model_fields)
MUTATORS = {"append", "extend", "insert", "pop", "popleft", "remove", "clear", "update", "add", "discard", "setdefault"}


def _mutations(tree: ast.AST) -> list[tuple[int, str]]:
    """Assignments to a record's fields (or a run's), and mutating calls on its collections, outside ``self``."""
    found = []

    def record_attribute(node: ast.expr) -> bool:
        if not isinstance(node, ast.Attribute):
            return False
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return False  # an object's own attribute
        if isinstance(node.value, ast.Attribute) and node.value.attr == "run":
            return node.attr in RUN_FIELDS
        return node.attr in RECORD_FIELDS

    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            parts = [p.value if isinstance(p, ast.Subscript) else p for p in ast.walk(target)]
            if any(isinstance(part, ast.expr) and record_attribute(part) for part in parts):
                found.append((node.lineno, ast.unparse(target)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            if record_attribute(node.func.value):
                found.append((node.lineno, ast.unparse(node.func)))
    return found


@pytest.mark.parametrize(
    "path",
    # conformance/ holds no records: it drives a server (``s.client.agents.update``) through the official SDK.
    [p for p in modules("mockserver") if p.name != "records.py" and p.parent.name not in ("store", "conformance")],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_store_changes_state(path: Path) -> None:
    found = _mutations(ast.parse(path.read_text()))
    assert not found, "\n".join(f"line {line}: {what} (call a Store method instead)" for line, what in found)


def test_the_state_door_check_would_catch_a_direct_change() -> None:
    code = "agent.pending = None\nrecord.run.status = 'running'\nstore.runs[run_id] = r\nagent.in_context.append(m)\n"
    assert [line for line, _ in _mutations(ast.parse(code))] == [1, 2, 3, 4]


# -- one table per concept ----------------------------------------------------------------------------------------


def test_every_route_is_an_operation_and_the_journal_names_it_by_its_operation_id() -> None:
    handlers = [operation.handler for operation in operations.OPERATIONS]
    assert len(handlers) == len(set(handlers)), "a handler in two rows: the journal could not tell them apart"
    served = {route.endpoint for route in routes() if route.path != "/openapi.json"}  # type: ignore[attr-defined]
    assert served == set(handlers)
    assert operation_ids() == {operation.handler: operation.operation_id for operation in operations.OPERATIONS}


def test_the_controls_follow_the_tables() -> None:
    assert set(control.TRIGGERS) >= {s.trigger for s in scenarios.SCENARIOS.values() if s.trigger}
    for key, table in (("scenario", scenarios.SCENARIOS), ("error", catalogue.IN_BAND_ERRORS)):
        for name in table:
            assert control.parse_controls({key: name}).as_dict() == {key: name}
    for kind in faults.FAULTS.values():
        spec = {0: kind.name, 1: f"{kind.name}:1", 2: f"{kind.name}:500"}[kind.arity]
        assert control.parse_controls({"fault": spec}).fault == (faults.Fault(*_parts(spec)),)


def _parts(spec: str) -> tuple[str, int | None]:
    name, _, arg = spec.partition(":")
    return name, int(arg) if arg else None


README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    "name",
    [
        *(f"`{s.name}`" for s in scenarios.SCENARIOS.values()),
        *(f"`{t.usage}`" for t in control.TRIGGERS.values()),
        *(f"`{kind.form.replace('<N>', 'N').replace('<status>', 'STATUS').replace('[:<attempts>]', '[:ATTEMPTS]')}`"
          for kind in faults.FAULTS.values()),
        *(f"`{name}`" for name in catalogue.IN_BAND_ERRORS),
        *(f"`{key}`" for key in control.KEYS),
    ],
)  # fmt: skip
def test_the_readme_lists_every_scenario_trigger_fault_error_type_and_control(name: str) -> None:
    assert name in README
