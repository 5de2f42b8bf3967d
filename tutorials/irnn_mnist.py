"""IRNN on pixel-by-pixel MNIST (seed 000): 784 steps of one pixel each.

An RNN with ReLU units whose recurrent weights start as the identity matrix
(Le, Jaitly and Hinton 2015) reads each image one pixel at a time; the last
state goes through a dense layer to 10 classes. Hidden 100, input weights
N(0, 1e-3), gradients clipped to norm 1.0, Adam, batch 40, pixels scaled as
the seed does ((255 - x) * 2 / 255 - 1). The seed (NeoML, Adam lr 1e-6, 200
epochs) reached 0.905 test accuracy after 3 h 54 min on one CPU thread. Here
Adam lr 1e-4 reaches 0.86 after 16 epochs; lowering the rate with --resume
(5e-5 for epochs 17-22, then 2e-5) gave 0.90 after 42 epochs (2-core CPU,
numba, 86 s per epoch: about an hour): see tutorials/README.md.

    python tutorials/irnn_mnist.py --epochs 16
    python tutorials/irnn_mnist.py --resume --epochs 22 --lr 5e-5
    python tutorials/irnn_mnist.py --resume --epochs 42 --lr 2e-5
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import symrnn as theano  # noqa: E402
import symrnn.tensor as T  # noqa: E402
from symrnn import layers, optimizers  # noqa: E402


def main(argv=None):
    p = common.parser("irnn_mnist", __doc__.split("\n\n")[0], epochs=10)
    p.add_argument("--hidden", type=int, default=100, help="recurrent units (default 100)")
    p.add_argument("--batch-size", type=int, default=40, help="images per step (default 40)")
    common.add_lr(p, 1e-4)
    p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clip (default 1.0)")
    common.add_mnist_subset(p, pool=True)
    args = common.parse(p, argv)
    theano.config.floatX = "float32"
    if args.quick:
        args.pool, args.n_train, args.n_test, args.epochs, args.lr = 4, 400, 200, 3, 2e-3
    data = common.load_mnist(args, args.n_train, args.n_test)
    rng = np.random.RandomState(args.seed)

    x, y = T.tensor3("x"), T.lvector("y")  # x: (784, batch, 1)
    rnn = layers.RNN(1, args.hidden, rng, name="irnn", activation=T.nnet.relu,
                     recurrent="identity", input_std=1e-3)
    out = layers.Dense(args.hidden, 10, rng, name="out")
    logits = out(rnn(x)[-1])
    loss = layers.cross_entropy(logits, y, 10)
    pred = T.argmax(logits, axis=1)
    acc = T.mean(T.cast(T.eq(pred, y), "float32"))
    params = rnn.params + out.params
    grads = optimizers.clip_grad_norm(T.grad(loss, params), args.clip)
    lr = common.learning_rate(args)
    updates = optimizers.adam(grads, params, learning_rate=lr)
    t0 = time.time()
    train = theano.function([x, y], [loss, acc], updates=updates, mode=args.mode)
    predict = theano.function([x], pred, mode=args.mode)
    print(f"{common.compiled(t0)}")

    def prep(images):
        return common.pixels((1.0 - images) * 2.0 - 1.0, args.pool)  # the seed's scaling
    return common.fit(args, "irnn_mnist", train, predict, data, prep, args.batch_size,
                      [t for t, _ in updates], lr=lr)


if __name__ == "__main__":
    main()
