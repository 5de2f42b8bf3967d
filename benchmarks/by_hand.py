"""The workloads in NumPy by hand: forward, backpropagation through time and SGD, written
as someone without a framework writes them (the input projection as one product before the
loop, the weight gradients as one product after it). float32 throughout; same losses as
workloads.py's frameworks (the run's ``same`` column checks the first one)."""
import numpy as np

F = np.float32


def numpy_step(spec, data, params, lr=0.01):
    """``step()``: one training step of ``spec`` in plain NumPy, returning the loss."""
    p = {n: np.array(v, dtype=F) for n, v in params.items()}
    x, y = data["x"], data["y"]
    grad = {"count": _count, "adder": _rnn, "irnn": _rnn, "tanh": _rnn,
            "indrnn": _indrnn}[spec["kind"]]

    def step():
        loss, g = grad(spec, p, x, y)
        for n in p:
            p[n] -= F(lr) * g[n]
        return float(loss)
    return step


def _count(spec, p, x, y):
    wx, wr = p["w_x"], p["w_rec"]
    hs = np.zeros((x.shape[0] + 1,) + x.shape[1:], F)
    for t in range(x.shape[0]):
        hs[t + 1] = x[t] * wx + hs[t] * wr
    err = hs[-1] - y
    g = F(2) * err / F(err.size)
    gx = gr = F(0)
    for t in range(x.shape[0] - 1, -1, -1):
        gx += (g * x[t]).sum()
        gr += (g * hs[t]).sum()
        g = g * wr
    return (err * err).mean(), {"w_x": gx, "w_rec": gr}


def _rnn(spec, p, x, y):
    """tanh (adder, W5) or relu (IRNN, W4) RNN; BCE on every step (adder) or softmax
    cross-entropy on the last state."""
    k = spec["kind"]
    T, B = x.shape[0], x.shape[1]
    W, U, b = p["W"], p["U"], p["b"]
    H = U.shape[0]
    z = (x.reshape(T * B, -1) @ W + b).reshape(T, B, H)
    hs = np.empty((T + 1, B, H), F)
    hs[0] = np.broadcast_to(p["h0"], (B, H)) if k == "adder" else 0
    relu = k == "irnn"
    for t in range(T):
        a = z[t] + hs[t] @ U
        hs[t + 1] = np.maximum(a, 0) if relu else np.tanh(a)
    g = {}
    dh = np.zeros((T, B, H), F)
    if k == "adder":
        h = hs[1:].reshape(T * B, H)
        q = 1 / (1 + np.exp(-(h @ p["V"] + p["c"])))
        yy = y.reshape(T * B, -1)
        loss = -(yy * np.log(q) + (1 - yy) * np.log(1 - q)).mean()
        dl = (q - yy) / F(yy.size)
        g["V"], g["c"] = h.T @ dl, dl.sum(0)
        dh[:] = (dl @ p["V"].T).reshape(T, B, H)
    else:
        logits = hs[-1] @ p["V"] + p["c"]
        e = np.exp(logits - logits.max(1, keepdims=True))
        sm = e / e.sum(1, keepdims=True)
        loss = -(y * np.log(sm)).sum(1).mean()
        dl = (sm - y) / F(B)
        g["V"], g["c"] = hs[-1].T @ dl, dl.sum(0)
        dh[-1] = dl @ p["V"].T
    dz = np.empty((T, B, H), F)
    carry = np.zeros((B, H), F)
    for t in range(T - 1, -1, -1):
        gh = dh[t] + carry
        dz[t] = gh * (hs[t + 1] > 0) if relu else gh * (1 - hs[t + 1] * hs[t + 1])
        carry = dz[t] @ U.T
    dzf = dz.reshape(T * B, H)
    g["W"] = x.reshape(T * B, -1).T @ dzf
    g["U"] = hs[:-1].reshape(T * B, H).T @ dzf
    g["b"] = dzf.sum(0)
    if k == "adder":
        g["h0"] = carry.sum(0)
    return loss, g


def _indrnn(spec, p, x, y):
    """IndRNN layers ``h_t = relu(x_t W + u * h_{t-1} + b)``, MSE on the last state."""
    T, B = x.shape[0], x.shape[1]
    L = spec["layers"]
    inputs, states = [x], []
    for layer in range(L):
        W, u, b = p[f"W{layer}"], p[f"u{layer}"], p[f"b{layer}"]
        inp = inputs[-1]
        z = (inp.reshape(T * B, -1) @ W + b).reshape(T, B, -1)
        hs = np.zeros((T + 1, B, W.shape[1]), F)
        for t in range(T):
            hs[t + 1] = np.maximum(z[t] + u * hs[t], 0)
        states.append(hs)
        inputs.append(hs[1:])
    out = states[-1][-1] @ p["V"] + p["c"]
    err = out - y
    dout = F(2) * err / F(err.size)
    g = {"V": states[-1][-1].T @ dout, "c": dout.sum(0)}
    dh = np.zeros((T, B, p["V"].shape[0]), F)
    dh[-1] = dout @ p["V"].T
    for layer in range(L - 1, -1, -1):
        W, u = p[f"W{layer}"], p[f"u{layer}"]
        hs = states[layer]
        dz = np.empty_like(dh)
        carry = np.zeros(dh.shape[1:], F)
        du = np.zeros_like(u)
        for t in range(T - 1, -1, -1):
            dz[t] = (dh[t] + carry) * (hs[t + 1] > 0)
            du += (dz[t] * hs[t]).sum(0)
            carry = dz[t] * u
        dzf = dz.reshape(T * B, -1)
        inp = inputs[layer].reshape(T * B, -1)
        g[f"W{layer}"], g[f"u{layer}"], g[f"b{layer}"] = inp.T @ dzf, du, dzf.sum(0)
        if layer:
            dh = (dzf @ W.T).reshape(T, B, -1)
    return (err * err).mean(), g
