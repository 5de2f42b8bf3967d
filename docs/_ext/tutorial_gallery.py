"""A gallery of the tutorials: each script runs in its --quick mode while the docs build.

For every ``tutorials/*.py`` (``common.py`` aside) this writes ``tutorials/<name>.rst``
under the source folder: the script's docstring, the command, what the quick run printed,
its plots and its source. Scripts that need a data set (MNIST, text) are shown without a
run; their figures are in tutorials/README.md. Each run is a separate process on the NumPy
backend (no compile time), two at a time.
"""
import glob
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

NEEDS_DATA = {"irnn_mnist", "indrnn_mnist", "orthogonal_rnn_mnist", "indrnn_charlm"}


def _run(root, name, out_dir):
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MPLBACKEND="Agg")
    cmd = [sys.executable, os.path.join(root, "tutorials", f"{name}.py"), "--quick",
           "--backend", "numpy", "--no-progress", "--out-dir", out_dir]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"tutorial {name} failed in its --quick run:\n{proc.stdout[-3000:]}"
                           f"\n{proc.stderr[-3000:]}")
    return proc.stdout


def _docstring(path):
    import ast
    with open(path) as f:
        return ast.get_docstring(ast.parse(f.read())) or ""


def _indent(text):
    return "\n".join("   " + line if line.strip() else "" for line in text.splitlines())


def _page(name, doc, output, images, rel_source):
    first, _, rest = doc.partition("\n\n")
    title = f"{name}.py"
    lines = [f".. _tutorial-{name}:", "", title, "=" * len(title), "",
             "*" + " ".join(first.split()).replace("*", r"\*") + "*", "", "::", "",
             _indent(rest.strip() or first), "",
             f"Run it: ``python tutorials/{name}.py`` (``--help`` lists the options).", ""]
    if output is None:
        lines += ["This tutorial needs a data set (``--data-dir``, or ``--download``), so the "
                  "documentation build does not run it; the figures measured with it are in "
                  "``tutorials/README.md``.", ""]
    else:
        lines += ["What ``--quick --backend numpy`` printed while these pages were built:", "",
                  "::", "", _indent(output.rstrip()), ""]
        for img in images:
            lines += [f".. image:: {img}", "   :width: 600px", ""]
    lines += ["The script", "----------", "", f".. literalinclude:: {rel_source}",
              "   :language: python", ""]
    return "\n".join(lines)


def build_gallery(app):
    src = app.srcdir
    root = os.path.dirname(os.path.abspath(src))
    tut_dir = os.path.join(root, "tutorials")
    names = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(tut_dir, "*.py"))
                   if not p.endswith("common.py"))
    out_root = os.path.join(src, "tutorials")
    os.makedirs(out_root, exist_ok=True)
    runnable = [n for n in names if n not in NEEDS_DATA]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = dict(zip(runnable, pool.map(
            lambda n: _run(root, n, os.path.join(out_root, "_runs", n)), runnable)))
    entries = []
    for name in names:
        images = sorted(os.path.relpath(p, out_root) for p in
                        glob.glob(os.path.join(out_root, "_runs", name, "*.png")))
        output = outputs.get(name)
        if output is not None:  # run-specific folders would differ from build to build
            output = output.replace(os.path.join(out_root, "_runs", name), "<out-dir>")
        page = _page(name, _docstring(os.path.join(tut_dir, f"{name}.py")), output, images,
                     os.path.relpath(os.path.join(tut_dir, f"{name}.py"), out_root))
        with open(os.path.join(out_root, f"{name}.rst"), "w") as f:
            f.write(page)
        entries.append(name)
    index = ["Tutorials", "=========", "",
             "Each tutorial is one script; the pages below show what its ``--quick`` run printed "
             "and plotted while this documentation was built (tutorials that need a data set "
             "are shown without a run).", "", ".. toctree::", "   :maxdepth: 1", ""]
    index += [f"   {n}" for n in entries]
    with open(os.path.join(out_root, "index.rst"), "w") as f:
        f.write("\n".join(index) + "\n")


def setup(app):
    app.connect("builder-inited", build_gallery)
    return {"version": "1.0", "parallel_read_safe": True}
