"""Data for the tutorials: synthetic sequence tasks, MNIST and character corpora.

Files are looked up in a data directory: the ``data_dir`` argument, else the
environment variable ``SYMRNN_DATA``, else ``~/.symrnn/data``. MNIST files may
sit in ``<data_dir>/mnist/`` or in ``<data_dir>`` itself; the Shakespeare corpus
in ``<data_dir>/text/`` or ``<data_dir>``. With ``download=True`` missing files are
fetched from their official source and checked against their published SHA-256.
"""
import gzip
import hashlib
import os
import struct
import urllib.request

import numpy as np

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "http://yann.lecun.com/exdb/mnist/")
SHAKESPEARE_FILE = "tinyshakespeare.txt"
SHAKESPEARE_MIRRORS = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                       "tinyshakespeare/input.txt#",)
SHA256 = {
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    SHAKESPEARE_FILE: "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
}

# ---- synthetic tasks ----


def counting(n_samples=20, seq_len=10, rng=None):
    """Binary sequences and their sums (seed 004): X (n_samples, seq_len), y (n_samples,).

    With ``rng=None`` the seed's own data is drawn (``np.random.seed(1)``).
    """
    rng = rng if rng is not None else np.random.RandomState(1)
    X = np.zeros((n_samples, seq_len))
    for i in range(n_samples):
        X[i] = np.around(rng.rand(seq_len))
    return X, X.sum(axis=1)


def binary_addition(n_samples, seq_len=7, rng=None):
    """Two (seq_len-1)-bit numbers and their sum, least significant bit first (seed 001).

    Returns X (n_samples, seq_len, 2) and T (n_samples, seq_len, 1), float64.
    """
    rng = rng if rng is not None else np.random.RandomState(1)
    max_int = 2 ** (seq_len - 1)
    bits = 2 ** np.arange(seq_len)
    a = rng.randint(0, max_int, n_samples)
    b = rng.randint(0, max_int, n_samples)

    def to_bits(v):
        return ((v[:, None] & bits) > 0).astype("float64")
    X = np.stack([to_bits(a), to_bits(b)], axis=-1)
    return X, to_bits(a + b)[:, :, None]


def adding_problem(n_samples, seq_len, rng=None, dtype="float32"):
    """The adding problem (Hochreiter 1997, as in the IndRNN code).

    Each step holds a value drawn from U(0, 1) and a marker; exactly two
    markers are 1, one in each half of the sequence. The target is the sum of
    the two marked values. Returns X (n_samples, seq_len, 2) and y (n_samples,).
    Predicting 1 always gives a mean squared error of about 1/6.
    """
    if seq_len < 2:
        raise ValueError(f"adding_problem: seq_len must be at least 2, got {seq_len}")
    rng = rng if rng is not None else np.random.RandomState(0)
    values = rng.uniform(0, 1, (n_samples, seq_len))
    half = seq_len // 2
    first = rng.randint(0, half, n_samples)
    second = rng.randint(half, seq_len, n_samples)
    markers = np.zeros((n_samples, seq_len))
    rows = np.arange(n_samples)
    markers[rows, first] = 1
    markers[rows, second] = 1
    y = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=-1).astype(dtype), y.astype(dtype)


# ---- files ----

def data_dir(path=None):
    """The data directory: ``path``, else $SYMRNN_DATA, else ~/.symrnn/data."""
    return os.path.expanduser(path or os.environ.get("SYMRNN_DATA")
                              or os.path.join("~", ".symrnn", "data"))


