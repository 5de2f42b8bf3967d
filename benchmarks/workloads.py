"""The benchmark workloads W1-W5: data, initial weights, and one training step per framework.

Every builder takes ``(spec, data, params)`` (NumPy arrays, float32) and returns
``step()``: one full training step (forward, backward, SGD update) returning the
loss as a float. All frameworks start from the same weights, so their first losses
must agree. The peers (torch, jax, pytensor) are imported only when used.
"""
import numpy as np

LR = 0.01
F = np.float32


# ---- the workloads: (name, kind, sizes) ----

def specs(t3=1000):
    """The workloads of issue 4 (W3 with sequence length ``t3``), each also in the other ways
    users write it (issue 12): ``proj`` "step" (``T.dot(x_t, W)`` inside the step) or "before"
    (``A = T.dot(x, W) + b`` before the scan, the step adds ``a_t``); ``act`` "maximum"
    (``T.maximum(z, 0)``) or "relu" (``T.nnet.relu``); W3's ``init`` "active" keeps units
    active (both input channels uniform [0, 1), input weights N(0, 0.1)): its gradients fade
    through the subnormal range; its loss is ~7e4, so it trains with lr 1e-10 (at 0.01 the
    first step turns every weight into NaN and later steps would time NaN arithmetic).
    The peers' code is the same for every variant."""
    w3 = dict(kind="indrnn", T=t3, B=50, I=2, H=128, layers=2)
    w4 = dict(kind="irnn", T=784, B=40, I=1, H=100, C=10)
    w5 = dict(kind="tanh", T=28, B=64, I=28, H=150, C=10)
    return {
        "W1": dict(kind="count", T=10, B=20, I=1, H=1),
        "W2": dict(kind="adder", T=7, B=100, I=2, H=3),
        "W3": w3,
        "W3s": dict(w3, init="active", lr=1e-10),
        "W3s-before-relu": dict(w3, init="active", proj="before", act="relu", lr=1e-10),
        "W4": w4,
        "W4-before": dict(w4, proj="before"),
        "W4-before-relu": dict(w4, proj="before", act="relu"),
        "W5": w5,
        "W5-before": dict(w5, proj="before"),
    }


def make_data(spec, seed=0):
    """(data, params): time-major inputs and targets, and the initial weights."""
    r = np.random.default_rng(seed)
    T, B, I, H = spec["T"], spec["B"], spec["I"], spec["H"]
    k = spec["kind"]
    if k == "count":
        x = r.integers(0, 2, (T, B)).astype(F)
        return dict(x=x, y=x.sum(0)), dict(w_x=F(0.5), w_rec=F(0.5))
    if k == "adder":
        x = r.integers(0, 2, (T, B, I)).astype(F)
        y = r.integers(0, 2, (T, B, 1)).astype(F)
        p = dict(W=r.normal(0, 0.5, (I, H)), U=r.normal(0, 0.5, (H, H)), b=np.zeros(H),
                 h0=np.zeros(H), V=r.normal(0, 0.5, (H, 1)), c=np.zeros(1))
        return dict(x=x, y=y), {n: v.astype(F) for n, v in p.items()}
    if k == "indrnn":
        active = spec.get("init") == "active"
        x = np.stack([r.uniform(0, 1, (T, B)),
                      r.uniform(0, 1, (T, B)) if active else np.zeros((T, B))], axis=2)
        pos = r.integers(0, T, (2, B))
        if not active:
            x[pos[0], np.arange(B), 1] = 1
            x[pos[1], np.arange(B), 1] = 1
        y = (x[:, :, 0] * x[:, :, 1]).sum(0)[:, None]
        p = {}
        for layer in range(spec["layers"]):
            n_in = I if layer == 0 else H
            p[f"W{layer}"] = r.normal(0, 0.1 if active else 0.01, (n_in, H))
            p[f"u{layer}"] = r.uniform(0, 1, H)
            p[f"b{layer}"] = np.zeros(H)
        p["V"], p["c"] = r.normal(0, 0.1, (H, 1)), np.zeros(1)
        return dict(x=x.astype(F), y=y.astype(F)), {n: v.astype(F) for n, v in p.items()}
    C = spec["C"]
    x = r.uniform(0, 1, (T, B, I)).astype(F)
    y = r.integers(0, C, B)
    onehot = np.eye(C, dtype=F)[y]
    U = np.eye(H) if k == "irnn" else np.linalg.qr(r.normal(size=(H, H)))[0]
    p = dict(W=r.normal(0, 1e-3 if k == "irnn" else 0.1, (I, H)), U=U, b=np.zeros(H),
             V=r.normal(0, 0.1, (H, C)), c=np.zeros(C))
    return dict(x=x, y=onehot), {n: v.astype(F) for n, v in p.items()}


# ---- symrnn (and PyTensor: the same Theano-style code) ----

