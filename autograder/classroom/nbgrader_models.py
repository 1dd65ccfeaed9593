"""nbgrader's gradebook models (`nbgrader.api`), imported without what their packages load first.

`import nbgrader` loads its Jupyter server extensions (jupyter_server, tornado's web, the exchange),
`nbgrader.api` imports `setuptools.archive_util`, whose package loads setuptools whole, and its
JupyterHub authenticator imports `requests` (0.1 s): 1.2 s of a one-notebook run, of which the
gradebook uses nothing. Each package's own `__init__` runs the
first time anything else of it is asked for, so later users of nbgrader and setuptools get them
whole; where a package is loaded already, nothing changes.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

DEFERRED = ("nbgrader", "setuptools", "requests")


def nbgrader_models() -> ModuleType:
    for name in DEFERRED:
        defer_init(name)
    return importlib.import_module("nbgrader.api")


def defer_init(name: str) -> None:
    """The package `name` in `sys.modules` with its submodules importable and its `__init__` not
    run until an attribute that is no submodule is asked for."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def complete(attribute: str) -> Any:
        # `from . import utils` inside the package asks the package for its submodules
        if not attribute.startswith("__") and importlib.util.find_spec(f"{name}.{attribute}"):
            return importlib.import_module(f"{name}.{attribute}")
        if package.__dict__.pop("__getattr__", None) is None:
            raise AttributeError(attribute)
        loader.exec_module(package)
        return getattr(package, attribute)

    package.__getattr__ = complete  # type: ignore[method-assign]
    sys.modules[name] = package
