"""A picture of a graph, as Theano's ``theano.printing.pydotprint``.

The graph becomes a small model (boxes for ops, ellipses for variables; inputs,
shared variables, constants, outputs and updates marked by colour and label; each
scan's inner graph in a cluster beside the outer graph, joined to the Scan box by
dashed "step" edges). Graphviz's ``dot`` draws it when it is installed; otherwise
networkx lays it out in layers and matplotlib draws it. ``format='dot'`` writes the
DOT text itself.
"""
import os
import shutil
import subprocess

from symrnn.graph import Constant, Variable, ancestors, toposort
from symrnn.ops.scan import Scan
from symrnn.shared import SharedVariable

COLORS = {"input": "palegreen", "shared": "lightskyblue", "constant": "lightgrey",
          "output": "lightsalmon", "update": "plum", "step input": "khaki",
          "step output": "lightsalmon", "var": "white", "op": "white", "scan": "gold"}


class _Picture:
    """Nodes (key -> label, kind, cluster) and edges (a, b, label, dashed) of one graph."""

    def __init__(self, max_label_size):
        self.nodes, self.edges, self.clusters = {}, [], {}
        self.op_class = {}  # node key -> the op's class name (for colorCodes)
        self.color = {}  # node key -> a fill colour chosen by the caller
        self.max = max_label_size
        self._keys = {}

    def out_key(self, v, cluster):
        """The key of the ellipse showing ``v`` as an output (of the graph or of a step)."""
        return f"o{self.key(v)}" + ("" if cluster is None else f"_{cluster}")

    def key(self, obj):
        if id(obj) not in self._keys:
            self._keys[id(obj)] = f"n{len(self._keys)}"
        return self._keys[id(obj)]

    def node(self, obj, label, kind, cluster=None):
        k = obj if isinstance(obj, str) else self.key(obj)
        if len(label) > self.max:
            label = label[:self.max - 3] + "..."
        if k not in self.nodes:
            self.nodes[k] = (label, kind, cluster)
        return k

    def edge(self, a, b, label="", dashed=False):
        self.edges.append((a, b, label, dashed))


_NDIM = ["scalar", "vector", "matrix"]


def _var_label(v):
    kind = _NDIM[v.type.ndim] if v.type.ndim < 3 else f"tensor{v.type.ndim}"
    if isinstance(v, Constant):
        data = getattr(v, "data", None)
        text = str(data) if getattr(data, "size", 2) <= 1 else f"constant {kind}"
        return f"{text} {v.type.dtype}"
    return f"{v.name or kind}\n{v.type.dtype} {kind}" if v.name else f"{v.type.dtype} {kind}"


def _add_graph(pic, outputs, inputs, cluster, roles):
    """Op boxes and variable ellipses for the graph from ``inputs`` to ``outputs``."""
    for node in toposort(outputs, blockers=inputs):
        is_scan = isinstance(node.op, Scan)
        op_key = pic.node(node, str(node.op), "scan" if is_scan else "op", cluster)
        pic.op_class[op_key] = type(node.op).__name__
        for i, v in enumerate(node.inputs):
            if v.owner is not None and not any(v is b for b in inputs):
                src = pic.key(v.owner)
                label = f"{v.index}" if len(v.owner.outputs) > 1 else ""
            else:
                kind = roles.get(id(v)) or ("shared" if isinstance(v, SharedVariable) else
                                            "constant" if isinstance(v, Constant) else "input")
                src = pic.node(v, _var_label(v), kind, cluster)
                label = ""
            pic.edge(src, op_key, f"{label}->{i}" if label and len(node.inputs) > 1 else
                     (str(i) if len(node.inputs) > 1 else label))
        if is_scan:
            _add_scan(pic, node, op_key)
    for j, o in enumerate(outputs):
        kind = roles.get(id(o), "output")
        out_key = pic.node(pic.out_key(o, cluster), _var_label(o), kind, cluster)
        src = pic.key(o.owner) if o.owner is not None else pic.node(
            o, _var_label(o), "input", cluster)
        pic.edge(src, out_key)