def theano_step(theano, T, spec, data, params, mode=None):
    """One training step written once for the Theano API (symrnn or pytensor)."""
    theano.config.floatX = "float32"
    shared = {n: theano.shared(v.copy(), name=n) for n, v in params.items()}
    x = T.tensor3("x") if data["x"].ndim == 3 else T.matrix("x")
    y = {1: T.vector, 2: T.matrix, 3: T.tensor3}[data["y"].ndim]("y")
    k = spec["kind"]
    s = shared
    before = spec.get("proj") == "before"
    relu = T.nnet.relu if spec.get("act") == "relu" else (lambda z: T.maximum(z, 0))
    if k == "count":
        def step(xt, h, wx, wr):
            return xt * wx + h * wr
        h, _ = theano.scan(step, sequences=x, outputs_info=T.zeros_like(x[0]),
                           non_sequences=[s["w_x"], s["w_rec"]])
        loss = T.mean((h[-1] - y) ** 2)
    elif k == "adder":
        h0 = T.alloc(s["h0"], x.shape[1], spec["H"])

        def step(xt, h, W, U, b):
            return T.tanh(T.dot(xt, W) + T.dot(h, U) + b)
        h, _ = theano.scan(step, sequences=x, outputs_info=h0,
                           non_sequences=[s["W"], s["U"], s["b"]])
        p = T.nnet.sigmoid(T.dot(h, s["V"]) + s["c"])
        loss = T.mean(T.nnet.binary_crossentropy(p, y))
    elif k == "indrnn":
        inp = x
        for layer in range(spec["layers"]):
            W, u, b = s[f"W{layer}"], s[f"u{layer}"], s[f"b{layer}"]
            h0 = T.zeros((x.shape[1], spec["H"]), dtype="float32")
            if before:
                inp, _ = theano.scan(lambda at, h, u: relu(at + u * h),
                                     sequences=T.dot(inp, W) + b, outputs_info=h0,
                                     non_sequences=[u])
                continue

            def step(xt, h, W, u, b):
                return relu(T.dot(xt, W) + u * h + b)
            inp, _ = theano.scan(step, sequences=inp, outputs_info=h0, non_sequences=[W, u, b])
        out = T.dot(inp[-1], s["V"]) + s["c"]
        loss = T.mean((out - y) ** 2)
    else:
        act = relu if k == "irnn" else T.tanh
        h0 = T.zeros((x.shape[1], spec["H"]), dtype="float32")

        def step(xt, h, W, U, b):
            return act(T.dot(xt, W) + T.dot(h, U) + b)
        if before:
            h, _ = theano.scan(lambda at, h, U: act(at + T.dot(h, U)),
                               sequences=T.dot(x, s["W"]) + s["b"], outputs_info=h0,
                               non_sequences=[s["U"]])
        else:
            h, _ = theano.scan(step, sequences=x, outputs_info=h0,
                               non_sequences=[s["W"], s["U"], s["b"]])
        logits = T.dot(h[-1], s["V"]) + s["c"]
        loss = T.mean(T.nnet.categorical_crossentropy(T.nnet.softmax(logits), y))
    names = list(params)
    grads = theano.grad(loss, [s[n] for n in names])
    lr = np.float32(spec.get("lr", LR))
    updates = [(s[n], s[n] - lr * g) for n, g in zip(names, grads)]
    kw = {} if mode is None else {"mode": mode}
    f = theano.function([x, y], loss, updates=updates, **kw)
    return lambda: float(f(data["x"], data["y"]))


def symrnn_step(spec, data, params, mode, flush=True):
    """symrnn's step; ``flush=False``: compiled with IEEE gradual underflow (no flush-to-zero)."""
    import symrnn
    import symrnn.tensor as T
    old = symrnn.config.flush_subnormals, symrnn.config.compile
    # the timed steps must be numba's: compile in the foreground (the first call includes it)
    symrnn.config.flush_subnormals, symrnn.config.compile = flush, "foreground"
    try:
        return theano_step(symrnn, T, spec, data, params, mode=mode)
    finally:
        symrnn.config.flush_subnormals, symrnn.config.compile = old


def pytensor_step(spec, data, params):
    import pytensor
    import pytensor.tensor as pt

    class _T:  # pytensor spells a few things differently
        def __getattr__(self, name):
            return getattr(pt, name)
    T = _T()
    T.nnet = type("nnet", (), dict(sigmoid=staticmethod(pt.sigmoid),
                                   relu=staticmethod(lambda z: pt.maximum(z, 0)),
                                   softmax=staticmethod(lambda z: pt.special.softmax(z, axis=-1)),
                                   binary_crossentropy=staticmethod(_bce(pt)),
                                   categorical_crossentropy=staticmethod(
                                       lambda p, y: -(y * pt.log(p)).sum(axis=-1))))
    return theano_step(pytensor, T, spec, data, params)


