"""Theano's own tutorial "A Real Example: Logistic Regression", with only the imports changed."""
import numpy
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES


@pytest.mark.parametrize("mode", MODES)
def test_logistic_regression_tutorial(mode):
    rng = numpy.random
    rng.seed(0)
    N = 400                                   # training sample size
    feats = 784                               # number of input variables

    # generate a dataset: D = (input_values, target_class)
    D = (rng.randn(N, feats), rng.randint(size=N, low=0, high=2))
    training_steps = 1000

    # Declare Theano symbolic variables
    x = T.dmatrix("x")
    y = T.dvector("y")

    # initialize the weight vector w randomly
    w = theano.shared(rng.randn(feats), name="w")
    # initialize the bias term
    b = theano.shared(0., name="b")

    # Construct Theano expression graph
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))   # Probability that target = 1
    prediction = p_1 > 0.5                    # The prediction thresholded
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)  # Cross-entropy loss function
    cost = xent.mean() + 0.01 * (w ** 2).sum()  # The cost to minimize
    gw, gb = T.grad(cost, [w, b])             # Compute the gradient of the cost

    # Compile
    train = theano.function(
        inputs=[x, y],
        outputs=[prediction, xent],
        updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)), mode=mode)
    predict = theano.function(inputs=[x], outputs=prediction, mode=mode)

    first = None
    for i in range(training_steps):
        pred, err = train(D[0], D[1])
        first = err.mean() if first is None else first
    assert err.mean() < first / 5
    accuracy = (predict(D[0]) == D[1]).mean()
    assert accuracy > 0.98
    sig = theano.function([x], T.nnet.sigmoid(T.dot(x, w) + b), mode=mode)
    assert numpy.allclose(sig(D[0]), 1 / (1 + numpy.exp(-D[0].dot(w.get_value()) - b.get_value())))
