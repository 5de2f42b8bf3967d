"""Sphinx configuration of symrnn's documentation (build: python -m sphinx -b html docs DIR).

The tutorials gallery is built by ``_ext/tutorial_gallery.py``: each tutorial runs in its
--quick mode on the NumPy backend, and its page shows the output and the plots.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's symrnn
sys.path.insert(0, os.path.join(HERE, "_ext"))

project = "symrnn"
author = "the symrnn authors"
copyright = "2026, the symrnn authors"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.viewcode",
              "tutorial_gallery"]
napoleon_google_docstring = False
napoleon_numpy_docstring = True
autodoc_member_order = "bysource"
autodoc_typehints = "none"
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path = []
nitpicky = False
