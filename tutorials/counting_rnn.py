"""Counting ones with the simplest RNN, in the Theano style (seed 004).

The network is s_t = x_t * w_x + s_{t-1} * w_rec, read out at the last step;
20 binary sequences of 10 steps, the target is their sum, the loss the summed
squared error. The right answer is w_x = w_rec = 1. Plain gradient descent
(lr 1e-5) crawls and nearly diverges; RMSProp (lr 1e-3) gets there in a few
hundred epochs. Apart from the optimizer calls, the model code is the seed's
Theano code with its imports changed to ``import symrnn as theano``.

    python tutorials/counting_rnn.py            # 2001 epochs per optimizer
    python tutorials/counting_rnn.py --quick    # 700 epochs
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import symrnn as theano  # noqa: E402
import symrnn.tensor as T  # noqa: E402
from symrnn import datasets, optimizers  # noqa: E402

theano.config.floatX = "float32"


class simpleRNN(object):
    # members: slen : state length
    #          w_x : weight of input-->hidden layer
    #          w_rec : weight of recurrence
    def __init__(self, slen, nx, nrec):
        self.len = slen
        self.w_x = theano.shared(
            np.asarray(np.random.uniform(-.1, .1, (nx)), dtype=theano.config.floatX))
        self.w_rec = theano.shared(
            np.asarray(np.random.uniform(-.1, .1, (nrec)), dtype=theano.config.floatX))

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
                                          non_sequences=[w_x_vec, w_rec_vec])
        return y_t


def train(optimizer, learning_rate, n_epochs, args):
    """Train one network from the seed's data and initial weights; returns the costs."""
    np.random.seed(seed=args.seed)
    num_samples, seq_len = 20, 10
    trX, trY = datasets.counting(num_samples, seq_len, rng=np.random)
    trX = trX.astype(np.float32).T  # time-major: 'list of vector' shape
    trY = trY.astype(np.float32)
    s0np = np.zeros((num_samples), dtype=np.float32)

    x_t = T.matrix('x_t')
    y_ = T.vector('y_')
    s0 = T.vector('s0')
    net = simpleRNN(seq_len, 1, 1)
    y_t = net.state_update(x_t, s0)
    y_hypo = y_t[-1]
    loss = ((y_ - y_hypo) ** 2).sum()

    params = [net.w_x, net.w_rec]
    train_op = optimizer(loss, params, learning_rate=learning_rate)
    train_model = theano.function(inputs=[], outputs=[loss], updates=train_op,
                                  givens=[(x_t, trX), (y_, trY), (s0, s0np)],
                                  allow_input_downcast=True, mode=args.mode)

    name = optimizer.__name__
    ckpt = common.Checkpoint(args.out_dir, [t for t, _ in train_op], name=name)
    epoch, history = (ckpt.load() if args.resume else (0, {"cost": []}))
    print(f'{name}: Initial weights: wx = %8.4f, wRec = %8.4f'
          % (net.w_x.get_value()[0], net.w_rec.get_value()[0]))
    bar = common.Progress(n_epochs - epoch, name, enabled=not args.no_progress)
    while epoch < n_epochs:
        epoch += 1
        cost = float(train_model()[0])
        history["cost"].append(cost)
        bar.update(cost=cost)
        if epoch % 100 == 0:
            bar.write('epoch[%5d] : cost =%8.4f' % (epoch, cost))  # above the bar, not in it
            ckpt.save(epoch, history)
    rate = bar.close()
    ckpt.save(epoch, history)
    wx, wrec = net.w_x.get_value()[0], net.w_rec.get_value()[0]
    print(f'Final weights : wx = %8.4f, wRec = %8.4f   ({rate:.0f} epochs/s)' % (wx, wrec))
    return history["cost"], (float(wx), float(wrec))


def main(argv=None):
    p = common.parser("counting_rnn", __doc__.split("\n\n")[0], epochs=2001)
    p.add_argument("--gd-lr", type=float, default=1e-5,
                   help="plain gradient descent learning rate (default 1e-5)")
    p.add_argument("--rmsprop-lr", type=float, default=1e-3,
                   help="RMSProp learning rate (default 1e-3)")
    args = common.parse(p, argv)
    epochs = 700 if args.quick else args.epochs
    results = {}
    for optimizer, lr in ((optimizers.sgd, args.gd_lr), (optimizers.rmsprop, args.rmsprop_lr)):
        results[optimizer.__name__] = train(optimizer, lr, epochs, args)
    common.save_plot(os.path.join(args.out_dir, "counting_rnn_loss.png"),
                     {f"{k} (lr {lr:g})": (np.arange(1, len(c) + 1), c)
                      for (k, (c, _)), lr in zip(results.items(), (args.gd_lr, args.rmsprop_lr))},
                     "epoch", "cost (sum of squared errors)", "Counting ones: loss curves",
                     logy=True)
    wx, wrec = results["rmsprop"][1]
    if args.quick:
        common.quick_note(args, f"{epochs} epochs show both costs falling; RMSProp needs "
                          "about 900 epochs to bring the weights to 1.0, so this run does not "
                          "check them (a full run prints whether they are within 0.01)")
    else:
        print(f"RMSProp weights within 0.01 of 1.0: "
              f"{abs(wx - 1) < 0.01 and abs(wrec - 1) < 0.01}")
    return results


if __name__ == "__main__":
    main()
