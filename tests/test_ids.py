"""The wire's id rules computed directly equal what the ``uuid`` module computes."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from mockserver.sources import Ids
from mockserver.wire.ids import as_uuid4, otid_for


@given(st.one_of(st.integers(0, 2**128 - 1), st.integers(-(2**140), 2**140)))
def test_an_integer_becomes_the_uuid4_the_uuid_module_makes_of_it(value: int) -> None:
    assert as_uuid4(value) == str(uuid.UUID(int=value & (2**128 - 1), version=4))


def test_unseeded_ids_are_version_4_and_do_not_repeat() -> None:
    ids = Ids()
    made = [ids.new("message") for _ in range(2000)] + [Ids().new("message") for _ in range(3)]  # + fresh servers
    assert len(set(made)) == len(made)
    assert all(uuid.UUID(i.removeprefix("message-")).version == 4 for i in made)


def test_seeded_ids_repeat_with_the_seed() -> None:
    assert [Ids(7).new("run") for _ in range(3)] == [Ids(7).new("run") for _ in range(3)]


@given(st.uuids(), st.integers(0, 300), st.sampled_from(["message", "agent"]), st.booleans())
def test_an_otid_is_the_uuid_modules_arithmetic_on_any_spelling(value: uuid.UUID, index: int, prefix: str,
                                                                 upper: bool) -> None:  # fmt: skip
    # The mock's own ids take a string shortcut; any other spelling (upper case, from a client or a recording) the
    # uuid module's: the same otid either way.
    raw = str(value).upper() if upper else str(value)
    expected = str(uuid.UUID(int=(value.int & ~0x7F) | (index & 0x7F)))
    assert otid_for(f"{prefix}-{raw}", index) == expected
