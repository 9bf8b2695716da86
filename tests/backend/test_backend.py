"""The backend seam: lookup by type, scalars never choosing, registration, devices, transfers,
and the device-mismatch check of Primitive.bind (shown with a tiny two-device fake library)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import functrans as ft
from functrans import backend as B
from functrans.errors import DeviceMismatchError, TracerConversionError
from functrans.primitives.elementwise import add_p


class _FakeBackend(B.Backend):
    """Two fake devices, "fake:0" and "fake:1"; arrays are NumPy arrays in a box."""

    name = "fake"
    platform = "fake"
    xp = np

    def devices(self):
        return ["fake:0", "fake:1"]

    def device_of(self, x):
        return x.device

    def put(self, x, device):
        return _FakeArray(np.asarray(x.value if isinstance(x, _FakeArray) else x), device)

    def to_host(self, x):
        return np.array(x.value)

    def scope_for(self, device):  # like CuPy with "fake:0" current: make "fake:1" current
        return _Current(device) if device != "fake:0" else None


class _Current:
    """Records which device is current, as ``with cupy.cuda.Device(i)`` sets it."""

    stack = ["fake:0"]

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        self.stack.append(self.device)

    def __exit__(self, *exc):
        self.stack.pop()


class _FakeArray:
    __functrans_backend__ = _FakeBackend  # made on first use

    def __init__(self, value, device="fake:0"):
        self.value, self.device = value, device
        self.shape, self.dtype = value.shape, value.dtype

    def __add__(self, other):  # the result lands on the current device, as in CuPy
        return _FakeArray(self.value + getattr(other, "value", other), _Current.stack[-1])


def test_array_module_and_backend_of_numpy():
    x = np.ones(3)
    assert B.array_module(x) is np and B.array_module_of(x) is np
    assert B.backend_of(x) is B.NUMPY and B.backend_of(x).device_of(x) == "cpu"


def test_implementations_run_with_their_arrays_device_current():
    out = add_p.bind(_FakeArray(np.ones(2), "fake:1"), _FakeArray(np.ones(2), "fake:1"))
    assert out.device == "fake:1" and _Current.stack == ["fake:0"]
    assert add_p.bind(_FakeArray(np.ones(2)), 1.0).device == "fake:0"


def test_python_and_numpy_scalars_never_choose_the_backend():
    a = _FakeArray(np.ones(2))
    assert B.backend_of(2.0, np.float32(1), 3, a).name == "fake"
    assert B.array_module_of(1.0, True) is np
    assert B.backend_of() is B.NUMPY


def test_registration_by_attribute_and_legacy_module_attribute():
    class Legacy:
        __functrans_array_module__ = np

    assert B.array_module(Legacy()) is np
    assert B.backend_of(Legacy()).device_of(Legacy()) == "cpu"
    backend = B.backend_of(_FakeArray(np.ones(1)))
    assert isinstance(backend, _FakeBackend) and B.backend_of(_FakeArray(np.ones(1))) is backend


def test_scatter_add_accumulates_repeated_indices():
    out = np.zeros(3)
    B.NUMPY.scatter_add(out, (np.array([0, 2, 2]),), np.array([1.0, 2.0, 3.0]))
    assert out.tolist() == [1.0, 0.0, 5.0]


def test_backend_creation_and_copy_of_numpy_scalars():
    z = B.NUMPY.zeros((2,), np.float32)
    assert z.dtype == np.float32 and z.tolist() == [0.0, 0.0]
    c = B.NUMPY.asarray(np.float64(2.5), copy=True)
    c[()] = 1.0  # writable, unlike the NumPy scalar it came from
    assert float(c) == 1.0


def test_mixing_devices_in_one_primitive_names_both_devices_and_the_fix():
    a, b = _FakeArray(np.ones(2), "fake:0"), _FakeArray(np.ones(2), "fake:1")
    with pytest.raises(DeviceMismatchError) as info:
        add_p.bind(a, b)
    message = str(info.value)
    assert "add" in message and "'fake:0'" in message and "'fake:1'" in message
    assert "device_put" in message and "never copies" in message


def test_the_suggested_fix_moves_host_data_to_the_accelerator():
    with pytest.raises(DeviceMismatchError, match=r"device_put\(x, 'fake:0'\)"):
        add_p.bind(np.ones(2), _FakeArray(np.ones(2)))
    with pytest.raises(DeviceMismatchError, match=r"random.key\(seed, device='fake:1'\)"):
        add_p.bind(_FakeArray(np.ones(2), "fake:1"), np.ones(2))


def test_mixing_a_host_array_with_a_device_array_is_an_error():
    with pytest.raises(DeviceMismatchError, match="argument 0 is on 'cpu' and argument 1 is on 'fake:0'"):
        add_p.bind(np.ones(2), _FakeArray(np.ones(2)))


def test_same_device_and_scalars_pass_the_check():
    out = add_p.bind(_FakeArray(np.ones(2), "fake:1"), 2.0)
    assert out.device == "fake:1" and out.value.tolist() == [3.0, 3.0]
    out = add_p.bind(_FakeArray(np.ones(2), "fake:1"), np.float64(1.0))
    assert out.value.tolist() == [2.0, 2.0]


def test_device_put_and_device_get_on_the_host():
    tree = {"w": np.ones(2), "b": 0.5}
    placed = ft.device_put(tree, "cpu")
    assert placed["w"] is tree["w"] and isinstance(placed["b"], np.ndarray)
    assert ft.device_get([np.ones(1), 2.0])[1] == 2.0
    assert ft.devices()[0] == "cpu"


def test_device_put_errors():
    with pytest.raises(ValueError, match="unknown device platform 'tpu'"):
        ft.device_put(np.ones(1), "tpu")
    with pytest.raises(ValueError, match="no device 'cpu:3'"):
        ft.device_put(np.ones(1), "cpu:3")
    with pytest.raises(TypeError, match="device must be a name"):
        ft.device_put(np.ones(1), 0)
    with pytest.raises(TracerConversionError, match="move the inputs before the call"):
        ft.grad(lambda x: ft.device_put(x, "cpu").sum())(np.ones(2))


def test_gpu_without_cupy_says_how_to_install_it():
    pytest.importorskip("numpy")
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install -e '\.\[gpu\]'"):
            ft.device_put(np.ones(1), "gpu")
    else:
        pytest.skip("CuPy is installed")


def test_cupy_is_not_imported_unless_asked_for():
    code = "import sys, functrans, numpy as np; functrans.grad(lambda x: x * x)(1.0); " \
           "functrans.devices('cpu'); print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_host_types_cover_numpy_arrays_and_scalars():
    for x in (np.ones(1), np.float32(1), np.int64(1), np.bool_(True), 1.0, 1, True, 1j, None, "s"):
        assert type(x) in B.HOST_TYPES


def test_static_arguments_fit_every_device():
    B.check_same_device("f", (None, "mode", 2, _FakeArray(np.ones(1), "fake:1")))


# --- on the strict test backend's second device: everything stays on "strict:1" ---------------
import functrans.numpy as fnp  # noqa: E402
from functrans import io, nn, random  # noqa: E402
from functrans.testing.strict import StrictArray, to_numpy  # noqa: E402

DEV = "strict:1"


def _on_dev(tree):
    for leaf in ft.tree.leaves(tree):
        if type(leaf) is int:  # counters (BatchNorm's batches seen) live nowhere
            continue
        assert isinstance(leaf, StrictArray) and leaf.device == DEV, leaf


def test_random_draws_on_the_requested_device_the_same_numbers_as_on_the_host():
    k = random.key(3)
    for draw in (lambda **d: random.normal(k, (5,), np.float32, **d),
                 lambda **d: random.uniform(k, (2, 3), **d),
                 lambda **d: random.randint(k, (4,), 0, 10, **d),
                 lambda **d: random.bernoulli(k, 0.3, (6,), **d),
                 lambda **d: random.permutation(k, 7, **d)):
        on_dev = draw(device=DEV)
        _on_dev(on_dev)
        np.testing.assert_array_equal(to_numpy(on_dev), draw())
    _on_dev(random.key(3, device=DEV))
    _on_dev(random.split(random.key(3, device=DEV)))


def test_layers_make_their_parameters_and_states_on_the_keys_device():
    key = random.key(0, device=DEV)
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.BatchNorm(4))
    params = model.init(key)
    _on_dev(params)
    _on_dev(model.init_state(device=DEV))
    _on_dev(nn.initializers.orthogonal(key, (3, 3)))
    _on_dev(nn.MultiHeadAttention(4, 2).init(key))


def test_rnn_zero_state_follows_the_parameters():
    rnn = nn.GRU(3, 5)
    params = rnn.init(random.key(0, device=DEV))
    out, h = rnn.apply(params, ft.device_put(np.ones((7, 3)), DEV))
    _on_dev((out, h))


def test_grad_of_an_mlp_and_of_a_lookup_with_repeated_indices_stay_on_the_device():
    key = random.key(1, device=DEV)
    model = nn.Sequential(nn.Linear(3, 8), nn.Linear(8, 2))
    params = model.init(key)
    x = random.normal(key, (5, 3), device=DEV)
    labels = ft.device_put(np.array([0, 1, 1, 0, 1]), DEV)
    grads = ft.grad(lambda p: nn.cross_entropy(model.apply(p, x), labels))(params)
    _on_dev(grads)
    table = ft.device_put(np.arange(4.0), DEV)
    idx = ft.device_put(np.array([1, 1, 3]), DEV)
    g = ft.grad(lambda t: (t[idx] ** 2).sum())(table)
    _on_dev(g)
    assert to_numpy(g).tolist() == [0.0, 4.0, 0.0, 6.0]


def test_derivative_rules_build_their_masks_on_the_device():
    from functrans.primitives import linalg as L

    a = ft.device_put(np.array([[4.0, 1.0], [1.0, 3.0]]), DEV)
    for f in (lambda m: L.cholesky(m).sum(), lambda m: L.eigh(m)[0].sum(),
              lambda m: L.qr(m)[1].sum(), lambda m: L.svd(m)[1].sum(),
              lambda m: L.triangular_solve(m, m, lower=True, unit_diagonal=True).sum()):
        _on_dev(ft.grad(f)(a))
    _on_dev(ft.grad(lambda z: fnp.fft.irfft(z * (1 + 0j)).sum())(ft.device_put(np.ones(3), DEV)))
    _on_dev(ft.jacrev(fnp.sin)(ft.device_put(np.ones(2), DEV)))


def test_checkpoints_go_through_the_host_and_load_onto_a_device(tmp_path):
    tree = {"w": ft.device_put(np.ones(2), DEV), "step": 3}
    io.save(tmp_path / "c.npz", tree)
    assert isinstance(io.load(tmp_path / "c.npz")["w"], np.ndarray)
    loaded = io.load(tmp_path / "c.npz", device=DEV)
    _on_dev(loaded["w"])
    assert loaded["step"] == 3


def test_scatter_on_numpy_scalars():
    from functrans.primitives.indexing import scatter_add_p, scatter_p

    assert scatter_p.bind(np.float64(1.0), 5.0, index=()) == 5.0
    assert scatter_add_p.bind(np.float64(1.0), 5.0, index=()) == 6.0


@pytest.mark.parametrize("name", ["multiply", "divide", "minimum", "maximum"])
def test_ufunc_at_in_rounds_gives_the_bits_of_ufunc_at(name):
    """The rounds CuPy runs (it lacks these ufunc.at), checked where NumPy's ufunc.at exists:
    repeats in any order, empty updates, NaN."""
    from functrans.backend._base import ufunc_at_in_rounds

    rng = np.random.default_rng(3)
    for _ in range(40):
        n, k = int(rng.integers(1, 6)), int(rng.integers(0, 12))
        x, u = rng.normal(size=n), rng.normal(size=k)
        if k and rng.random() < 0.3:
            u[rng.integers(k)] = np.nan
        positions = rng.integers(0, n, size=k)
        want, got = x.copy(), x.copy()
        getattr(np, name).at(want, positions, u)
        ufunc_at_in_rounds(np, got, positions, u, name)
        assert want.tobytes() == got.tobytes()


def test_block_until_ready_waits_on_each_array_leaf_and_returns_the_tree(monkeypatch):
    from functrans.testing.strict import STRICT, strict_array

    waited = []
    monkeypatch.setattr(STRICT, "synchronize", lambda x: waited.append(x.shape))
    tree = {"a": strict_array(np.ones((2, 3))), "b": [np.zeros(2), 1.5, strict_array(np.ones(4))]}
    assert ft.block_until_ready(tree) is tree
    assert sorted(waited) == [(2, 3), (4,)]  # device leaves only; NumPy has nothing to wait for
    assert ft.block_until_ready(None) is None
