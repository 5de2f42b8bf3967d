"""A character-level language model with stacked IndRNN (seed 003) on Tiny Shakespeare.

The model reads characters (one-hot), runs them through stacked IndRNN layers
and predicts the next character at every step; training uses truncated
backpropagation through time on random windows of the first 90% of the text.
It reports validation bits per character (cross-entropy / ln 2) on the last
10% and samples text. The IndRNN paper trains on the Penn Treebank characters
(PTB-c); PTB is LDC-licensed and not bundled, so pass --ptb-dir to your copy.

    python tutorials/indrnn_charlm.py
    python tutorials/indrnn_charlm.py --ptb-dir ~/data/ptb
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


class CharModel:
    """One-hot input -> stacked IndRNN -> dense to the vocabulary at every step.

    With ``args.residual`` (the seed's residual IndRNN) the layers after the first form
    blocks of two whose input is added to their output (the shortcut's weight fixed to
    1). With ``args.dropout`` each layer's output is multiplied in training by a dropout
    mask drawn once per sequence and used at every time step (the seed's dropout).
    """

    def __init__(self, args, vocab_size, rng):
        self.vocab_size, self.residual = vocab_size, args.residual
        self.rnns, n_in = [], vocab_size
        for k in range(args.layers):
            self.rnns.append(layers.IndRNN(n_in, args.hidden, rng, name=f"indrnn{k}",
                                           seq_len=args.seq_len, mag=args.mag))
            n_in = args.hidden
        self.out = layers.Dense(args.hidden, vocab_size, rng, name="out")
        self.params = [p for r in self.rnns for p in r.params] + self.out.params
        self.dropout = layers.TimeDropout(args.dropout, seed=args.seed)

    def __call__(self, ids, h0s=None, train=False):
        """Logits (time, batch, vocab) and each layer's states, for ids (time, batch);
        ``train``: with dropout."""
        h, states = layers.one_hot(ids, self.vocab_size), []
        block_in = None
        for k, rnn in enumerate(self.rnns):
            out = rnn(h, None if h0s is None else h0s[k])
            states.append(out)
            if self.residual and k > 0 and k % 2 == 1:
                block_in = h  # a block of two layers starts here
            elif self.residual and k > 0:
                out = out + block_in
            h = self.dropout(out, train)
        return self.out(h), states


def windows(ids, n, length, rng):
    """``n`` random windows of ``length + 1`` ids, as (inputs, targets), time-major."""
    starts = rng.randint(0, len(ids) - length - 1, n)
    chunk = np.stack([ids[s:s + length + 1] for s in starts], axis=1)
    return chunk[:-1], chunk[1:]


def sampler(model, args):
    """A function that generates text one character at a time, carrying the states."""
    x = T.lmatrix("x")
    h0s = [T.matrix(f"h{k}") for k in range(args.layers)]
    logits, states = model(x, h0s)
    step = theano.function([x] + h0s, [T.nnet.softmax(logits[-1])]
                           + [s[-1] for s in states], mode=args.mode)

    def generate(corpus, n_chars, rng, temperature=0.8):
        hs = [np.zeros((1, args.hidden), "float32") for _ in range(args.layers)]
        ids = [corpus.vocab.index("\n")]
        for _ in range(n_chars):
            probs, *hs = step(np.array([[ids[-1]]]), *hs)
            logp = np.log(probs[0].astype("float64") + 1e-12) / temperature
            p = np.exp(logp - logp.max())
            ids.append(int(rng.choice(len(p), p=p / p.sum())))
        return corpus.decode(ids[1:])
    return generate


def main(argv=None):
    p = common.parser("indrnn_charlm", __doc__.split("\n\n")[0], epochs=10)
    p.add_argument("--layers", type=int, default=2, help="stacked IndRNN layers (default 2)")
    p.add_argument("--hidden", type=int, default=256, help="units per layer (default 256)")
    p.add_argument("--seq-len", type=int, default=100, help="BPTT window (default 100)")
    p.add_argument("--batch-size", type=int, default=64,
                   help="windows per training step (default 64)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--mag", type=float, default=2.0, help="MAG of the weight bound U")
    p.add_argument("--steps-per-epoch", type=int, default=200,
                   help="training steps per epoch (default 200)")
    p.add_argument("--valid-chars", type=int, default=50000,
                   help="validate on the first N validation characters (0: all)")
    p.add_argument("--ptb-dir", default=None, help="folder with ptb.char.{train,valid}.txt")
    p.add_argument("--dropout", type=float, default=0.0, metavar="RATE",
                   help="dropout after each layer, one mask for all time steps (the seed's "
                        "--use_dropout --droprate RATE; default 0: off)")
    p.add_argument("--residual", action="store_true",
                   help="residual IndRNN: after the first layer, blocks of two layers with an "
                        "identity shortcut (--layers must be odd, e.g. 11 as in the seed)")
    args = common.parse(p, argv)
    if args.residual and args.layers % 2 == 0:
        common.fail(f"--residual needs an odd --layers (1 + 2 per block), got {args.layers}")
    theano.config.floatX = "float32"
    if args.quick:
        args.layers, args.hidden, args.seq_len, args.batch_size = 2 + args.residual, 32, 20, 16
        args.steps_per_epoch, args.epochs, args.valid_chars, args.lr = 40, 3, 2000, 5e-3
    try:
        corpus = (datasets.ptb_char(args.ptb_dir) if args.ptb_dir
                  else datasets.shakespeare(args.data_dir, download=args.download))
    except OSError as e:  # missing files, or a failed download
        common.fail(str(e))
    valid = corpus.valid[:args.valid_chars] if args.valid_chars else corpus.valid
    print(f"corpus: {len(corpus.train)} training, {len(valid)} validation characters, "
          f"{len(corpus.vocab)} symbols")
    rng = np.random.RandomState(args.seed)
    model = CharModel(args, len(corpus.vocab), rng)
    x, y = T.lmatrix("x"), T.lmatrix("y")
    logits, _ = model(x, train=True)
    loss = layers.cross_entropy(logits, y, len(corpus.vocab))
    updates = optimizers.adam(loss, model.params, learning_rate=args.lr)
    test_logits, _ = model(x)
    test_loss = layers.cross_entropy(test_logits, y, len(corpus.vocab))
    for rnn in model.rnns:
        updates = rnn.constrain(updates)
    t0 = time.time()
    train = theano.function([x, y], loss, updates=updates, mode=args.mode)
    evaluate = theano.function([x, y], test_loss, mode=args.mode)
    generate = sampler(model, args)
    print(f"{common.compiled(t0)}")

    def valid_bpc():
        n = (len(valid) - 1) // args.seq_len * args.seq_len
        chunks = valid[:n + 1]
        xs = chunks[:-1].reshape(-1, args.seq_len).T
        ys = chunks[1:].reshape(-1, args.seq_len).T
        total = sum(float(evaluate(xs[:, i:i + 256], ys[:, i:i + 256])) * xs[:, i:i + 256].shape[1]
                    for i in range(0, xs.shape[1], 256))
        return total / xs.shape[1] / np.log(2)

    ckpt = common.Checkpoint(args.out_dir, [t for t, _ in updates]  # + the dropout streams
                             + [s for s, _ in model.dropout.srng.state_updates], rngs=[rng])
    start, history = (ckpt.load() if args.resume
                      else (0, {"train_bpc": [], "valid_bpc": [], "seconds": []}))
    for epoch in range(start, args.epochs):
        t0 = time.time()
        bar = common.Progress(args.steps_per_epoch, f"epoch {epoch + 1}", not args.no_progress)
        losses = []
        for _ in range(args.steps_per_epoch):
            losses.append(float(train(*windows(corpus.train, args.batch_size, args.seq_len,
                                               rng))) / np.log(2))
            bar.update(bpc=np.mean(losses[-20:]))
        rate = bar.close()
        history["train_bpc"].append(float(np.mean(losses)))
        history["valid_bpc"].append(valid_bpc())
        history["seconds"].append(time.time() - t0)
        print(f"epoch {epoch + 1}: train {history['train_bpc'][-1]:.3f} bpc, valid "
              f"{history['valid_bpc'][-1]:.3f} bpc ({rate:.1f} steps/s)", flush=True)
        ckpt.save(epoch + 1, history)
    epochs = np.arange(1, len(history["valid_bpc"]) + 1)
    common.save_plot(os.path.join(args.out_dir, "indrnn_charlm_bpc.png"),
                     {"train": (epochs, history["train_bpc"]),
                      "valid": (epochs, history["valid_bpc"])},
                     "epoch", "bits per character", "IndRNN character model")
    print("sample:\n" + generate(corpus, 60 if args.quick else 400, rng))
    common.quick_note(args, "a 32-unit model trained for 3 x 40 steps checks that the loss "
                      "falls; its sample is noise (2.5 bpc and readable text need a full run)")
    return history


if __name__ == "__main__":
    main()
