"""The house rules of ARCHITECTURE.md, checked: imports point one way, state has one door, each concept has one
table and everything that lists a concept follows its table."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from _local import ROOT

from mockserver import catalogue, control, faults, operations, records, scenarios
from mockserver.app import HANDLERS, create_app, routes
from mockserver.models import STOP_REASONS, Run
from mockserver.parameters import PARAMETERS
from mockserver.rules import Rules

# Layers, lowest first: a module may import from its own layer and the layers below, never from above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("models", "errors", "version"),
    (
        "catalogue",
        "wire",
        "config",
        "sources",
        "scenarios",
        "faults",
        "control",
        "contract",
        "prompts",
        "tool_schemas",
        "schema_values",
        "rules",
        "model_config",
    ),
    ("records", "paging", "store"),
    ("synthesize", "engine"),
    (
        "http",
        "bodies",
        "parameters",
        "sending",
        "runs",
        "history",
        "handlers",
        "operations",
        "journal",
        "calls",
        "admin",
        "dashboard",
        "appstate",
        "openapi",
        "recording",
        "auth",
        "allowlists",
        "authored",
    ),  # recording: the
    # recording proxy and the replay layer are HTTP-level; authored: rules matched to requests (sending's hook, the
    # admin routes, recordings as turns)
    (
        "app",
        "serving",
        "live",
        "inprocess",
        "cli",
        "pytest_plugin",
        "testing",
        "hypothesis_hook",
        "fuzz",
        "conformance",
        "__init__",
    ),
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


# -- no import loops -------------------------------------------------------------------------------------------------

TOP_PACKAGES = ("mockserver", "strategies")  # their __init__ is the public API: it imports from the modules, never back


def module_names() -> dict[str, Path]:
    out = {}
    for package in TOP_PACKAGES:
        for path in modules(package):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Each module's imports of our modules, at the top or inside functions. ``from P import m`` names the module
    ``P.m`` and, for a subpackage ``P``, its ``__init__`` too (whose re-exports may import ``m``'s siblings); a name
    from a package is an edge to its ``__init__``."""
    names = module_names()
    graph: dict[str, set[str]] = {name: set() for name in names}
    for name, path in names.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    named_package = submodule not in names or node.module not in TOP_PACKAGES
                    targets += [submodule] if submodule in names else []
                    targets += [node.module] if named_package else []
            for target in targets:
                while target and target not in names:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_back_through_others_lazy_imports_included() -> None:
    assert loops(import_graph()) == []


def test_the_loop_check_would_catch_a_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": {"e"}}
    assert loops(graph) == [["a", "b", "c"], ["e", "e2"]]


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


def test_every_route_is_an_operation_bound_to_the_handler_of_its_operation_id() -> None:
    ids = [operation.operation_id for operation in operations.OPERATIONS]
    assert len(ids) == len(set(ids))
    assert len({HANDLERS[i] for i in ids}) == len(ids), "a handler in two rows: the journal could not tell them apart"
    assert all(HANDLERS[i].__name__ == i for i in ids)
    served = {(route.name, route.endpoint) for route in routes() if route.path != "/openapi.json"}  # type: ignore[attr-defined]
    assert served == {(i, HANDLERS[i]) for i in ids}


def test_an_operation_s_handler_is_named_by_its_row_s_module_and_no_other() -> None:
    # app imports a handler's module when its operation is first used, by the row's ``module``: no other handler
    # module may also name that operationId (the eager binding checked this at start-up, for every row at once).
    named = {path.stem: importlib.import_module(f"mockserver.handlers.{path.stem}").__all__
             for path in (ROOT / "mockserver" / "handlers").glob("*.py") if path.stem != "__init__"}  # fmt: skip
    owners = {o.operation_id: sorted(m for m, names in named.items() if o.operation_id in names)
              for o in operations.OPERATIONS}  # fmt: skip
    assert owners == {o.operation_id: [o.module] for o in operations.OPERATIONS}


