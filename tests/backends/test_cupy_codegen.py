"""The cupy backend's GPU-free logic: type mapping, CUDA C generation, fusion choices.

Every generated kernel is compiled with ``nvcc -ptx`` (one nvcc run for all),
so a kernel that would not compile on a GPU fails here without one; the test
is skipped, visibly, where nvcc is absent.
"""
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import symrnn
import symrnn.tensor as T
from symrnn.backends.cupy import CuPyUnavailableError, available
from symrnn.backends.cupy.ctypes_map import c_type, literal, supported
from symrnn.backends.cupy.elemwise_kernel import cuda_source, kernel_spec
from symrnn.backends.cupy.fusion import find_groups, kernel_plan
from symrnn.backends.cupy.scalar_c import PREAMBLE, expression, has_expression
from symrnn.backends.cupy.scan_kernel import ScanKernel
from symrnn.backends.scan_plan import ScanPlan
from symrnn.compile.fgraph import FunctionGraph
from symrnn.ops.scalar import SCALAR_OPS
from symrnn.ops.scan import Scan

KERNELS = {}  # name -> CUDA source of every kernel generated in this module (for nvcc)


def groups_of(inputs, outputs):
    fg = FunctionGraph(inputs, outputs)
    groups, _ = find_groups(fg.toposort(), fg.clients())
    for g in groups.values():
        name = kernel_spec(g)[3]
        KERNELS[name] = cuda_source(g)
    return sorted(groups.values(), key=lambda g: len(g.nodes))


def scan_plans(inputs, outputs):
    plans = []
    for node in FunctionGraph(inputs, outputs).toposort():
        if isinstance(node.op, Scan):
            plan = kernel_plan(node.op)
            if isinstance(plan, ScanPlan):
                k = ScanKernel(plan)
                KERNELS[k.name] = k.code
            plans.append(plan)
    return plans


# ---- types ----

def test_c_types():
    assert c_type("float32") == "float" and c_type("float64") == "double"
    assert c_type("int64") == "long long" and c_type("uint8") == "unsigned char"
    assert c_type("bool") == "bool" and c_type(np.dtype("int32")) == "int"
    assert not supported("float16") and not supported("complex64")
    with pytest.raises(TypeError, match="float16"):
        c_type("float16")


@pytest.mark.parametrize("value,dtype,text", [
    (0.5, "float32", "(0.5f)"), (-2, "float64", "(-2.0)"), (1e-30, "float64", "(1e-30)"),
    (3, "int32", "((int)3)"), (-7, "int64", "((long long)-7LL)"), (True, "bool", "true"),
    (5, "uint32", "((unsigned int)5U)"), (np.inf, "float32", "__int_as_float(2139095040)"),
    (-np.inf, "float64", "__longlong_as_double(-4503599627370496LL)"),
    (-2**63, "int64", "(-9223372036854775807LL - 1)")])
def test_literals(value, dtype, text):
    assert literal(value, dtype) == text


def test_nan_literal_is_a_nan_bit_pattern():
    bits = int(literal(np.nan, "float64").split("(")[1].rstrip("LL)"))
    assert np.isnan(np.int64(bits).view(np.float64))


# ---- scalar ops as C expressions ----

def test_every_scalar_op_has_a_c_form():
    for name, op in SCALAR_OPS.items():
        dtypes = ["int32"] * op.nin if op.int_only else ["float64"] * op.nin
        if name == "switch":
            dtypes = ["bool", "float64", "float64"]
        assert has_expression(name, dtypes, op.out_dtype(dtypes)), name
    assert not has_expression("exp", ["float16"], "float16")
    assert not has_expression("no_such_op", ["float64"], "float64")
    with pytest.raises(NotImplementedError, match="no_such_op"):
        expression("no_such_op", ["a"], ["float64"], "float64")


