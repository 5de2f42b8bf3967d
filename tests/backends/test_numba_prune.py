"""prune.py: a generated source drops only the shape checks that earlier lines prove."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.backends.numba.prune import merged_checks, prune


def _kept(text, ndims=None, params=("x_0", "x_1", "x_2")):
    """The check numbers (``raise ValueError(k)``) left in ``text``'s body."""
    lines = ["    " + ln for ln in text.strip("\n").splitlines()]
    out = prune(lines, ndims or {}, params)
    return [int(ln.split("(")[-1].rstrip(")")) for ln in out if "raise" in ln]


def test_a_proven_equality_is_dropped_and_a_new_one_kept():
    assert _kept("""
n1 = x_0.shape[0]
if not (x_1.shape[0] == n1):
    raise ValueError(0)
if not (x_1.shape[0] == x_0.shape[0]):
    raise ValueError(1)
if not (x_2.shape[0] == n1):
    raise ValueError(2)
""") == [0, 2]


def test_allocations_and_views_carry_lengths():
    assert _kept("""
a1 = np.empty((x_0.shape[1], x_1.shape[0]), np.float32)
v2 = a1[None, :, :]
v3 = v2[0]
v4 = a1.T[:, :]
if not (v2.shape[0] == 1):
    raise ValueError(0)
if not (v3.shape[1] == x_1.shape[0]):
    raise ValueError(1)
if not (v4.shape[0] == x_1.shape[0]):
    raise ValueError(2)
if not (v4.shape[-1] == x_0.shape[1]):
    raise ValueError(3)
v5 = a1[1:]
if not (v5.shape[0] == x_0.shape[1]):
    raise ValueError(4)
""", ndims={"a1": 2}) == [4]  # a partial slice has a length of its own


def test_rebound_names_and_element_reads_never_count():
    assert _kept("""
car1 = x_0
for t2 in range(x_1.shape[0]):
    n3 = car1.shape[0]
    if not (car1.shape[0] == x_2.shape[0]):
        raise ValueError(0)
    if not (car1.shape[0] == x_2.shape[0]):
        raise ValueError(1)
    car1 = x_1
s4 = x_0[0]
s5 = x_0[0]
if not (s4 == s5):
    raise ValueError(2)
""") == [0, 1, 2]


def test_an_array_index_gives_unknown_lengths():
    assert _kept("""
v1 = x_0[x_1]
if not (v1.shape[0] == x_0.shape[1]):
    raise ValueError(0)
""", ndims={"x_1": 1}) == [0]


def test_what_a_body_proves_stays_in_it_unless_the_loop_surely_runs():
    body = """
for t1 in range(n0):
    x2 = x_0[t1]
    if not (x2.shape[0] == x_1.shape[0]):
        raise ValueError(0)
    if not (x2.shape[0] == x_1.shape[0]):
        raise ValueError(1)
    {extra}
if not (x_0.shape[1] == x_1.shape[0]):
    raise ValueError(2)
"""
    maybe = "n0 = x_2.shape[0]\n"
    surely = "n0 = x_2.shape[0]\nif not (n0 > 0):\n    raise ValueError(9)\n"
    assert _kept(maybe + body.format(extra="pass")) == [0, 2]  # zero steps: 2 not proven
    assert _kept(surely + body.format(extra="pass")) == [9, 0]
    assert _kept(surely + body.format(extra="break")) == [9, 0, 2]  # may stop before
    assert _kept(surely.replace("n0 = x_2", "n0 = x_2") + """
if x_2.shape[0] > 3:
    if not (x_0.shape[1] == x_1.shape[0]):
        raise ValueError(0)
if not (x_0.shape[1] == x_1.shape[0]):
    raise ValueError(1)
""") == [9, 0, 1]  # an if body may not run


def test_a_compound_check_goes_when_all_its_parts_are_proven():
    assert _kept("""
n1 = x_0.shape[0]
if not (x_1.shape[0] == n1 and x_2.shape[0] > 2 and x_2.shape[1] == n1):
    raise ValueError(0)
if not (x_1.shape[0] == x_0.shape[0] and x_2.shape[1] == n1):
    raise ValueError(1)
if not (x_1.shape[0] == x_0.shape[0] and x_2.shape[2] == n1):
    raise ValueError(2)
""") == [0, 2]