def _add_scan(pic, node, op_key):
    """The inner graph of a Scan as a cluster; its step inputs joined to the Scan box."""
    op = node.op
    name = f"cluster{len(pic.clusters)}"
    pic.clusters[name] = f"step of {op}"
    info = op.arg_info or [(None, "")] * len(op.inner_inputs)
    roles = {id(v): "step input" for v in op.inner_inputs}
    for v, (label, source) in zip(op.inner_inputs, info):
        k = pic.node(v, f"{label or v.name or 'arg'}\n({source})" if source else
                     (label or v.name or "arg"), "step input", name)
        pic.edge(op_key, k, "step", dashed=True)
    roles.update({id(v): "step output" for v in op.inner_outputs})
    _add_graph(pic, list(op.inner_outputs), list(op.inner_inputs), name, roles)


def build(obj, max_label_size=70):
    """The picture of a compiled function, a variable or a list of variables."""
    pic = _Picture(max_label_size)
    roles = {}
    if hasattr(obj, "maker"):
        fgraph = obj.maker.fgraph
        outputs = list(fgraph.outputs)
        for target, value in zip(obj.update_targets, outputs[obj.n_outputs:]):
            roles[id(value)] = "update"
        inputs = list(fgraph.inputs)
    else:
        outputs = list(obj) if isinstance(obj, (list, tuple)) else [obj]
        if not all(isinstance(v, Variable) for v in outputs):
            raise TypeError("pydotprint: expected a compiled function, a variable or a list "
                            f"of variables, got {type(obj).__name__}")
        inputs = [v for v in ancestors(outputs) if v.owner is None]
    _add_graph(pic, outputs, inputs, None, roles)
    if hasattr(obj, "maker"):  # each update goes back into its shared variable
        upd = list(zip(obj.update_targets, outputs[obj.n_outputs:]))
        for target, value in upd:
            t_key = pic.node(target, _var_label(target), "shared")
            pic.edge(pic.out_key(value, None), t_key, "update", dashed=True)
    return pic


