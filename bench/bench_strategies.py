"""How fast the strategies draw *valid* values, next to hypothesis-jsonschema on Letta's own schema.

Run by hand (not a test): ``python bench/bench_strategies.py [--examples N] [--rounds N]`` (about 3 minutes).

Each strategy is drawn the way a property test draws it: inside a ``@given`` test run with ``max_examples=N`` and
only the generate phase, timing the whole run. The runs are repeated (``--rounds``, interleaved so that load from
other processes hits every strategy alike) and the best round counts, as ``timeit`` does.

Every drawn value is serialised and validated against Letta's document (its facts,
``tests/spec/letta-openapi.facts.json``; discriminator-aware, ``message_type`` required: ``tests/contract.py``); the
time spent validating is measured and left out of the generation rate, so both sides pay only for generating.
Rates are also given in CPU seconds, which other processes on a shared machine disturb less than wall time.

hypothesis-jsonschema gets ``LettaMessageUnion`` with every ``$ref`` inlined (a self-contained schema, as it needs).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from contract import SPEC_PATH, validate_against_spec  # noqa: E402

import strategies  # noqa: E402


@dataclass
class Result:
    name: str
    examples: int = 0
    valid: int = 0
    events: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    checking: float = 0.0  # wall seconds spent serialising and validating, excluded from the rates
    checking_cpu: float = 0.0
    problems: list[str] = field(default_factory=list)

    def rate(self, *, cpu: bool) -> float:
        spent = (self.cpu - self.checking_cpu) if cpu else (self.wall - self.checking)
        return self.valid / spent if spent > 0 else float("inf")


def run(name: str, strategy: st.SearchStrategy[Any], examples: int, check: Callable[[Any], int]) -> Result:
    """Draw ``examples`` values under ``@given``; ``check`` validates one value (raising if invalid) and returns
    how many events it holds."""
    result = Result(name)

    @settings(
        max_examples=examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(value: Any) -> None:
        started, started_cpu = time.perf_counter(), time.process_time()
        result.examples += 1
        try:
            result.events += check(value)
            result.valid += 1
        except AssertionError as problem:
            if len(result.problems) < 3:
                result.problems.append(str(problem).splitlines()[1].strip())
        result.checking += time.perf_counter() - started
        result.checking_cpu += time.process_time() - started_cpu

    started, started_cpu = time.perf_counter(), time.process_time()
    draw()
    result.wall, result.cpu = time.perf_counter() - started, time.process_time() - started_cpu
    return result


def check_message(message: Any) -> int:
    validate_against_spec("LettaMessageUnion", message.model_dump(mode="json"))
    return 1


def check_transcript(events: list[Any]) -> int:
    assert events[-1] == "[DONE]", "a valid transcript ends with [DONE]"
    for event in events[:-1]:
        validate_against_spec("LettaStreamingResponse", event.model_dump(mode="json"))
    return len(events)


def check_json(value: Any) -> int:
    validate_against_spec("LettaMessageUnion", value)
    return 1


def letta_message_union_schema() -> dict[str, Any]:
    """``LettaMessageUnion`` with every ``$ref`` inlined, from the OpenAPI document."""
    import jsonschema_rs

    document = json.loads(SPEC_PATH.read_text())
    registry = jsonschema_rs.Registry([("urn:letta", document)])
    schema: dict[str, Any] = jsonschema_rs.dereference(
        {"$ref": "urn:letta#/components/schemas/LettaMessageUnion"}, registry=registry
    )
    return schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The same number of examples on both sides of the comparison: Hypothesis varies example sizes over a run.
    parser.add_argument("--examples", type=int, default=300, help="examples per run of each strategy")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; the best round counts")
    args = parser.parse_args()

    from hypothesis_jsonschema import from_schema

    candidates: list[tuple[str, st.SearchStrategy[Any], int, Callable[[Any], int]]] = [
        ("strategies.messages()", strategies.messages(), args.examples, check_message),
        ("strategies.sse_transcripts()", strategies.sse_transcripts(), args.examples, check_transcript),
        (
            "hypothesis-jsonschema LettaMessageUnion",
            from_schema(letta_message_union_schema()),
            args.examples,
            check_json,
        ),
    ]
    rounds: list[list[Result]] = [[] for _ in candidates]
    for _ in range(args.rounds):
        for runs, (name, strategy, examples, check) in zip(rounds, candidates, strict=True):
            runs.append(run(name, strategy, examples, check))

    def best(runs: list[Result], *, cpu: bool) -> float:
        return max(result.rate(cpu=cpu) for result in runs)

    baseline = rounds[-1]
    header = f"{'strategy':40} {'drawn':>6} {'invalid':>8} {'valid/s':>9} {'valid/s CPU':>12} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for runs in rounds:
        drawn = sum(result.examples for result in runs)
        invalid = drawn - sum(result.valid for result in runs)
        speedup = best(runs, cpu=True) / best(baseline, cpu=True)
        print(
            f"{runs[0].name:40} {drawn:6} {invalid:8} {best(runs, cpu=False):9.1f} {best(runs, cpu=True):12.1f} "
            f"{'1x' if runs is baseline else f'{speedup:.0f}x':>9}"
        )
    transcripts = rounds[1]
    events = sum(result.events for result in transcripts)
    print(f"\nsse_transcripts(): {events / max(sum(r.examples for r in transcripts), 1):.1f} events per transcript")
    for runs in rounds:
        for problem in {problem for result in runs for problem in result.problems}:
            print(f"invalid ({runs[0].name}): {problem}")
    print(
        f"\nBest of {args.rounds} rounds; rates exclude validation time; speed-up compares CPU-time rates of valid "
        f"examples. hypothesis {__import__('hypothesis').__version__}, Python {sys.version.split()[0]}."
    )


if __name__ == "__main__":
    main()
