"""tutorials/indrnn_charlm.py written in PyTorch: the same model, data, recipe and batches.

The peer figure of tutorials/README.md: one-hot characters -> stacked IndRNN
(h_t = relu(x_t W + u * h_{t-1} + b), u clipped to [-U, U], U = MAG^(1/seq_len))
-> dense to the vocabulary; Adam; random training windows of the first 90% of
Tiny Shakespeare; validation bits per character on the first N characters of
the last 10%, in windows of seq_len from a zero state. The initial weights and
the training windows come from the same numpy.random.RandomState(seed) calls,
in the same order, as the symrnn tutorial's, so both start equal and see the same
batches (dropout masks differ: each framework draws its own).

    pip install torch==2.13.0   # CPU
    python benchmarks/indrnn_charlm_torch.py --epochs 20 --dropout 0.25
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from symrnn import datasets  # noqa: E402  (the same corpus split)


def glorot(rng, n_in, n_out):
    a = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a, (n_in, n_out))


class Model(torch.nn.Module):
    def __init__(self, args, vocab, rng):
        super().__init__()
        self.Ws, self.us, self.bs, n_in = [], [], [], vocab
        for _ in range(args.layers):  # the symrnn tutorial's order of rng calls
            self.Ws.append(torch.nn.Parameter(torch.tensor(glorot(rng, n_in, args.hidden),
                                                           dtype=torch.float32)))
            self.us.append(torch.nn.Parameter(torch.tensor(rng.uniform(0.0, 1.0, args.hidden),
                                                           dtype=torch.float32)))
            self.bs.append(torch.nn.Parameter(torch.zeros(args.hidden)))
            n_in = args.hidden
        self.Wo = torch.nn.Parameter(torch.tensor(glorot(rng, args.hidden, vocab),
                                                  dtype=torch.float32))
        self.bo = torch.nn.Parameter(torch.zeros(vocab))
        for k, p in enumerate(self.Ws + self.us + self.bs):
            self.register_parameter(f"p{k}", p)
        self.vocab, self.rate, self.residual = vocab, args.dropout, args.residual

    def forward(self, ids, train):
        h = torch.nn.functional.one_hot(ids, self.vocab).float()
        block_in = None
        for k, (W, u, b) in enumerate(zip(self.Ws, self.us, self.bs)):
            pre = h @ W + b  # the input projection of the whole sequence, then the recurrence
            state, outs = torch.zeros_like(pre[0]), []
            for t in range(pre.shape[0]):
                state = torch.relu(pre[t] + u * state)
                outs.append(state)
            out = torch.stack(outs)
            if self.residual and k > 0 and k % 2 == 1:
                block_in = h
            elif self.residual and k > 0:
                out = out + block_in
            if train and self.rate > 0:  # one mask for all time steps
                keep = 1.0 - self.rate
                out = out * (torch.rand_like(out[:1]) < keep).float() / keep
            h = out
        return h @ self.Wo + self.bo


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--seq-len", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--mag", type=float, default=2.0)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--steps-per-epoch", type=int, default=200)
    p.add_argument("--valid-chars", type=int, default=50000)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--residual", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    corpus = datasets.shakespeare(args.data_dir)
    valid = corpus.valid[:args.valid_chars] if args.valid_chars else corpus.valid
    rng = np.random.RandomState(args.seed)
    model = Model(args, len(corpus.vocab), rng)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    bound = args.mag ** (1.0 / args.seq_len)
    loss_fn = torch.nn.CrossEntropyLoss()

    def windows(ids, n, length):
        starts = rng.randint(0, len(ids) - length - 1, n)
        chunk = np.stack([ids[s:s + length + 1] for s in starts], axis=1)
        return torch.tensor(chunk[:-1]), torch.tensor(chunk[1:])

    def valid_bpc():
        n = (len(valid) - 1) // args.seq_len * args.seq_len
        xs = torch.tensor(valid[:n].reshape(-1, args.seq_len).T)
        ys = torch.tensor(valid[1:n + 1].reshape(-1, args.seq_len).T)
        with torch.no_grad():
            total = sum(float(loss_fn(model(xs[:, i:i + 256], False).reshape(
                -1, model.vocab), ys[:, i:i + 256].reshape(-1))) * xs[:, i:i + 256].shape[1]
                for i in range(0, xs.shape[1], 256))
        return total / xs.shape[1] / np.log(2)

    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    start = time.time()
    for epoch in range(args.epochs):
        t0, losses = time.time(), []
        for _ in range(args.steps_per_epoch):
            x, y = windows(corpus.train, args.batch_size, args.seq_len)
            loss = loss_fn(model(x, True).reshape(-1, model.vocab), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for u in model.us:
                    u.clamp_(-bound, bound)
            losses.append(loss.item() / np.log(2))
        rate = args.steps_per_epoch / (time.time() - t0)
        print(f"epoch {epoch + 1}: train {np.mean(losses):.3f} bpc, valid {valid_bpc():.3f} bpc "
              f"({rate:.1f} steps/s)", flush=True)
    print(f"total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
