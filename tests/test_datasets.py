"""Datasets: synthetic tasks, the data-directory lookup, MNIST and text loaders."""
import gzip
import hashlib
import os
import struct

import numpy as np
import pytest

from symrnn import datasets as D

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
DATA = os.environ.get("SYMRNN_DATA") or (SHARED if os.path.isdir(SHARED) else None)
needs_data = pytest.mark.skipif(DATA is None, reason="no data folder (set SYMRNN_DATA)")


def test_counting_reproduces_seed_004():
    rng = np.random.RandomState(1)
    X, y = D.counting(rng=rng)
    assert X.shape == (20, 10) and set(np.unique(X)) <= {0.0, 1.0}
    np.testing.assert_array_equal(y, X.sum(axis=1))
    # the seed draws its initial weights right after the data: 0.0900 and 0.0113
    assert rng.uniform(-.1, .1, 1)[0] == pytest.approx(0.0900, abs=5e-5)


def test_binary_addition_bits_add_up():
    X, T = D.binary_addition(50, 7, np.random.RandomState(3))
    assert X.shape == (50, 7, 2) and T.shape == (50, 7, 1)
    w = 2 ** np.arange(7)
    np.testing.assert_array_equal(X[:, :, 0] @ w + X[:, :, 1] @ w, T[:, :, 0] @ w)
    assert np.all(X[:, -1, :] == 0)  # 6-bit numbers padded to 7 steps


def test_adding_problem():
    X, y = D.adding_problem(200, 30, np.random.RandomState(0))
    assert X.shape == (200, 30, 2) and X.dtype == np.float32
    assert np.all(X[:, :, 1].sum(axis=1) == 2)
    assert np.all(X[:, :15, 1].sum(axis=1) == 1)
    np.testing.assert_allclose((X[:, :, 0] * X[:, :, 1]).sum(axis=1), y, rtol=1e-6)
    assert 0.1 < np.mean((y - 1) ** 2) < 0.25
    with pytest.raises(ValueError, match="seq_len"):
        D.adding_problem(3, 1)


def test_data_dir_order(monkeypatch):
    monkeypatch.setenv("SYMRNN_DATA", "/env/dir")
    assert D.data_dir("/arg") == "/arg"
    assert D.data_dir() == "/env/dir"
    monkeypatch.delenv("SYMRNN_DATA")
    assert D.data_dir().endswith(os.path.join(".symrnn", "data"))


def test_missing_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        D.mnist("train", path=str(tmp_path))
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path) in msg and "SYMRNN_DATA" in msg
    with pytest.raises(FileNotFoundError, match="tinyshakespeare.txt"):
        D.shakespeare(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="ptb.char.train.txt"):
        D.ptb_char(str(tmp_path))


def _write_idx(path, magic, array):
    header = struct.pack(">II", magic, len(array))
    if magic == 2051:
        header += struct.pack(">II", *array.shape[1:])
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_mnist_reads_idx_files(tmp_path):
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", 2051, images)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", 2049, np.array([7, 2, 1]))
    x, y = D.mnist("test", path=str(tmp_path))
    np.testing.assert_allclose(x, images / 255.0, rtol=1e-6)
    assert x.dtype == np.float32 and list(y) == [7, 2, 1]
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", 2051, np.zeros((3, 1, 1)))
    with pytest.raises(ValueError, match="magic 2049"):
        D.mnist("test", path=str(tmp_path))
    with pytest.raises(ValueError, match="split"):
        D.mnist("valid", path=str(tmp_path))


@needs_data
def test_mnist_real_files():
    x, y = D.mnist("test", path=DATA, n=10)
    assert x.shape == (10, 28, 28)
    assert list(y) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@needs_data
def test_shakespeare_split():
    c = D.shakespeare(DATA)
    assert len(c.vocab) == 65
    assert len(c.train) + len(c.valid) == 1115394
    assert len(c.valid) == pytest.approx(111539, abs=1)
    assert c.decode(c.train[:9]) == "First Cit"


def test_ptb_char_reader(tmp_path):
    (tmp_path / "ptb.char.train.txt").write_text("a b _ c\nd _ e\n")
    (tmp_path / "ptb.char.valid.txt").write_text("c _ a\n")
    c = D.ptb_char(str(tmp_path))
    assert c.decode(c.train) == "ab_c\nd_e\n" and c.decode(c.valid) == "c_a\n"


def test_download_checks_sha256(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    text = "to be\nor not\n" * 10
    (mirror / "tinyshakespeare.txt").write_text(text)
    url = mirror.as_uri() + "/"
    dest = tmp_path / "data"
    with pytest.raises(OSError, match="SHA-256 .* is not the published"):
        D.download("tinyshakespeare.txt", str(dest), [url])
    assert not (dest / "tinyshakespeare.txt").exists()
    monkeypatch.setitem(D.SHA256, "tinyshakespeare.txt",
                        hashlib.sha256(text.encode()).hexdigest())
    broken = (tmp_path / "nowhere").as_uri() + "/"
    monkeypatch.setattr(D, "SHAKESPEARE_MIRRORS", (broken, url))
    corpus = D.shakespeare(str(dest), download=True)
    assert (dest / "text" / "tinyshakespeare.txt").read_text() == text
    assert corpus.decode(corpus.train[:5]) == "to be"