@pytest.mark.parametrize("name,dtypes,out,expected", [
    ("exp", ["float32"], "float32", "expf(((float)(a)))"),
    ("exp", ["float64"], "float64", "exp(((double)(a)))"),
    ("add", ["bool", "bool"], "bool", "(a || b)"),
    ("mul", ["bool", "bool"], "bool", "(a && b)"),
    ("invert", ["bool"], "bool", "(!a)"),
    ("lt", ["int32", "float64"], "bool", "(((double)(a)) < ((double)(b)))"),
    ("pow", ["int64", "int64"], "int64", "sym_ipow(((long long)(a)), ((long long)(b)))"),
    ("int_div", ["int32", "int32"], "int32", "sym_floordiv(((int)(a)), ((int)(b)))"),
    ("isnan", ["int32"], "bool", "false"),
    ("round", ["float32"], "float32", "rintf(((float)(a)))"),
    ("floor", ["int32"], "int32", "((int)(a))"),
    ("cast_int8", ["float64"], "int8", "((signed char)(a))"),
    ("switch", ["bool", "int32", "float64"], "float64", "(a ? ((double)(b)) : ((double)(c)))"),
])
def test_expressions(name, dtypes, out, expected):
    assert expression(name, ["a", "b", "c"][:len(dtypes)], dtypes, out) == expected


def test_sigmoid_and_softplus_use_the_stable_forms():
    sig = expression("sigmoid", ["x"], ["float32"], "float32")
    assert ">= 0 ?" in sig and "expf(-" in sig  # exp of a non-positive number only
    sp = expression("softplus", ["x"], ["float64"], "float64")
    assert "log1p(exp(-fabs(" in sp


# ---- fusion of elementwise chains ----

def test_a_chain_fuses_into_one_group():
    x, b = T.fmatrix("x"), T.fvector("b")
    y = T.nnet.sigmoid(x * 2 + b) * T.tanh(x) - T.nnet.softplus(x) / 3
    (g,) = groups_of([x, b], [y])
    assert len(g.nodes) == 8 and g.output is y
    assert [str(v) for v in g.leaves] == ["x", "DimShuffle{x,0}"]  # literals are inlined
    in_params, out_params, operation, name, preamble = kernel_spec(g)
    assert in_params == "float32 in0, float32 in1" and out_params == "float32 out0"
    assert operation.endswith("out0 = v9;") and preamble == PREAMBLE


def test_shared_and_output_values_end_groups():
    x = T.dvector("x")
    e = T.exp(x)
    y, z = e * 2, e + 1  # e is read twice: it is its own group's root
    groups = groups_of([x], [y, z])
    assert sorted(len(g.nodes) for g in groups) == [1, 1, 1]
    s = T.sin(x)
    out = T.cos(s) + 1
    (g,) = groups_of([x], [s, out])  # s is an output too: one kernel, two outputs
    assert g.outputs == [s, out] and len(g.nodes) == 3
    in_params, out_params, operation = kernel_spec(g)[:3]
    assert out_params == "float64 out0, float64 out1" and "out0 = v1;" in operation


def test_optimizer_updates_become_one_kernel():
    p, g, m = T.dvector("p"), T.dvector("g"), T.dvector("m")
    lr = T.dscalar("lr")
    m_new = 0.9 * m + 0.1 * g
    p_new = p - lr * m_new
    (group,) = groups_of([p, g, m, lr], [m_new, p_new])
    assert group.outputs == [m_new, p_new]
    assert sorted(map(str, group.leaves)) == ["DimShuffle{x}", "g", "m", "p"]


def test_outputs_of_other_shapes_do_not_merge():
    x, r = T.dmatrix("x"), T.row("r", dtype="float64")
    s = T.sin(r)  # (1, n): merging would compute it at the shape of x
    groups = groups_of([x, r], [s, x * s])
    assert sorted(len(g.outputs) for g in groups) == [1, 1]
    e = T.exp(x)
    groups = groups_of([x], [e, e + 1, T.dot(e, x) + e])  # e is read outside the group
    assert all(len(g.outputs) == 1 for g in groups)


def test_non_elementwise_ops_and_unsupported_dtypes_break_chains():
    x, w = T.dmatrix("x"), T.dmatrix("w")
    y = T.tanh(T.dot(T.exp(x), w) + 1)
    groups = groups_of([x, w], [y])
    names = [[n.op.scalar_op.name for n in g.nodes] for g in groups]
    assert names == [["exp"], ["add", "tanh"]]
    h = T.vector("h", dtype="float16")
    assert groups_of([h], [T.exp(h) * 2]) == []


