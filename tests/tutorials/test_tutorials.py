"""Every tutorial in its --quick setting: it runs and its loss falls.

MNIST and text tutorials need the data folder ($SYMRNN_DATA, or ../shared/data
beside the checkout); without it they are skipped with a visible reason.
"""
import argparse
import importlib.util
import os

import numpy as np
import pytest

import symrnn

HERE = os.path.dirname(os.path.abspath(__file__))
TUTORIALS = os.path.join(HERE, "..", "..", "tutorials")
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "data")
DATA = os.environ.get("SYMRNN_DATA") or (SHARED if os.path.isdir(SHARED) else None)
needs_data = pytest.mark.skipif(DATA is None, reason="no data folder: set SYMRNN_DATA")


# the NumPy backend keeps this file fast (no compile time); SYMRNN_TUTORIAL_BACKEND=numba
# runs the same checks on another backend
BACKEND = os.environ.get("SYMRNN_TUTORIAL_BACKEND", "numpy")


def load(name):
    spec = importlib.util.spec_from_file_location(f"tutorial_{name}",
                                                  os.path.join(TUTORIALS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def keep_config():
    old = symrnn.config.floatX
    yield
    symrnn.config.floatX = old


def run(name, tmp_path, *extra):
    argv = ["--quick", "--backend", BACKEND, "--no-progress", "--out-dir", str(tmp_path),
            *extra]
    return load(name).main(argv)


HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def plotted(path):
    """A tutorial saves its PNG whenever matplotlib is installed (CI installs only [test])."""
    return path.exists() or not HAS_MATPLOTLIB


def falls(curve, factor=0.9):
    curve = np.asarray(curve, dtype=float)
    k = max(1, len(curve) // 5)
    return np.mean(curve[-k:]) < factor * np.mean(curve[:k])


def test_scan_basics(tmp_path):
    history = run("scan_basics", tmp_path)
    assert falls(history["cost"], 0.1)
    assert plotted(tmp_path / "scan_basics_training.png")


def test_scan_basics_resume_continues_from_checkpoint(tmp_path):
    # 3 epochs, then 3 resumed, equal 6 in one run: parameters and every random state restored
    argv = ["--backend", BACKEND, "--no-progress", "--train-only"]
    whole = load("scan_basics").main(argv + ["--epochs", "6", "--out-dir", str(tmp_path / "a")])
    load("scan_basics").main(argv + ["--epochs", "3", "--out-dir", str(tmp_path / "b")])
    second = load("scan_basics").main(argv + ["--epochs", "6", "--resume", "--out-dir",
                                              str(tmp_path / "b")])
    assert len(second["cost"]) == 6
    np.testing.assert_array_equal(second["cost"], whole["cost"])
    assert second["a"] == whole["a"]


def test_counting_rnn(tmp_path):
    results = run("counting_rnn", tmp_path)
    for name in ("sgd", "rmsprop"):
        assert falls(results[name][0])
    assert plotted(tmp_path / "counting_rnn_loss.png")


def test_binary_adder(tmp_path):
    result = run("binary_adder", tmp_path)
    assert falls(result["loss"])


def test_indrnn_adding(tmp_path):
    history = run("indrnn_adding", tmp_path)
    assert history["test_mse"][-1] < history["test_mse"][0]
    assert falls(history["train_mse"])


@needs_data
@pytest.mark.parametrize("name", ["irnn_mnist", "orthogonal_rnn_mnist", "indrnn_mnist"])
def test_mnist_tutorials(name, tmp_path):
    history = run(name, tmp_path, "--data-dir", DATA)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert plotted(tmp_path / f"{name}_accuracy.png")


def test_fit_decays_the_learning_rate_per_epoch_and_after_resume(tmp_path):
    common = load("common")
    args = argparse.Namespace(seed=1, epochs=2, resume=False, out_dir=str(tmp_path),
                              no_progress=True, lr=0.004, lr_decay=0.5)
    lr = common.learning_rate(args)
    seen = []

    def train(x, y):
        seen.append(float(lr.get_value()))
        return 1.0, 0.5
    data = (np.zeros((4, 3)), np.zeros(4, "int64"), np.zeros((2, 3)), np.zeros(2, "int64"))
    fit = common.fit
    history = fit(args, "t", train, lambda x: np.zeros(len(x), "int64"), data, lambda x: x, 2,
                  [], lr=lr)
    np.testing.assert_allclose(seen, [0.004, 0.004, 0.002, 0.002], rtol=1e-6)
    args.epochs, args.resume = 3, True
    history = fit(args, "t", train, lambda x: np.zeros(len(x), "int64"), data, lambda x: x, 2,
                  [], lr=lr)
    np.testing.assert_allclose(history["lr"], [0.004, 0.002, 0.001], rtol=1e-6)
    assert history["test_acc"] == [1.0, 1.0, 1.0]


@needs_data
def test_indrnn_charlm(tmp_path):
    history = run("indrnn_charlm", tmp_path, "--data-dir", DATA)
    assert history["valid_bpc"][-1] < history["valid_bpc"][0]


@needs_data
def test_indrnn_charlm_dropout_and_residual(tmp_path):
    # the seed's options: dropout with one mask over time, residual blocks of two layers
    history = run("indrnn_charlm", tmp_path, "--data-dir", DATA, "--dropout", "0.25",
                  "--residual", "--layers", "3")
    assert history["valid_bpc"][-1] < history["valid_bpc"][0]


@pytest.mark.parametrize("name", ["irnn_mnist", "indrnn_charlm"])
def test_missing_data_is_named(name, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        run(name, tmp_path, "--data-dir", str(tmp_path / "empty"))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert ("train-images-idx3-ubyte.gz" in err) or ("tinyshakespeare.txt" in err)
    assert "SYMRNN_DATA" in err


@pytest.mark.parametrize("name", ["scan_basics", "counting_rnn", "binary_adder",
                                  "indrnn_adding", "indrnn_mnist", "irnn_mnist",
                                  "orthogonal_rnn_mnist", "indrnn_charlm"])
def test_help(name, capsys):
    with pytest.raises(SystemExit) as e:
        load(name).main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ("--backend", "--seed", "--epochs", "--quick", "--data-dir", "--resume"):
        assert option in out
