"""Looking at graphs: debugprint (dprint) and pprint."""
import sys

from symrnn.graph import Constant, Variable, ancestors
from symrnn.ops.debug import PrintOp
from symrnn.ops.elemwise import DimShuffle


def _ids():
    names, counter = {}, [0]

    def ident(v):
        if id(v) not in names:
            n, s = counter[0], ""
            while True:
                s = chr(ord("A") + n % 26) + s
                n = n // 26 - 1
                if n < 0:
                    break
            names[id(v)] = s
            counter[0] += 1
        return names[id(v)]
    return ident


def _line(v, ident, print_type):
    if v.owner is not None:
        label = str(v.owner.op)
        if len(v.owner.outputs) > 1:
            label += f".{v.index}"
    elif isinstance(v, Constant) or v.name:
        label = repr(v)
    else:
        label, print_type = f"<{v.type}>", False
    name = f" '{v.name}'" if v.name and v.owner is not None else ""
    t = f" <{v.type}>" if print_type else ""
    return f"{label} [id {ident(v)}]{name}{t}"


def _print_tree(v, ident, seen, prefix, prefix_child, out, print_type, depth):
    """Theano's layout: each input on its own line under ' |', bars kept for later siblings."""
    if depth == 0:
        return
    out.append(prefix + _line(v, ident, print_type))
    if v.owner is None or id(v.owner) in seen:
        return
    seen.add(id(v.owner))
    inputs = v.owner.inputs
    for k, inp in enumerate(inputs):
        below = prefix_child + ("  " if k == len(inputs) - 1 else " |")
        _print_tree(inp, ident, seen, prefix_child + " |", below, out, print_type, depth - 1)


def debugprint(obj, file=None, print_type=True, depth=-1, ids="CHAR"):
    """Print the graph of a variable, a list of them, or a compiled function as a tree.

    Each line shows the op, an id (repeated nodes are printed once), the name
    and the type (dtype and broadcastable pattern). Ops with inner graphs (scan)
    print those after the main graph. Returns the text when ``file='str'``.
    """
    if hasattr(obj, "maker"):
        outputs = obj.maker.fgraph.outputs
    elif isinstance(obj, (list, tuple)):
        outputs = list(obj)
    else:
        outputs = [obj]
    ident, seen, lines = _ids(), set(), []
    inner = []
    for v in outputs:
        if not isinstance(v, Variable):
            raise TypeError(f"debugprint: expected variables or a function, got {type(v)}")
        _print_tree(v, ident, seen, "", "", lines, print_type, depth)
    # inner graphs (scan and friends): any op with an ``inner_outputs`` list
    todo = [v.owner for v in ancestors(outputs) if v.owner is not None]
    done = set()
    while todo:
        node = todo.pop(0)
        if id(node) in done or not hasattr(node.op, "inner_outputs"):
            continue
        done.add(id(node))
        inner.append(f"\nInner graphs of {node.op} [id {ident(node.outputs[0])}]:")
        sub = []
        for o in node.op.inner_outputs:
            _print_tree(o, ident, set(), "", "", sub, print_type, depth)
        inner.extend(" " + s for s in sub)
        todo.extend(v.owner for v in ancestors(node.op.inner_outputs) if v.owner is not None)
    text = "\n".join(lines + inner)
    if file == "str":
        return text
    print(text, file=file or sys.stdout)
    return None


dprint = debugprint

_INFIX = {"add": "+", "sub": "-", "mul": "*", "true_div": "/", "int_div": "//", "mod": "%",
          "pow": "**", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "neq": "!=",
          "and_": "&", "or_": "|", "xor": "^"}


def pprint(v):
    """A one-line infix rendering of ``v``'s graph, e.g. ``((x * W) + b)``."""
    if v.owner is None:
        return repr(v)
    op, args = v.owner.op, [pprint(i) for i in v.owner.inputs]
    if isinstance(op, DimShuffle) and not op.drop and op.shuffle == sorted(op.shuffle):
        return args[0]  # only adds broadcastable axes: implicit in infix arithmetic
    scalar = getattr(op, "scalar_op", None)
    if scalar is not None and scalar.name in _INFIX and len(args) == 2:
        return f"({args[0]} {_INFIX[scalar.name]} {args[1]})"
    if scalar is not None and scalar.name == "neg":
        return f"-{args[0]}"
    name = scalar.name if scalar is not None else str(op)
    return f"{name}({', '.join(args)})"


pp = pprint


class Print:
    """``Print(message)(x)`` returns x and prints its value when the function runs."""

    def __init__(self, message="", attrs=("__str__",)):
        self.message, self.attrs = message, attrs

    def __call__(self, x):
        return PrintOp(self.message, tuple(self.attrs))(x)


def source(fn):
    """The generated source of the compiled function ``fn`` (see ``Function.source``)."""
    return fn.source()


def pydotprint(fct, outfile=None, **kwargs):
    """Draw the graph of ``fct`` (a compiled function or variables) to ``outfile``:
    graphviz's dot when installed, else networkx and matplotlib (symrnn/graph_picture.py)."""
    from symrnn.graph_picture import pydotprint as draw
    return draw(fct, outfile, **kwargs)
