"""Seed 004: a Theano scan counting RNN (Peter's note), run with only its imports changed.

The seed omits its optimizer classes; GradientDescentOptimizer and RMSPropOptimizer
below are the usual Theano ones, built from T.grad. Everything inside ``run_seed``
from ``class simpleRNN`` on is the seed's code.
"""
import time

import numpy as np
import pytest

import symrnn as theano
import symrnn.tensor as T
from helpers import MODES


class GradientDescentOptimizer(object):
    def __init__(self, params, learning_rate=0.001):
        self.params, self.lr = params, learning_rate

    def minimize(self, loss):
        grads = T.grad(loss, self.params)
        return [(p, p - self.lr * g) for p, g in zip(self.params, grads)]


class RMSPropOptimizer(object):
    def __init__(self, params, learning_rate=0.001, rho=0.9, epsilon=1e-6):
        self.params, self.lr, self.rho, self.eps = params, learning_rate, rho, epsilon

    def minimize(self, loss):
        grads = T.grad(loss, self.params)
        updates = []
        for p, g in zip(self.params, grads):
            acc = theano.shared(p.get_value() * 0.)
            acc_new = self.rho * acc + (1 - self.rho) * g ** 2
            updates.append((acc, acc_new))
            updates.append((p, p - self.lr * g / T.sqrt(acc_new + self.eps)))
        return updates


def run_seed(optimizer_name, learning_rate):
    class simpleRNN(object):
        # members: slen : state length
        # w_x : weight of input-->hidden layer
        # w_rec : weight of recurrnce
        def __init__(self, slen, nx, nrec):
            self.len = slen
            self.w_x = theano.shared(
                np.asarray(np.random.uniform(-.1, .1, (nx)),
                           dtype=theano.config.floatX)
            )
            self.w_rec = theano.shared(
                np.asarray(np.random.uniform(-.1, .1, (nrec)),
                           dtype=theano.config.floatX)
            )

        def state_update(self, x_t, s0):
            # this is the network updater for simpleRNN
            def inner_fn(xv, s_tm1, wx, wr):
                s_t = xv * wx + s_tm1 * wr
                y_t = s_t
                return [s_t, y_t]

            w_x_vec = T.cast(self.w_x[0], 'float32')
            w_rec_vec = T.cast(self.w_rec[0], 'float32')

            [s_t, y_t], updates = theano.scan(fn=inner_fn,
                                              sequences=x_t,
                                              outputs_info=[s0, None],
                                              non_sequences=[w_x_vec, w_rec_vec]
                                              )
            return y_t

    np.random.seed(seed=1)
    # Create Dataset by program
    num_samples = 20
    seq_len = 10
    trX = np.zeros((num_samples, seq_len))
    for row_idx in range(num_samples):
        trX[row_idx, :] = np.around(np.random.rand(seq_len)).astype(int)
    trY = np.sum(trX, axis=1)
    trX = trX.astype(np.float32)
    trX = trX.T  # need 'List of vector' shape dataset
    trY = trY.astype(np.float32)
    # s0 is time-zero state
    s0np = np.zeros((num_samples), dtype=np.float32)

    # Tensor Declaration
    x_t = T.matrix('x_t')
    x = T.matrix('x')  # noqa: F841 (declared, unused, as in the seed)
    y_ = T.vector('y_')
    s0 = T.vector('s0')
    y_hypo = T.vector('y_hypo')

    net = simpleRNN(seq_len, 1, 1)
    y_t = net.state_update(x_t, s0)
    y_hypo = y_t[-1]
    loss = ((y_ - y_hypo) ** 2).sum()

    # Train Net Model
    params = [net.w_x, net.w_rec]
    Optimizer = {"gd": GradientDescentOptimizer, "rmsprop": RMSPropOptimizer}[optimizer_name]
    optimizer = Optimizer(params, learning_rate=learning_rate)
    train_op = optimizer.minimize(loss)

    # Compile ... define theano.function
    train_model = theano.function(
        inputs=[],
        outputs=[loss],
        updates=train_op,
        givens=[(x_t, trX), (y_, trY), (s0, s0np)],
        allow_input_downcast=True
    )

    n_epochs = 2001
    epoch = 0
    costs = []
    while (epoch < n_epochs):
        epoch += 1
        loss = train_model()
        costs.append(float(loss[0]))
    return net.w_x.get_value(), net.w_rec.get_value(), costs


@pytest.fixture
def mode_and_floatx(request):
    old = theano.config.mode, theano.config.floatX
    theano.config.mode, theano.config.floatX = request.param
    yield request.param
    theano.config.mode, theano.config.floatX = old


# The seed's data are float32 and reach its T.matrix through givens: as in Theano 1.0, that
# needs floatX=float32 (the seed's own setting); with float64 the givens are a TypeError.
@pytest.mark.parametrize("mode_and_floatx", [(m, "float32") for m in MODES], indirect=True)
def test_rmsprop_learns_the_counting_weights(mode_and_floatx):
    start = time.perf_counter()
    w_x, w_rec, costs = run_seed("rmsprop", 1e-3)
    seconds = time.perf_counter() - start
    assert abs(w_x[0] - 1.0) < 0.01 and abs(w_rec[0] - 1.0) < 0.01, (w_x, w_rec)
    assert costs[-1] < 0.01 < costs[0]
    print(f"seed 004 RMSProp, 2001 epochs on {mode_and_floatx}: {seconds:.2f} s")


@pytest.mark.parametrize("mode_and_floatx", [("NUMPY", "float64")], indirect=True)
def test_float32_givens_for_float64_variables_are_a_type_error(mode_and_floatx):
    with pytest.raises(TypeError, match="the given for x_t must have type"):
        run_seed("gd", 1e-5)


@pytest.mark.parametrize("mode_and_floatx", [("NUMPY", "float32")], indirect=True)
def test_gradient_descent_reduces_the_cost(mode_and_floatx):
    w_x, w_rec, costs = run_seed("gd", 1e-5)
    assert costs[-1] < 0.2 * costs[0] and np.isfinite(costs[-1])
    assert abs(w_rec[0] - 1.0) < 0.1 and abs(w_x[0] - 1.0) < 0.2, (w_x, w_rec)