def test_a_carry_keeps_its_lengths_only_when_every_step_proves_it():
    step = """
a0 = np.zeros((x_0.shape[0], x_0.shape[1]), np.float32)
car1 = a0
n2 = x_1.shape[0]
if not (n2 > 0):
    raise ValueError(0)
for t3 in range(n2):
    n4 = car1.shape[0]
    n5 = car1.shape[1]
    a6 = np.empty(({new}), np.float32)
    car1 = a6
if not (car1.shape[0] == x_0.shape[0]):
    raise ValueError(1)
"""
    ndims = {"car1": 2, "a6": 2}
    assert _kept(step.format(new="n4, n5"), ndims) == [0]  # each step: the old lengths
    assert _kept(step.format(new="n5, n4"), ndims) == [0, 1]  # transposed: not square
    assert _kept(step.format(new="n4 + 1, n5"), ndims) == [0, 1]


def test_a_parameter_rebound_is_not_trusted():
    assert _kept("""
n1 = x_0.shape[0]
x_0 = x_1
if not (x_0.shape[0] == n1):
    raise ValueError(0)
""") == [0]


def test_compiled_code_still_refuses_bad_shapes():
    x, y, b = T.matrix("x"), T.matrix("y"), T.vector("b")
    f = symrnn.function([x, y, b], [x + y, x * y + b], mode="NUMBA")
    assert f.source().count("raise ValueError") == 3  # x ~ y once (two lengths), b once
    ok = np.ones((2, 3)), np.full((2, 3), 2.0), np.ones(3)
    s, p = f(*ok)
    assert np.allclose(s, 3) and np.allclose(p, 3)
    for bad in [(np.ones((2, 3)), np.ones((2, 4)), np.ones(3)),
                (np.ones((2, 3)), np.ones((3, 3)), np.ones(3)),
                (np.ones((2, 3)), np.ones((2, 3)), np.ones(4))]:
        with pytest.raises(ValueError, match="Elemwise|shape"):
            f(*bad)


def test_checks_in_a_row_become_one_and_others_stay_apart():
    lines = ["    " + ln for ln in """
if not (x_0.shape[0] == 3):
    raise ValueError(0)
if not (-n1 <= k2 < n1):
    raise ValueError(1)
if not (x_1.shape[0] == x_0.shape[0] and x_1.shape[1] == 2):
    raise ValueError(2)
n3 = x_2.shape[0]
if not (n3 > 0):
    raise IndexError(3)
if not (n3 < 9):
    raise ValueError(4)
for t4 in range(n3):
    if not (t4 < 5):
        raise ValueError(5)
    if not (t4 < 6):
        raise ValueError(6)
if not (n3 < 7):
    raise ValueError(7)
""".strip("\n").splitlines()]
    out = merged_checks(lines)
    assert out[:2] == [
        "    if not ((x_0.shape[0] == 3) & (-n1 <= k2 < n1) & "
        "(x_1.shape[0] == x_0.shape[0] and x_1.shape[1] == 2)):",
        "        raise ValueError(0, 1, 2)"]
    assert out[2:7] == lines[6:11]  # another exception, a line between: apart
    assert out[7:10] == ["    for t4 in range(n3):", "        if not ((t4 < 5) & (t4 < 6)):",
                         "            raise ValueError(5, 6)"]
    assert out[10:] == lines[-2:]
    assert merged_checks(lines[:2]) == lines[:2]
    with_args = ["    if not (a):", "        raise IndexError(1, 7)", "    if not (b):",
                 "        raise IndexError(2)"]
    assert merged_checks(with_args) == with_args  # (a raise with arguments of its own)


def test_merged_checks_pass_and_fail_as_the_single_ones():
    x, y, z = T.matrix("x"), T.matrix("y"), T.vector("z")
    f = symrnn.function([x, y, z], (x * y + z).sum(axis=0), mode="NUMBA")
    assert "raise ValueError(" in f.source() and ") & (" in f.source()  # (merged here)
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(f(a, a, a[0]), (a * a + a[0]).sum(axis=0))
    for bad in ((a, a[:, :2], a[0]), (a, a, a[0, :2]), (a, a[:1], a[0])):
        with pytest.raises(ValueError) as e:
            f(*bad)
        assert "test_numba_prune.py" in str(e.value)  # (the user's line)
