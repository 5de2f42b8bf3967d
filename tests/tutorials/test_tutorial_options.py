"""What every tutorial owes its reader: help on every option, log lines that do not land in
the progress bar, quick runs that say what they leave unchecked, and --resume that restores
every random state (3 epochs + 3 resumed == 6)."""
import argparse
import os

import numpy as np
import pytest

from tests.tutorials.test_tutorials import BACKEND, TUTORIALS, keep_config, load  # noqa: F401

NAMES = sorted(f[:-3] for f in os.listdir(TUTORIALS) if f.endswith(".py") and f != "common.py")


class _Parsed(Exception):
    pass


@pytest.mark.parametrize("name", NAMES)
def test_every_option_has_help(name, monkeypatch):
    module = load(name)
    seen = {}

    def capture(p, argv):
        seen["parser"] = p
        raise _Parsed
    monkeypatch.setattr(module.common, "parse", capture)
    with pytest.raises(_Parsed):
        module.main([])
    missing = [a.option_strings for a in seen["parser"]._actions
               if a.help in (None, "") and a.help != argparse.SUPPRESS]
    assert not missing, f"{name}: options without help: {missing}"


def test_progress_writes_log_lines_above_the_bar(capsys):
    tqdm = pytest.importorskip("tqdm")  # noqa: F841
    common = load("scan_basics").common
    bar = common.Progress(3, "train", enabled=True)
    bar.update(cost=1.0)
    bar.write("epoch[    1] : cost = 1.0")
    bar.close()
    out = capsys.readouterr()
    # tqdm draws on stderr; the log line is a whole line of its own on stdout
    assert "epoch[    1] : cost = 1.0\n" in out.out and "train" not in out.out


def test_counting_quick_run_says_what_it_does_not_check(tmp_path, capsys):
    argv = ["--quick", "--backend", BACKEND, "--no-progress", "--out-dir", str(tmp_path)]
    load("counting_rnn").main(argv)
    out = capsys.readouterr().out
    assert "within 0.01 of 1.0" not in out
    assert "--quick: 700 epochs" in out and "does not check them" in out


def test_checkpoint_restores_random_states(tmp_path):
    common = load("scan_basics").common
    import symrnn
    w = symrnn.shared(np.zeros(2), name="w")
    legacy, gen = np.random.RandomState(3), np.random.default_rng(4)
    legacy.normal(size=5), gen.normal(size=5)
    ckpt = common.Checkpoint(str(tmp_path), [w], rngs=[legacy, gen])
    ckpt.save(2, {"cost": [1.0, 0.5]})
    expected = legacy.normal(size=3), gen.normal(size=3)
    w.set_value(np.ones(2))
    epoch, history = ckpt.load()
    assert epoch == 2 and history["cost"] == [1.0, 0.5]
    np.testing.assert_array_equal(w.get_value(), np.zeros(2))
    np.testing.assert_array_equal(legacy.normal(size=3), expected[0])
    np.testing.assert_array_equal(gen.normal(size=3), expected[1])


def test_fit_resumed_sees_the_batches_of_one_whole_run(tmp_path):
    # the MNIST tutorials' loop: 2 epochs + 1 resumed shuffle the data as 3 epochs in one run
    common = load("scan_basics").common

    def batches_seen(out_dir, epochs, resume):
        out_dir.mkdir(exist_ok=True)
        args = argparse.Namespace(seed=1, epochs=epochs, resume=resume, out_dir=str(out_dir),
                                  no_progress=True)
        seen = []

        def train(x, y):
            seen.append(x[:, 0].tolist())
            return 1.0, 0.5
        X = np.arange(12.0).reshape(6, 2)
        data = (X, np.zeros(6, "int64"), X[:2], np.zeros(2, "int64"))
        common.fit(args, "t", train, lambda x: np.zeros(len(x), "int64"), data,
                   lambda x: x, 2, [])
        return seen
    whole = batches_seen(tmp_path / "a", 3, False)
    first = batches_seen(tmp_path / "b", 2, False)
    rest = batches_seen(tmp_path / "b", 3, True)
    assert first + rest == whole and len(whole) == 9
