"""The pure parts of streaming the build log: reading the kubelet's timestamps, and the tail not yet seen."""

from __future__ import annotations

import pytest

from deployer.targets.kubernetes.buildlog import split_stamp, unseen

T1, T2, T3 = (f"2026-01-01T00:00:0{n}.000000000Z" for n in (1, 2, 3))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"{T1} #5 CACHED", (T1, "#5 CACHED")),
        (f"{T1} ", (T1, "")),
        (f"{T1}", ("", T1)),  # no separator: not a stamped line
        ("#5 CACHED", ("", "#5 CACHED")),
        ("", ("", "")),
    ],
)
def test_split_stamp(raw, expected):
    assert split_stamp(raw) == expected


@pytest.mark.parametrize(
    ("catch_up", "last", "expected"),
    [
        ([(T1, "a"), (T2, "b")], None, [(T1, "a"), (T2, "b")]),  # nothing followed: all of it
        ([(T1, "a"), (T2, "b")], (T2, "b"), []),  # followed to the end
        ([(T1, "a"), (T2, "b"), (T3, "c")], (T1, "a"), [(T2, "b"), (T3, "c")]),  # the missed tail
        ([(T2, "b"), (T3, "c")], (T1, "a"), [(T2, "b"), (T3, "c")]),  # last seen fell out of the tail
        ([(T1, "x"), (T1, "y")], (T1, "x"), [(T1, "y")]),  # same instant, told apart by text
        ([], (T1, "a"), []),
    ],
)
def test_unseen(catch_up, last, expected):
    assert unseen(catch_up, last) == expected