def test_a_server_imports_a_handler_module_on_its_operation_s_first_request() -> None:
    code = (
        "import sys; from starlette.testclient import TestClient; from mockserver.app import create_app\n"
        "client = TestClient(create_app())\n"
        "handlers = lambda: sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('mockserver.handlers.'))\n"
        "print(handlers(), 'mockserver.admin' in sys.modules)\n"
        "assert client.get('/v1/health/').status_code == 200\n"
        "print(handlers(), 'mockserver.admin' in sys.modules)\n"
        "assert client.get('/_mock/calls').status_code == 200\n"
        "print(handlers(), 'mockserver.admin' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["[] False", "['service'] False", "['service'] True"]


async def test_the_journal_names_an_exchange_by_its_route_s_operation_id() -> None:
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await client.get("/v1/health/")
        await client.get("/latest/agents/agent-123e4567-e89b-42d3-8456-426614174000/messages")
        await client.delete("/v1/health/")  # a 405: the route the URL matched names it
        await client.get("/v1/nowhere")
    assert [(e.status, e.operation) for e in app.state.journal] == [
        (200, "check_health"), (200, "list_messages"), (405, "check_health"), (404, None)
    ]  # fmt: skip


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


# -- which of Letta's rules apply: one record --------------------------------------------------------------------

# The switches ``Rules.of`` combines. Outside it they are asked only where they are the state itself: the store's
# own world (what exists), a record's ``created`` shown or filtered by.
SWITCHES = re.compile(
    r"""fidelity\s*[!=]=|\.closed_world\b|(?<!\.)\b(server_fidelity|strict_compaction|letta_rules|server_errors)\b"""
)


@pytest.mark.parametrize(
    "path",
    [p for p in modules("mockserver") if p.name != "rules.py" and p.parent.name != "store"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_code_asks_the_rules_record_never_the_profile_or_the_world_directly(path: Path) -> None:
    found = [f"line {n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
             if SWITCHES.search(line) and not line.lstrip().startswith("#")]  # fmt: skip
    assert not found, "ask a field of mockserver.rules.Rules instead:\n" + "\n".join(found)


def test_the_readme_lists_exactly_what_server_fidelity_changes() -> None:
    server, contract = Rules.of("server", closed_world=False), Rules.of("contract", closed_world=False)
    fields = {f.name: f for f in dataclasses.fields(Rules)}
    changed = [name for name, value in server.fields().items() if value != getattr(contract, name)]
    assert all("readme" in fields[name].metadata for name in changed), "a server-fidelity rule needs its README line"
    section = README[README.index("- *Server fidelity*:") :].split("\n\n", 1)[0]
    listed = [line.removeprefix("  - ") for line in section.splitlines() if line.startswith("  - ")]
    assert sorted(set(listed)) == sorted(listed), "a difference listed twice"
    assert set(listed) == {fields[name].metadata["readme"] for name in changed}


def test_rules_combine_the_three_switches_as_the_profiles_say() -> None:
    made_up = Rules.of("contract", closed_world=False)
    assert not any(made_up.fields().values())
    created = Rules.of("contract", closed_world=False, created=True)
    assert (created.refuse_empty, created.strict_approvals, created.nothing_to_cancel_409) == (True, True, True)
    assert created.known_tools_only  # its tools are the ones a client gave it
    # A created agent is not the real server's profile: its quirks stay off.
    assert (created.strict_run_ids, created.repr_422) == (False, False)
    closed = Rules.of("contract", closed_world=True)
    assert (closed.unknown_ids_missing, closed.strict_run_ids, closed.strict_approvals) == (True, True, True)
    assert not closed.refuse_empty  # the closed world's agents were not created by a client
    assert not closed.known_tools_only
    assert not Rules.of("server", closed_world=False).known_tools_only


def test_the_rules_check_would_catch_a_switch_asked_directly() -> None:
    asked = ('if config.fidelity == "server":', "if store.closed_world or agent.created:", "server_fidelity(request)")
    for line in asked:
        assert SWITCHES.search(line), line
    assert not SWITCHES.search("if rules.strict_compaction:")


# -- one fact, one place --------------------------------------------------------------------------------------------

SOURCES = [*modules("mockserver"), *modules("strategies")]
CONTRACT_TYPES = ROOT / "mockserver" / "models"  # the contract's literal types name every value once


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if p.name != "catalogue.py" and CONTRACT_TYPES not in p.parents],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_catalogue_lists_stop_reasons(path: Path) -> None:
    # A tuple, list or set of stop reasons elsewhere is a copy of an outcome the catalogue keeps (which complete a
    # run, which come with an error event), and copies drift: ask the catalogue.
    found = [
        f"line {node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2
        and all(isinstance(e, ast.Constant) and e.value in STOP_REASONS for e in node.elts)
    ]  # fmt: skip
    assert not found, "\n".join(found)


@pytest.mark.parametrize("fact", ["context_window_overflow_in_system_prompt", "/messages/search"])
def test_an_error_type_and_a_path_are_spelled_in_one_module(fact: str) -> None:
    spelled = [str(p.relative_to(ROOT)) for p in SOURCES if fact in p.read_text() and CONTRACT_TYPES not in p.parents]
    assert len(spelled) == 1, spelled


def test_one_fault_vocabulary_the_strategies_name_faults_as_the_server_does() -> None:
    # The vocabulary is the server's fault table; the strategies draw what each fault does to a stream, by its name.
    from strategies._transcripts import FAULTS, LETTA_FAILURES, SERVER_FAULTS

    assert set(SERVER_FAULTS) <= set(faults.FAULTS)
    assert not set(LETTA_FAILURES) & set(faults.FAULTS)  # Letta's own failure shapes, not faults of a response
    assert FAULTS == (*SERVER_FAULTS, *LETTA_FAILURES)


def test_a_parameter_s_default_bounds_and_choices_are_its_record_s_alone() -> None:
    # The document and the handlers read the same record: no handler parses a query string of its own.
    reading = [str(p.relative_to(ROOT)) for p in modules("mockserver")
               if "query_params" in p.read_text() and p.name != "parameters.py"]  # fmt: skip
    assert reading == []
    named = {key for operation in operations.OPERATIONS for key in operation.parameters}
    assert named == set(PARAMETERS), "every record is some operation's, every operation's parameter a record"


def test_one_settings_table_builds_create_app_serve_and_the_plugin() -> None:
    from mockserver.cli import build_parser
    from mockserver.config import SETTINGS, MockConfig
    from mockserver.pytest_plugin import SETTINGS as PLUGIN_SETTINGS

    names = [row.name for row in SETTINGS]
    assert names == [field.name for field in dataclasses.fields(MockConfig)]
    assert MockConfig.build() == MockConfig.build(**{row.name: row.default for row in SETTINGS})
    serve = build_parser().parse_args(["serve"])
    assert {row.name for row in SETTINGS if row.serve is not None} <= set(vars(serve))
    plugin = {setting.name: setting.keyword for setting in PLUGIN_SETTINGS if setting.keyword is not None}
    assert plugin == {row.name: row.name for row in SETTINGS if row.plugin is not None}
    with pytest.raises(TypeError, match="did you mean 'seed'"):
        create_app(sed=1)


@pytest.mark.parametrize(
    ("fact", "where"),
    [("8 * 1024 * 1024", "mockserver"), ("LETTA_MOCK_AUTH_TOKEN", "mockserver"),
     # the tests' own places: free ports, the installed command, the checkout (tests/_local.py)
     ("def free_port", "tests"), ('with_name("letta-mock")', "tests"),
     ("Path(__file__).resolve().parents[1]", "tests")],
)  # fmt: skip
def test_a_default_or_a_place_is_written_once(fact: str, where: str) -> None:
    here = Path(__file__).name
    places = [str(p.relative_to(ROOT)) for p in modules(where) if fact in p.read_text() and p.name != here]
    assert len(places) <= 1, places


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_module_stays_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 450, "split it by concern (ARCHITECTURE.md)"
