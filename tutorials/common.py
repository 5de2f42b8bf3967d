"""What every tutorial shares: command line, progress display, checkpoints and plots.

Each tutorial builds its parser with :func:`parser`, compiles with
``mode=args.mode`` and trains with a :class:`Progress` and a :class:`Checkpoint`.
"""
import argparse
import os
import pickle
import sys
import time

import numpy as np

try:
    import symrnn  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BACKENDS = {"numba": "NUMBA", "numpy": "NUMPY", "cupy": "CUPY"}


def parser(name, description, epochs):
    """An argparse parser with the options every tutorial takes."""
    p = argparse.ArgumentParser(prog=f"python tutorials/{name}.py", description=description)
    p.add_argument("--backend", choices=sorted(BACKENDS), default="numba",
                   help="numba (CPU, default; NumPy if numba is missing), numpy or cupy (GPU)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--epochs", type=int, default=epochs, help=f"epochs (default {epochs})")
    p.add_argument("--quick", action="store_true",
                   help="a tiny run that finishes in seconds (for tests and a first look)")
    p.add_argument("--data-dir", default=None,
                   help="data folder (default: $SYMRNN_DATA, else ~/.symrnn/data)")
    p.add_argument("--download", action="store_true",
                   help="download missing data files from their official source")
    p.add_argument("--out-dir", default=os.path.join("~", ".symrnn", "runs", name),
                   help="where checkpoints and plots go (default ~/.symrnn/runs/<tutorial>)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --out-dir")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def parse(p, argv):
    """Parse ``argv``; adds ``args.mode`` (the symrnn mode) and creates ``args.out_dir``."""
    args = p.parse_args(argv)
    args.mode = BACKENDS[args.backend]
    args.out_dir = os.path.expanduser(args.out_dir)
    os.makedirs(args.out_dir, exist_ok=True)
    return args


def quick_note(args, text):
    """In a --quick run, say what it does not check (a short run is not a failed one)."""
    if getattr(args, "quick", False):
        print(f"--quick: {text}")