def download(name, folder, mirrors):
    """Fetch ``name`` into ``folder`` from the first mirror that serves it with the right SHA-256.

    A mirror ending in '#' is the whole URL (the file has another name there).
    """
    errors = []
    for mirror in mirrors:
        url = mirror[:-1] if mirror.endswith("#") else mirror + name
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                data = response.read()
        except OSError as e:
            errors.append(f"{url}: {e}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != SHA256[name]:
            errors.append(f"{url}: SHA-256 {digest} is not the published {SHA256[name]}")
            continue
        os.makedirs(folder, exist_ok=True)
        dest = os.path.join(folder, name)
        with open(dest + ".part", "wb") as f:
            f.write(data)
        os.replace(dest + ".part", dest)
        print(f"downloaded {url} to {dest}")
        return dest
    raise OSError(f"could not download {name}: " + "; ".join(errors))


def _find(names, subdir, path, mirrors, fetch=False):
    root = data_dir(path)
    found = []
    for name in names:
        candidates = [os.path.join(root, subdir, name), os.path.join(root, name)]
        hit = next((c for c in candidates if os.path.isfile(c)), None)
        if hit is None and fetch:
            hit = download(name, os.path.join(root, subdir), mirrors)
        found.append(hit)
    missing = [n for n, f in zip(names, found) if f is None]
    if missing:
        where = " or ".join(m.rstrip("#") for m in mirrors)
        hint = "; --download fetches them" if all(n in SHA256 for n in missing) else ""
        raise FileNotFoundError(
            f"missing data file(s) {', '.join(missing)}: put them in "
            f"{os.path.join(root, subdir)}/ (they come from {where}{hint}), or point "
            "--data-dir or the SYMRNN_DATA environment variable at the folder that holds them")
    return found


def _read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    got, count = struct.unpack(">II", raw[:8])
    if got != magic:
        raise ValueError(f"{path}: not an IDX file with magic {magic} (got {got})")
    if magic == 2051:
        rows, cols = struct.unpack(">II", raw[8:16])
        return np.frombuffer(raw, np.uint8, offset=16).reshape(count, rows, cols)
    return np.frombuffer(raw, np.uint8, offset=8)


def mnist(split="train", path=None, n=None, dtype="float32", download=False):
    """MNIST images scaled to [0, 1] (n, 28, 28) and int64 labels (n,).

    ``split`` is 'train' (60,000) or 'test' (10,000); ``n`` keeps the first n.
    Missing files are downloaded when ``download``, else FileNotFoundError names
    them and where to put them.
    """
    if split not in MNIST_FILES:
        raise ValueError(f"mnist: split must be 'train' or 'test', got {split!r}")
    images_path, labels_path = _find(MNIST_FILES[split], "mnist", path, MNIST_MIRRORS,
                                     download)
    images, labels = _read_idx(images_path, 2051), _read_idx(labels_path, 2049)
    if n is not None:
        images, labels = images[:n], labels[:n]
    return (images / np.asarray(255, dtype)).astype(dtype), labels.astype("int64")


class CharCorpus:
    """A character corpus as integer ids: ``train`` and ``valid`` arrays and the ``vocab``.

    ``decode(ids)`` turns ids back into text.
    """

    def __init__(self, train_text, valid_text):
        self.vocab = sorted(set(train_text) | set(valid_text))
        index = {c: i for i, c in enumerate(self.vocab)}
        self.train = np.array([index[c] for c in train_text], dtype="int64")
        self.valid = np.array([index[c] for c in valid_text], dtype="int64")

    def decode(self, ids):
        return "".join(self.vocab[i] for i in ids)


def shakespeare(path=None, valid_fraction=0.1, download=False):
    """Tiny Shakespeare: the first 90% of the characters to train, the last 10% to validate."""
    (file,) = _find([SHAKESPEARE_FILE], "text", path, SHAKESPEARE_MIRRORS, download)
    with open(file, encoding="ascii") as f:
        text = f.read()
    cut = int(round(len(text) * (1 - valid_fraction)))
    return CharCorpus(text[:cut], text[cut:])


def ptb_char(folder):
    """Character-level Penn Treebank from ``folder`` (ptb.char.train.txt, ptb.char.valid.txt).

    The files hold space-separated characters with '_' between words; each
    line ends with a newline character here. PTB is licensed by the LDC and is
    not bundled: pass the folder of your own copy.
    """
    names = ["ptb.char.train.txt", "ptb.char.valid.txt"]
    train, valid = _find(names, "", folder, ["your LDC-licensed copy of the Penn Treebank#"])

    def read(p):
        with open(p) as f:
            return "".join("".join(line.split()) + "\n" for line in f)
    return CharCorpus(read(train), read(valid))
