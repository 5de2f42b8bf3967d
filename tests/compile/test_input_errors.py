"""A bad argument's error names the input: its position and its name (ragged, None, objects)."""
import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from helpers import MODES


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("position, value, exc, words", [
    (0, [[1.0, 2.0], [3.0]], ValueError, ["inhomogeneous"]),  # ragged
    (1, [[1.0], [2.0, 3.0]], ValueError, ["inhomogeneous"]),
    (0, None, TypeError, ["None"]),
    (1, None, TypeError, ["None"]),
    (0, np.array([object(), object()]), TypeError, ["object"]),
    (1, [None, 1.0], TypeError, ["NoneType"]),
    (1, ["a", "b"], TypeError, ["<U1"]),
])
def test_input_errors_name_the_input(mode, position, value, exc, words):
    x, y = T.matrix("x_in"), T.vector("y_in")
    f = symrnn.function([x, y], x.sum() + y.sum(), mode=mode, name="f_named")
    args = [np.ones((2, 2)), np.ones(3)]
    args[position] = value
    with pytest.raises(exc) as e:
        f(*args)
    msg = str(e.value)
    assert f"input {position} ({['x_in', 'y_in'][position]})" in msg and "f_named" in msg, msg
    for w in words:
        assert w in msg, msg
    with pytest.raises(exc, match=f"input {position}"):  # by keyword as well
        f(**dict(zip(["x_in", "y_in"], args)))