def test_dtypes_and_ops_generate_kernels():
    """A wide set of expressions, all of which go to nvcc below."""
    for dtype in ("float32", "float64"):
        x, y = T.vector("x", dtype=dtype), T.vector("y", dtype=dtype)
        outs = [f(x) for f in (T.exp, T.log, T.log1p, T.expm1, T.log2, T.log10, T.sqrt,
                               T.tanh, T.sin, T.cos, T.arctan, T.floor, T.ceil, T.round,
                               T.sgn, T.nnet.sigmoid, T.nnet.softplus, T.isnan, T.isinf)]
        outs += [x + y, x - y, x * y, x / y, x // y, x % y, x ** y, T.maximum(x, y),
                 T.minimum(x, y), T.clip(x, -1, 1), T.switch(T.gt(x, y), x, y),
                 abs(x) + T.sqr(y), T.cast(x, "int8"), T.cast(x, "bool"), x * np.inf,
                 T.fill(x, 3.0)]
        assert len(groups_of([x, y], outs)) == len(outs)
    for dtype in ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"):
        a, b = T.vector("a", dtype=dtype), T.vector("b", dtype=dtype)
        outs = [a + b, a * b, a // b, a % b, a ** b, a & b, a | b, a ^ b, ~a, abs(a),
                T.maximum(a, b), T.eq(a, b), a / b, T.exp(a), T.cast(a, "float32")]
        assert len(groups_of([a, b], outs)) == len(outs)
    cv, dv = T.bvector("c"), T.bvector("d")
    c, d = T.gt(cv, 0), T.gt(dv, 0)
    bools = [c & d, c | d, ~c, c + d, c * d, T.switch(c, 1.5, 2.5)]
    assert len(groups_of([cv, dv], bools)) == len(bools) + 2  # c and d are read often


# ---- which scans fuse ----

def indrnn():
    xw, u, b, h0 = T.ftensor3("xw"), T.fvector("u"), T.fvector("b"), T.fmatrix("h0")
    h, _ = symrnn.scan(lambda x, hp: T.nnet.relu(x + u * hp + b), sequences=xw,
                       outputs_info=h0)
    cost = (h[-1] ** 2).sum()
    return [xw, u, b, h0], [cost] + T.grad(cost, [xw, u, b, h0])


def test_indrnn_fuses_forward_and_backward():
    forward, backward = scan_plans(*indrnn())
    assert isinstance(forward, ScanPlan) and isinstance(backward, ScanPlan)
    assert sorted(leaf.kind for leaf in forward.leaves) == ["nonseq", "nonseq", "nonseq",
                                                            "seq", "tap"]
    assert forward.ndim == 2 and not forward.acc
    # the backward scan: the pending gradient is a state, the gradients of u and b
    # (and of relu's 0) are accumulators whose sums over the batch come after the kernel
    assert backward.states == [0] and len(backward.acc) == 3 and len(backward.terms) == 3
    src = ScanKernel(backward).code
    assert "for (long long t = 0; t < n_steps; ++t)" in src and "acc2 += " in src


def test_counting_rnn_fuses():
    x = T.dmatrix("x")
    w_x, w_rec = symrnn.shared(1.5, "w_x"), symrnn.shared(0.5, "w_rec")
    s, _ = symrnn.scan(lambda x_t, s_prev: x_t * w_x + s_prev * w_rec, sequences=x.T,
                       outputs_info=T.zeros_like(x[:, 0]))
    cost = ((s[-1] - x.sum(axis=1)) ** 2).mean()
    plans = scan_plans([x], [cost] + T.grad(cost, [w_x, w_rec]))
    assert all(isinstance(p, ScanPlan) for p in plans) and len(plans) == 2
    assert plans[0].ndim == 1


def test_taps_maps_and_several_outputs_fuse():
    x, a0 = T.dmatrix("x"), T.dmatrix("a0")
    (a, m), _ = symrnn.scan(lambda x_t, a2, a1: (a1 + 0.5 * a2 - x_t, T.exp(a1)),
                            sequences=x, outputs_info=[dict(initial=a0, taps=[-2, -1]), None])
    (plan,) = scan_plans([x, a0], [a, m])
    assert isinstance(plan, ScanPlan) and len(plan.nit_out) == 1
    src = ScanKernel(plan).code
    assert "rec0[(t + 0) * N + i]" in src and "rec0[(t + 1) * N + i]" in src
    y = symrnn.map(lambda x_t: T.tanh(x_t) * 2, sequences=x)[0]
    (plan,) = scan_plans([x], [y])
    assert isinstance(plan, ScanPlan) and not plan.rec_out