def fail(message):
    """Stop with a clear message (missing data files and the like)."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _numba_compiling():
    """True while a training function runs on NumPy because numba compiles it beside."""
    bg = sys.modules.get("symrnn.backends.numba.background")
    return bg is not None and bg.compiling()


def compiled(t0):
    """What the build since ``t0`` (time.time()) gave: compiled code, or NumPy running the
    first steps while numba compiles in the background."""
    took = f"{time.time() - t0:.1f} s"
    loading = sys.modules.get("symrnn.backends.numba.loading")
    if loading is not None and loading.importing:  # (settles within the first call)
        return (f"ready in {took}; numba is imported and the compiled code loaded beside "
                "(or compiled, where the cache lacks it)")
    if _numba_compiling():
        return f"ready in {took}; numba compiles in the background, NumPy runs the first steps"
    return f"compiled in {took}"


class Progress:
    """A progress bar with the running loss/accuracy and steps per second.

    Uses tqdm when it is installed, else prints a line every few seconds.
    """

    def __init__(self, total, desc, enabled=True):
        self.total, self.desc, self.enabled = total, desc, enabled
        self.start = self.last = time.time()
        self.n = 0
        self.bar = None
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, desc=desc, unit="step", leave=False,
                                dynamic_ncols=True)
            except ImportError:
                self.bar = None

    def update(self, **metrics):
        self.n += 1
        if not self.enabled:
            return
        text = {k: f"{v:.4g}" for k, v in metrics.items()}
        if _numba_compiling():
            text["on"] = "NumPy while numba compiles"
        if self.bar is not None:
            self.bar.set_postfix(text, refresh=False)
            self.bar.update(1)
        elif time.time() - self.last > 5 or self.n == self.total:
            self.last = time.time()
            rate = self.n / max(self.last - self.start, 1e-9)
            shown = " ".join(f"{k}={v}" for k, v in text.items())
            print(f"{self.desc}: {self.n}/{self.total} {shown} {rate:.1f} steps/s", flush=True)

    def write(self, text):
        """Print a log line above the bar (a plain print would land in the bar's line)."""
        if self.bar is not None:
            self.bar.write(text)
        else:
            print(text, flush=True)

    def close(self):
        """Close the bar; returns the steps per second."""
        if self.bar is not None:
            self.bar.close()
        return self.n / max(time.time() - self.start, 1e-9)


class Checkpoint:
    """Saves shared variables (parameters and optimizer state), the history and the state of
    every random generator after each epoch, so that 3 epochs and 3 resumed equal 6.

    ``shared`` is the list of shared variables to keep, e.g. ``[t for t, _ in updates]``;
    ``rngs`` the NumPy RandomState / Generator objects that draw data or batch orders.
    """

    def __init__(self, out_dir, shared, name="checkpoint", rngs=()):
        self.path = os.path.join(out_dir, f"{name}.npz")
        self.shared = list(shared)
        self.rngs = list(rngs)

    def save(self, epoch, history):
        arrays = {f"v{i}": s.get_value() for i, s in enumerate(self.shared)}
        for i, r in enumerate(self.rngs):
            state = r.get_state() if hasattr(r, "get_state") else r.bit_generator.state
            arrays[f"rng{i}"] = np.frombuffer(pickle.dumps(state), np.uint8)
        arrays.update({f"h_{k}": np.asarray(v) for k, v in history.items()})
        tmp = self.path + ".tmp.npz"
        np.savez(tmp, epoch=epoch, **arrays)
        os.replace(tmp, self.path)

    def load(self):
        """Restore the variables; returns (epochs done, history)."""
        if not os.path.exists(self.path):
            fail(f"--resume: no checkpoint at {self.path}")
        data = np.load(self.path)
        for i, s in enumerate(self.shared):
            s.set_value(data[f"v{i}"])
        for i, r in enumerate(self.rngs):
            if f"rng{i}" not in data.files:
                fail(f"--resume: {self.path} has no random state {i} (an older checkpoint)")
            state = pickle.loads(data[f"rng{i}"].tobytes())
            if hasattr(r, "set_state"):
                r.set_state(state)
            else:
                r.bit_generator.state = state
        history = {k[2:]: list(data[k]) for k in data.files if k.startswith("h_")}
        print(f"resumed from {self.path} after epoch {int(data['epoch'])}")
        return int(data["epoch"]), history


def save_plot(path, curves, xlabel, ylabel, title, logy=False):
    """Plot ``curves`` ({label: (x, y)}) to a PNG with matplotlib; skipped if it is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, (x, y) in curves.items():
        ax.plot(x, y, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if logy:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot saved to {path}")
    return path


def batches(n, batch_size, rng=None):
    """Index arrays of whole minibatches over ``n`` samples (shuffled when ``rng`` is given)."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n - batch_size + 1, batch_size)]


# ---- classification on MNIST, shared by the three MNIST tutorials ----

def load_mnist(args, n_train=None, n_test=None):
    """(X_train, y_train, X_test, y_test) from --data-dir; a clear exit when files are missing."""
    from symrnn import datasets
    try:
        X_train, y_train = datasets.mnist("train", args.data_dir, n_train,
                                          download=args.download)
        X_test, y_test = datasets.mnist("test", args.data_dir, n_test, download=args.download)
    except OSError as e:  # missing files, or a failed download
        fail(str(e))
    print(f"MNIST: {len(X_train)} training and {len(X_test)} test images")
    return X_train, y_train, X_test, y_test


def accuracy(predict, X, y, prep, batch_size):
    """Accuracy of ``predict`` (inputs -> class ids) over (X, y), batch by batch."""
    correct = 0
    for i in range(0, len(X), batch_size):
        correct += int(np.sum(predict(prep(X[i:i + batch_size])) == y[i:i + batch_size]))
    return correct / len(X)


def add_lr(p, default, decay=1.0, what="Adam"):
    """Add --lr and --lr-decay (a factor applied after each epoch) to parser ``p``."""
    p.add_argument("--lr", type=float, default=default,
                   help=f"{what} learning rate (default {default:g})")
    p.add_argument("--lr-decay", type=float, default=decay,
                   help=f"multiply the learning rate by this after each epoch (default {decay:g})")


def add_mnist_subset(p, pool=False):
    """Add --n-train and --n-test (a part of MNIST), and --pool for the pixel-by-pixel ones."""
    if pool:
        p.add_argument("--pool", type=int, default=1,
                       help="average-pool images by this factor first (2: 196 steps)")
    p.add_argument("--n-train", type=int, default=None, help="use the first N training images")
    p.add_argument("--n-test", type=int, default=None, help="test on the first N test images")


def learning_rate(args):
    """The learning rate as a shared scalar, so that :func:`fit` can decay it."""
    import symrnn  # noqa: F811  (imported above only when installed)
    return symrnn.shared(np.asarray(args.lr, dtype="float32"), name="lr")


def fit(args, name, train, predict, data, prep, batch_size, shared, report=None, lr=None,
        before_test=None):
    """Train ``train(x, y) -> (loss, accuracy)`` for args.epochs; test after each epoch.

    ``data`` is (X_train, y_train, X_test, y_test); ``prep`` turns a batch of
    images into the network's input; ``report()`` may add a line per epoch;
    ``before_test()`` runs before each test (batch-norm statistics, say).
    ``lr`` (from :func:`learning_rate`) is args.lr * args.lr_decay ** epoch,
    also after --resume (so a resumed run may change --lr).
    Checkpoints after each epoch, plots loss and accuracy; returns the history.
    """
    X_train, y_train, X_test, y_test = data
    rng = np.random.RandomState(args.seed + 1)
    ckpt = Checkpoint(args.out_dir, shared, rngs=[rng])
    start, history = (ckpt.load() if args.resume else
                      (0, {"train_loss": [], "train_acc": [], "test_acc": [], "seconds": []}))
    for epoch in range(start, args.epochs):
        t0 = time.time()
        if lr is not None:
            lr.set_value(np.asarray(args.lr * args.lr_decay ** epoch, dtype="float32"))
        idx_list = batches(len(X_train), batch_size, rng)
        bar = Progress(len(idx_list), f"epoch {epoch + 1}/{args.epochs}", not args.no_progress)
        losses, accs = [], []
        for idx in idx_list:
            loss, acc = train(prep(X_train[idx]), y_train[idx])
            losses.append(float(loss))
            accs.append(float(acc))
            k = min(len(losses), 50)
            bar.update(loss=np.mean(losses[-k:]), acc=np.mean(accs[-k:]))
        rate = bar.close()
        if before_test is not None:
            before_test()
        test_acc = accuracy(predict, X_test, y_test, prep, max(batch_size, 200))
        for key, v in (("train_loss", np.mean(losses)), ("train_acc", np.mean(accs)),
                       ("test_acc", test_acc), ("seconds", time.time() - t0)):
            history[key].append(float(v))
        if lr is not None:
            history.setdefault("lr", []).append(float(lr.get_value()))
        extra = f"  {report()}" if report else ""
        print(f"epoch {epoch + 1}: train loss {np.mean(losses):.4f} acc {np.mean(accs):.4f}  "
              f"test acc {test_acc:.4f}  ({rate:.1f} steps/s, {history['seconds'][-1]:.0f} s)"
              + extra, flush=True)
        ckpt.save(epoch + 1, history)
    epochs = np.arange(1, len(history["test_acc"]) + 1)
    save_plot(os.path.join(args.out_dir, f"{name}_accuracy.png"),
              {"train": (epochs, history["train_acc"]), "test": (epochs, history["test_acc"])},
              "epoch", "accuracy", f"{name}: accuracy")
    save_plot(os.path.join(args.out_dir, f"{name}_loss.png"),
              {"train": (epochs, history["train_loss"])}, "epoch", "loss", f"{name}: loss")
    quick_note(args, f"{len(X_train)} training images for {args.epochs} epoch(s) check that "
               "the loss falls; the accuracies in tutorials/README.md need full runs")
    return history


def pixels(images, pool=1):
    """Images (n, 28, 28) as pixel sequences (784 / pool**2, n, 1), average-pooled by ``pool``."""
    n, h, w = images.shape
    if pool > 1:
        images = images.reshape(n, h // pool, pool, w // pool, pool).mean(axis=(2, 4))
    return np.ascontiguousarray(images.reshape(n, -1).T[:, :, None])
