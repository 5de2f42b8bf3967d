"""IndRNN on the adding problem (seed 003): remembering two numbers over long sequences.

Each step carries a random value and a marker; the target is the sum of the two
marked values, one in each half of the sequence. Predicting 1 always scores a
mean squared error of about 0.167. Two IndRNN layers of 128 units
(h_t = relu(W x_t + u * h_{t-1} + b), u a vector), batch 50, Adam lr 2e-4, the
recurrent weights clipped to [-U, U] with U = MAG ** (1 / seq_len). An epoch
here is --steps-per-epoch minibatches of freshly drawn sequences.

    python tutorials/indrnn_adding.py --seq-len 100
    python tutorials/indrnn_adding.py --seq-len 1000 --epochs 60
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import symrnn as theano  # noqa: E402
import symrnn.tensor as T  # noqa: E402
from symrnn import datasets, layers, optimizers  # noqa: E402

theano.config.floatX = "float32"


def build(args, rng):
    """The network, its loss, and the compiled train and test functions."""
    x, y = T.tensor3("x"), T.vector("y")  # x: (time, batch, 2)
    stack, h, n_in = [], x, 2
    for k in range(args.layers):
        last = k == args.layers - 1
        # the last layer only needs long memory: its recurrent weights start at 1
        layer = layers.IndRNN(n_in, args.hidden, rng, name=f"indrnn{k}",
                              recurrent_init=(1.0, 1.0) if last else (0.0, 1.0),
                              input_std=args.input_std, seq_len=args.seq_len, mag=args.mag)
        stack.append(layer)
        h, n_in = layer(h), args.hidden
    out = layers.Dense(args.hidden, 1, rng, name="out")
    pred = out(h[-1])[:, 0]
    mse = T.mean(T.sqr(pred - y))
    params = [p for layer in stack + [out] for p in layer.params]
    updates = optimizers.adam(mse, params, learning_rate=args.lr)
    for layer in stack:
        updates = layer.constrain(updates)
    train = theano.function([x, y], mse, updates=updates, mode=args.mode)
    test = theano.function([x, y], mse, mode=args.mode)
    return train, test, updates


def main(argv=None):
    p = common.parser("indrnn_adding", __doc__.split("\n\n")[0], epochs=30)
    p.add_argument("--seq-len", type=int, default=100, help="sequence length (100 ... 5000)")
    p.add_argument("--hidden", type=int, default=128, help="units per layer (default 128)")
    p.add_argument("--layers", type=int, default=2, help="IndRNN layers (default 2)")
    p.add_argument("--batch-size", type=int, default=50,
                   help="sequences per training step (default 50)")
    p.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate (default 2e-4)")
    p.add_argument("--mag", type=float, default=2.0, help="MAG of the weight bound U")
    p.add_argument("--steps-per-epoch", type=int, default=100,
                   help="training steps between two tests (default 100)")
    p.add_argument("--input-std", type=float, default=1e-3,
                   help="input weights N(0, std): small, so the sums of 1000s of steps stay "
                   "small at the start (default 1e-3)")
    args = common.parse(p, argv)
    if args.quick:
        args.seq_len, args.hidden, args.epochs = 20, 16, 3
        args.steps_per_epoch, args.lr = 40, 3e-3
    rng = np.random.RandomState(args.seed)
    X_test, y_test = datasets.adding_problem(200 if args.quick else 1000, args.seq_len, rng)
    X_test = X_test.transpose(1, 0, 2)
    t0 = time.time()
    train, test, updates = build(args, rng)
    print(f"{common.compiled(t0)}; baseline (always 1) test MSE "
          f"{np.mean((y_test - 1) ** 2):.4f}")

    ckpt = common.Checkpoint(args.out_dir, [t for t, _ in updates], rngs=[rng])
    start, history = (ckpt.load() if args.resume
                      else (0, {"step": [], "train_mse": [], "test_mse": []}))
    t0 = time.time()
    for epoch in range(start, args.epochs):
        bar = common.Progress(args.steps_per_epoch, f"epoch {epoch + 1}", not args.no_progress)
        losses = []
        for _ in range(args.steps_per_epoch):
            X, y = datasets.adding_problem(args.batch_size, args.seq_len, rng)
            losses.append(float(train(X.transpose(1, 0, 2), y)))
            bar.update(mse=losses[-1])
        rate = bar.close()
        test_mse = float(test(X_test, y_test))
        history["step"].append((epoch + 1) * args.steps_per_epoch)
        history["train_mse"].append(float(np.mean(losses)))
        history["test_mse"].append(test_mse)
        print(f"epoch {epoch + 1}: train MSE {np.mean(losses):.5f}  test MSE {test_mse:.5f}  "
              f"({rate:.1f} steps/s, {time.time() - t0:.0f} s)")
        ckpt.save(epoch + 1, history)
    common.save_plot(os.path.join(args.out_dir, f"indrnn_adding_T{args.seq_len}.png"),
                     {"train": (history["step"], history["train_mse"]),
                      "test": (history["step"], history["test_mse"])},
                     "training steps", "MSE", f"IndRNN adding problem, T={args.seq_len}",
                     logy=True)
    common.quick_note(args, "T=20, 16 units, 3 x 40 steps check that the MSE falls, not the "
                      "paper's result (test MSE < 0.01 at T=100 needs about 1,500 steps)")
    return history


if __name__ == "__main__":
    main()