@pytest.mark.parametrize("case,reason", [
    ("dot", "Dot"), ("until", "until"), ("transpose", "reshapes its recurrent state"),
    ("reduce", "not elementwise"), ("ndim", "different numbers of dims"),
    ("index", "not elementwise"), ("float16", "dtype")])
def test_scans_that_do_not_fuse_say_why(case, reason):
    from symrnn.scan_module import until
    x, W, h0 = T.dmatrix("x"), T.dmatrix("W"), T.dvector("h0")
    sq = T.dmatrix("sq")
    steps = {
        "dot": lambda x_t, h: T.tanh(x_t + T.dot(h, W)),
        "until": lambda x_t, h: (h + x_t, until(T.gt(h.sum(), 3))),
        "reduce": lambda x_t, h: h + x_t.sum(),
        "index": lambda x_t, h: h + x_t[0],
        "ndim": lambda x_t, h: (h + x_t, T.shape_padleft(x_t) * 2),
    }
    if case == "transpose":
        h, _ = symrnn.scan(lambda x_t, h: h.T + x_t, sequences=T.dtensor3("s"),
                           outputs_info=sq)
    elif case == "float16":
        hv = T.vector("hv", dtype="float16")
        h, _ = symrnn.scan(lambda x_t, h: h + x_t, sequences=T.matrix("xs", dtype="float16"),
                           outputs_info=hv)
    else:
        h, _ = symrnn.scan(steps[case], sequences=x, outputs_info=[h0] + (
            [None] if case == "ndim" else []))
    h = h[0] if isinstance(h, list) else h
    owner = h.owner
    while not isinstance(owner.op, Scan):
        owner = owner.inputs[0].owner
    why = kernel_plan(owner.op)
    assert isinstance(why, str) and reason in why, why


# ---- no CuPy: one clear error, nothing else changes ----

def test_without_cupy_mode_cupy_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    assert not available()
    x = T.dvector("x")
    with pytest.raises(CuPyUnavailableError, match=r"(?s)CuPy is not installed.*"
                       r"pip install symrnn\[cuda\].*cupy-cuda12x"):
        symrnn.function([x], x * 2, mode="CUPY")
    monkeypatch.setattr(symrnn.config, "device", "cuda")
    assert symrnn.config.mode == "CUPY"
    with pytest.raises(CuPyUnavailableError):
        symrnn.function([x], x * 2)
    assert symrnn.function([x], x * 2, mode="NUMPY")([1.0]).tolist() == [2.0]


def fake_cupy(devices=1, compile_error=None, result=(1.0, 3.0, 5.0, 7.0)):
    """A module with the parts of CuPy that available() touches."""
    import types

    class Kernel:
        def __init__(self, *args, **kwargs):
            if compile_error:
                raise compile_error

        def __call__(self, x):
            return types.SimpleNamespace(get=lambda: np.array(result, "float32"))

    def count():
        if isinstance(devices, Exception):
            raise devices
        return devices
    return types.SimpleNamespace(
        cuda=types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=count)),
        ElementwiseKernel=Kernel, arange=lambda n, dtype: None, float32=np.float32)


@pytest.mark.parametrize("fake,reason", [
    (dict(devices=0), "0 devices"),
    (dict(devices=RuntimeError("cudaErrorInsufficientDriver")), "no usable CUDA GPU"),
    (dict(compile_error=RuntimeError("libnvrtc.so.13 not found")),
     "sees 1 GPU.*cannot compile and run a kernel.*libnvrtc"),
    (dict(result=(0.0, 0.0, 0.0, 0.0)), "computed"),
    (dict(), None)])
def test_available_needs_a_device_and_a_kernel_that_compiles_and_runs(
        monkeypatch, fake, reason):
    import symrnn.backends.cupy as backend
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(**fake))
    assert available() == (reason is None)
    if reason is not None:
        with pytest.raises(CuPyUnavailableError, match=rf"(?s){reason}.*cupy-cuda12x.*"
                           r"cupy-cuda13x.*no second one"):
            backend.require()
    x = T.dvector("x")
    if reason is not None:
        with pytest.raises(CuPyUnavailableError):
            symrnn.function([x], x * 2, mode="CUPY")


