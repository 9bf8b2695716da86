"""The examples run (in their fast configurations) and do what they claim."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tutorial_reproduces_the_seed_values(capsys):
    r = load("tutorial").main()
    assert r["poly"] == 7.0 and r["dz"] == (3.0, 8.0) and r["cubic"] == 94.0
    assert r["descent"] == pytest.approx(1.8, abs=1e-15)
    g_w, g_b, g_x, residual, w = r["linear"]
    assert g_w == pytest.approx(2 * residual, abs=1e-12)
    assert g_b == pytest.approx(2 * residual, abs=1e-12)
    assert g_x == pytest.approx(2 * residual * w, abs=1e-12)
    w_fit, b_fit, final = r["fit"]
    assert w_fit == pytest.approx(3.0, abs=1e-9) and b_fit == pytest.approx(1.0, abs=1e-9)
    assert final < 1e-20
    assert r["higher"] == (12.0, 6.0) and r["loop"] == 168.0 and r["stop"] == 3.0
    assert r["restored"]
    assert "== 10." in capsys.readouterr().out


def _png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_digits_mlp_fast(tmp_path):
    pytest.importorskip("sklearn")
    plot = tmp_path / "mlp.png"
    r = load("digits_mlp").main(["--fast", "--no-progress", "--plot", str(plot)])
    assert len(r["train_losses"]) == 3
    assert r["train_losses"][-1] < r["train_losses"][0] / 2
    assert r["accuracy"] > 0.9
    if importlib.util.find_spec("matplotlib") is not None:
        assert r["plot"] == str(plot) and _png(plot)


def test_digits_cnn_fast(tmp_path):
    pytest.importorskip("sklearn")
    r = load("digits_cnn").main(["--fast", "--no-progress", "--plot", ""])
    assert len(r["train_losses"]) == 1 and r["plot"] is None
    assert r["accuracy"] > 0.6


def test_sequence_rnn_fast_loss_falls_tenfold():
    for cell in ("lstm", "gru"):
        r = load("sequence_rnn").main(["--fast", "--no-progress", "--plot", "", "--cell", cell])
        assert r["final_loss"] < r["initial_loss"] / 10, cell


def test_neural_ode_fast_fits_the_spiral(tmp_path):
    plot = tmp_path / "neural_ode.png"
    r = load("neural_ode").main(["--fast", "--no-progress", "--plot", str(plot)])
    assert len(r["losses"]) == 15
    assert max(r["losses"][-3:]) < r["losses"][0] / 1.5
    assert r["final_error"] < r["initial_error"] / 2
    if importlib.util.find_spec("matplotlib") is not None:
        assert r["plot"] == str(plot) and _png(plot)


def test_examples_degrade_gracefully_without_tqdm_and_matplotlib(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    for missing in ("tqdm", "tqdm.auto", "matplotlib", "matplotlib.pyplot"):
        monkeypatch.setitem(sys.modules, missing, None)  # makes `import missing` fail
    plot = tmp_path / "never.png"
    r = load("digits_mlp").main(["--epochs", "1", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert r["plot"] is None and not plot.exists()
    assert "matplotlib is not installed" in out and "epoch 1/1 loss=" in out


def test_example_runs_as_a_script_in_fast_mode_from_the_environment(tmp_path):
    pytest.importorskip("sklearn")
    env = dict(os.environ, FUNCTRANS_EXAMPLES_FAST="1",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, "digits_mlp.py"),
                           "--no-progress"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "epoch 3/3" in done.stdout and "test accuracy:" in done.stdout


def test_gaussian_process_fast_fits_its_hyperparameters(tmp_path):
    pytest.importorskip("scipy")
    plot = tmp_path / "gp.png"
    example = load("gaussian_process")
    r = example.main(["--fast", "--plot", str(plot)])
    assert r["converged"] and r["final_nll"] < r["initial_nll"] - 10
    sigma_f, ell, sigma_n = r["params"]
    assert 0.3 < ell < 1.5 and 0.03 < sigma_n < 0.3
    assert r["coverage"] > 0.8 and r["rms_error"] < 0.5
    if importlib.util.find_spec("matplotlib") is not None:
        assert r["plot"] == str(plot) and _png(plot)
    # the gradient L-BFGS-B follows is the likelihood's
    from functrans.testing import check_grads

    x, y = example.toy_data(8, 0)
    check_grads(lambda p: example.negative_log_likelihood(p, x, y), (np.log([1.0, 0.7, 0.3]),), order=2)
