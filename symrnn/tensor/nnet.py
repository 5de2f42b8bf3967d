"""Neural-network functions (``T.nnet``): sigmoid, relu, softmax, cross-entropies."""
from symrnn.tensor.math import maximum, sigmoid, softplus  # noqa: F401


def relu(x, alpha=0):
    """max(x, 0); with ``alpha`` the leaky form max(x, alpha * x) for 0 <= alpha <= 1."""
    if alpha == 0:
        return maximum(x, 0)
    return maximum(x, alpha * x)