def _quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(pic):
    """The DOT text of a picture (labels quoted: user names are data, not syntax)."""
    lines = ["digraph G {", "  rankdir=TB; compound=true;",
             "  node [fontname=Helvetica, fontsize=10]; edge [fontsize=8];"]
    by_cluster = {}
    for k, (label, kind, cluster) in pic.nodes.items():
        shape = "box" if kind in ("op", "scan") else "ellipse"
        by_cluster.setdefault(cluster, []).append(
            f"{k} [label={_quote(label)}, shape={shape}, style=filled, "
            f"fillcolor={_quote(pic.color.get(k, COLORS[kind]))}];")
    lines += ["  " + s for s in by_cluster.get(None, [])]
    for name, title in pic.clusters.items():
        lines.append(f"  subgraph {name} {{ label={_quote(title)}; style=dashed;")
        lines += ["    " + s for s in by_cluster.get(name, [])]
        lines.append("  }")
    for a, b, label, dashed in pic.edges:
        attrs = [f"label={_quote(label)}"] if label else []
        attrs += ["style=dashed"] if dashed else []
        lines.append(f"  {a} -> {b}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_matplotlib(pic, outfile, fmt):
    """Draw the picture without graphviz: layers by longest path, clusters side by side."""
    import networkx as nx
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    g = nx.DiGraph()
    g.add_nodes_from(pic.nodes)
    g.add_edges_from((a, b) for a, b, label, _ in pic.edges if label != "update")
    groups = [None] + list(pic.clusters)
    pos, x0, boxes = {}, 0.0, {}
    for group in groups:
        members = [k for k, v in pic.nodes.items() if v[2] == group]
        sub = g.subgraph(members)
        layer = {}
        for k in nx.topological_sort(sub):
            layer[k] = max([layer[p] + 1 for p in sub.predecessors(k)], default=0)
        rows = {}
        for k in members:
            rows.setdefault(layer.get(k, 0), []).append(k)
        width = max((len(r) for r in rows.values()), default=1)
        for depth, row in rows.items():
            for i, k in enumerate(row):
                pos[k] = (x0 + (i + 0.5) * 2.2 + (width - len(row)) * 1.1, -depth * 1.2)
        boxes[group] = (x0, width * 2.2, -max(rows, default=0) * 1.2)
        x0 += width * 2.2 + 1.0
    depth = max(-b[2] for b in boxes.values()) + 1.2
    fig, ax = plt.subplots(figsize=(max(6, x0 * 0.9), max(4, depth * 0.9)))
    for group, (x, w, bottom) in boxes.items():
        if group is not None:
            ax.add_patch(Rectangle((x - 0.1, bottom - 0.6), w + 0.2, -bottom + 1.2,
                                   fill=False, linestyle="--", edgecolor="grey"))
            ax.text(x, 0.75, pic.clusters[group], fontsize=8, color="dimgrey")
    for a, b, label, dashed in pic.edges:
        ax.annotate("", xy=pos[b], xytext=pos[a], arrowprops=dict(
            arrowstyle="->", color="grey", linestyle="--" if dashed else "-",
            shrinkA=12, shrinkB=12))
        if label:
            ax.text((pos[a][0] + pos[b][0]) / 2, (pos[a][1] + pos[b][1]) / 2, label,
                    fontsize=6, color="dimgrey")
    for k, (label, kind, _) in pic.nodes.items():
        style = "square" if kind in ("op", "scan") else "round"
        ax.text(*pos[k], label, ha="center", va="center", fontsize=7,
                bbox=dict(boxstyle=f"{style},pad=0.3", facecolor=pic.color.get(k, COLORS[kind]),
                          edgecolor="black"))
    ax.set_xlim(-0.5, x0)
    ax.set_ylim(-depth, 1.2)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(outfile, format=fmt)
    plt.close(fig)


def pydotprint(fct, outfile=None, compact=True, format="png", with_ids=False,
               high_contrast=True, cond_highlight=None, colorCodes=None, max_label_size=70,
               scan_graphs=True, var_with_name_simple=False, print_output_file=True,
               return_image=False, engine=None):
    """Draw the graph of a compiled function or of variables to ``outfile``.

    As Theano's ``theano.printing.pydotprint``: ops are boxes, variables ellipses;
    inputs are green, shared variables blue, constants grey, outputs orange,
    updates violet (a dashed "update" edge goes back to the shared variable); each
    scan's step is drawn as a dashed cluster of its own inner graph. ``engine`` is
    ``'dot'`` (graphviz), ``'matplotlib'`` (networkx layout) or None: dot when it is
    installed. ``format`` is png, svg, pdf, or dot (the DOT text). ``colorCodes`` maps
    op class names to fill colours (``{'Scan': 'gold'}``). Theano's other display options
    are accepted and have no effect. Returns the file name, or the image's bytes when
    ``return_image``.
    """
    pic = build(fct, max_label_size)
    pic.color = {k: colorCodes[name] for k, name in pic.op_class.items()
                 if colorCodes and name in colorCodes}
    if outfile is None:
        outfile = os.path.join(os.path.expanduser("~"), ".symrnn", f"graph.{format}")
    os.makedirs(os.path.dirname(os.path.abspath(outfile)), exist_ok=True)
    text = to_dot(pic)
    engine = engine or ("dot" if shutil.which("dot") else "matplotlib")
    if format == "dot":
        with open(outfile, "w") as f:
            f.write(text)
    elif engine == "dot":
        if not shutil.which("dot"):
            raise RuntimeError("pydotprint: engine='dot' needs graphviz (apt install graphviz)")
        subprocess.run(["dot", f"-T{format}", "-o", outfile], input=text.encode(), check=True)
    elif engine == "matplotlib":
        try:
            draw_matplotlib(pic, outfile, format)
        except ImportError:
            raise RuntimeError("pydotprint: needs graphviz's dot or matplotlib "
                               "(pip install matplotlib)") from None
    else:
        raise ValueError(f"pydotprint: engine must be 'dot', 'matplotlib' or None, got {engine!r}")
    if return_image:
        with open(outfile, "rb") as f:
            return f.read()
    if print_output_file:
        print(f"The output file is available at {outfile}")
    return outfile