def _bce(pt):
    return lambda p, y: -(y * pt.log(p) + (1 - y) * pt.log(1 - p))


# ---- PyTorch (eager) ----

def torch_step(spec, data, params, compiled=False):
    """PyTorch eager; ``compiled``: the loss and its gradient through torch.compile."""
    import torch
    p = {n: torch.tensor(v, requires_grad=True) for n, v in params.items()}
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    k = spec["kind"]
    rnn = None
    if k in ("irnn", "tanh", "adder"):
        rnn = torch.nn.RNN(spec["I"], spec["H"], nonlinearity="relu" if k == "irnn" else "tanh")
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(p["W"].T)
            rnn.weight_hh_l0.copy_(p["U"].T)
            rnn.bias_ih_l0.copy_(p["b"])
            rnn.bias_hh_l0.zero_()
        rnn.bias_hh_l0.requires_grad_(False)
        p = {n: v for n, v in p.items() if n not in ("W", "U", "b")}
    plist = list(p.values()) + ([q for q in rnn.parameters() if q.requires_grad] if rnn else [])

    def loss_fn():
        if k == "count":
            h = torch.zeros_like(x[0])
            for t in range(x.shape[0]):
                h = x[t] * p["w_x"] + h * p["w_rec"]
            return ((h - y) ** 2).mean()
        if k == "indrnn":
            inp = x
            for layer in range(spec["layers"]):
                proj = inp @ p[f"W{layer}"] + p[f"b{layer}"]
                h = torch.zeros(x.shape[1], spec["H"])
                hs = []
                for t in range(x.shape[0]):
                    h = torch.relu(proj[t] + p[f"u{layer}"] * h)
                    hs.append(h)
                inp = torch.stack(hs)
            return ((inp[-1] @ p["V"] + p["c"] - y) ** 2).mean()
        if k == "adder":
            h, _ = rnn(x, p["h0"].expand(1, x.shape[1], spec["H"]).contiguous())
            q = torch.sigmoid(h @ p["V"] + p["c"])
            return torch.nn.functional.binary_cross_entropy(q, y)
        h, _ = rnn(x)
        logits = h[-1] @ p["V"] + p["c"]
        return -(y * torch.log_softmax(logits, -1)).sum(-1).mean()

    if compiled:
        loss_fn = torch.compile(loss_fn)

    def step():
        loss = loss_fn()
        for q in plist:
            q.grad = None
        loss.backward()
        with torch.no_grad():
            for q in plist:
                q -= spec.get("lr", LR) * q.grad
        return float(loss.detach())
    return step


# ---- JAX (jit + lax.scan) ----

def jax_step(spec, data, params):
    import jax
    import jax.numpy as jnp
    k = spec["kind"]
    x, y = jnp.asarray(data["x"]), jnp.asarray(data["y"])

    def scan_layer(fn, h0, xs):
        return jax.lax.scan(lambda h, xt: (fn(h, xt), fn(h, xt)), h0, xs)[1]

    def loss_fn(p):
        if k == "count":
            hs = scan_layer(lambda h, xt: xt * p["w_x"] + h * p["w_rec"], jnp.zeros_like(x[0]), x)
            return jnp.mean((hs[-1] - y) ** 2)
        if k == "indrnn":
            inp = x
            for layer in range(spec["layers"]):
                proj = inp @ p[f"W{layer}"] + p[f"b{layer}"]
                u = p[f"u{layer}"]
                inp = scan_layer(lambda h, z: jax.nn.relu(z + u * h),
                                 jnp.zeros((x.shape[1], spec["H"]), jnp.float32), proj)
            return jnp.mean((inp[-1] @ p["V"] + p["c"] - y) ** 2)
        act = jax.nn.relu if k == "irnn" else jnp.tanh
        proj = x @ p["W"] + p["b"]
        h0 = jnp.broadcast_to(p["h0"], (x.shape[1], spec["H"])) if k == "adder" else \
            jnp.zeros((x.shape[1], spec["H"]), jnp.float32)
        hs = scan_layer(lambda h, z: act(z + h @ p["U"]), h0, proj)
        if k == "adder":
            q = jax.nn.sigmoid(hs @ p["V"] + p["c"])
            return jnp.mean(-(y * jnp.log(q) + (1 - y) * jnp.log(1 - q)))
        logits = hs[-1] @ p["V"] + p["c"]
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits, -1), -1))

    @jax.jit
    def train(p):
        loss, g = jax.value_and_grad(loss_fn)(p)
        lr = spec.get("lr", LR)
        return loss, jax.tree_util.tree_map(lambda a, b: a - lr * b, p, g)
    state = {"p": {n: jnp.asarray(v) for n, v in params.items()}}

    def step():
        loss, state["p"] = train(state["p"])
        return float(loss)
    return step