def test_two_cupy_packages_side_by_side_are_refused(monkeypatch):
    import symrnn.backends.cupy as backend
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy())
    monkeypatch.setattr(backend, "cupy_distributions",
                        lambda: ["cupy-cuda12x 14.2.0", "cupy-cuda13x 14.2.0"])
    assert not available()
    with pytest.raises(CuPyUnavailableError, match=r"2 CuPy packages are installed "
                       r"\(cupy-cuda12x 14.2.0, cupy-cuda13x 14.2.0\).*uninstall all but"):
        backend.require()
    monkeypatch.setattr(backend, "cupy_distributions", lambda: ["cupy-cuda13x 14.2.0"])
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy())  # a new module: probed anew
    assert available()


def test_info_says_why_cupy_cannot_run(monkeypatch):
    from symrnn import info
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy(compile_error=OSError("no libnvrtc")))
    assert re.search("sees 1 GPU.*cannot compile.*no libnvrtc", info.backends()["CUPY"])
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy())
    assert info.backends()["CUPY"] == "available"


def test_helpers_modes_list_cupy_only_when_usable():
    from helpers import MODES
    assert ("CUPY" in MODES) == available()


# ---- nvcc compiles every kernel generated above ----

def test_nvcc_compiles_every_generated_kernel(tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is required to compile the generated kernels")
    scan_plans(*indrnn())
    test_counting_rnn_fuses()
    test_dtypes_and_ops_generate_kernels()
    test_taps_maps_and_several_outputs_fuse()
    assert len(KERNELS) >= 60
    src = tmp_path / "kernels.cu"
    src.write_text(PREAMBLE + "\n\n".join(KERNELS.values()))
    run = subprocess.run([nvcc, "-ptx", "-o", str(tmp_path / "kernels.ptx"), str(src)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-4000:]
    ptx = (tmp_path / "kernels.ptx").read_text()
    assert all(f".entry {name}(" in ptx for name in KERNELS)
    print(f"nvcc compiled {len(KERNELS)} generated kernels")


def test_gpu_benchmark_says_what_is_missing(monkeypatch, capsys):
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "gpu_indrnn.py")
    spec = importlib.util.spec_from_file_location("gpu_indrnn", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(SystemExit, match=r"needs CuPy and an NVIDIA GPU.*pip install"):
        bench.main(["--workload", "W3", "--seq-len", "10"])


def test_nvrtc_compiles_every_generated_kernel():
    """CuPy compiles with NVRTC (no system headers): its compiler must take them too."""
    from tests.backends.cupy_api import nvrtc
    nvrtc = nvrtc()
    if nvrtc is None:  # CuPy or its NVRTC library is missing
        pytest.skip("CuPy's NVRTC is required to compile the generated kernels with it")
    scan_plans(*indrnn())
    test_dtypes_and_ops_generate_kernels()
    test_taps_maps_and_several_outputs_fuse()
    compile_with_nvrtc(nvrtc, KERNELS, "kernels.cu")


def compile_with_nvrtc(nvrtc, kernels, filename):
    """Compile ``kernels`` ({name: CUDA source}) for every architecture of ``nvrtc_archs``
    and check that each kernel is an entry of the PTX."""
    for arch in nvrtc_archs(nvrtc):
        prog = nvrtc.createProgram(PREAMBLE + "\n\n".join(kernels.values()), filename, (), ())
        try:
            nvrtc.compileProgram(prog, (f"-arch=compute_{arch}",))
        except Exception as e:
            pytest.fail(f"NVRTC {nvrtc.getVersion()}, compute_{arch}: {e}\n"
                        f"{nvrtc.getProgramLog(prog)[-4000:]}")
        ptx = nvrtc.getPTX(prog)
        assert all(f".entry {name}(".encode() in ptx for name in kernels)


def nvrtc_archs(nvrtc):
    """The architectures to compile for: the oldest NVRTC supports, and Hopper's (90) if it can.

    NVRTC 13 dropped everything before 75 (so a fixed compute_70 fails there);
    the supported list comes from NVRTC itself.
    """
    supported = sorted(nvrtc.getSupportedArchs())
    return [supported[0]] + ([90] if 90 in supported and supported[0] != 90 else [])


def test_nvrtc_architectures_come_from_what_nvrtc_supports():
    class Nvrtc13:
        getSupportedArchs = staticmethod(lambda: (75, 80, 86, 87, 88, 89, 90, 100, 120))

    class Nvrtc11:
        getSupportedArchs = staticmethod(lambda: (35, 37, 50, 52, 53, 60, 61, 62, 70, 72, 75, 80))
    assert nvrtc_archs(Nvrtc13) == [75, 90]
    assert nvrtc_archs(Nvrtc11) == [35]
