"""The public API: each package's `__all__` is sorted, importable and complete; examples and
docs import no private module; the CLI reaches into no private construct module."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]

# Packages whose __all__ re-exports classes and functions from their modules.
PACKAGES = [
    "tfprod.cli",
    "tfprod.constructs",
    "tfprod.constructs.alerting",
    "tfprod.governance",
    "tfprod.policy",
    "tfprod.runtime.analysis",
    "tfprod.runtime.controller",
    "tfprod.runtime.dashboard",
    "tfprod.runtime.drift",
    "tfprod.runtime.explain",
    "tfprod.runtime.gateway",
    "tfprod.runtime.local",
    "tfprod.runtime.notify",
    "tfprod.runtime.registry",
    "tfprod.runtime.serving",
    "tfprod.stacks",
]
# Packages of generated bindings: __all__ lists their modules.
BINDING_PACKAGES = [
    "tfprod.bindings.aws",
    "tfprod.bindings.azurerm",
    "tfprod.bindings.google",
    "tfprod.bindings.kubernetes",
]
# Public-looking names of re-exported modules that are not for users, each with its reason.
NOT_FOR_USERS = {
    "tfprod.constructs.deployment.deployment_scope": "the constructs' own scope check",
    "tfprod.constructs.deployment.section_error": "the constructs' own section errors",
    "tfprod.constructs.errors.problem": "the wording behind construct_error",
    "tfprod.constructs.serving.VersionWorkload": "what a ModelDeployment builds per version",
    "tfprod.constructs.alerting.rules.duration": "Prometheus duration text for the rules",
    "tfprod.constructs.alerting.rules.watches_drift": "whether the rules need the controller",
    "tfprod.runtime.gateway.app.error_response": "the handlers' TF Serving error body",
    "tfprod.runtime.gateway.server.run_gateway": "the event loop behind serve",
    "tfprod.runtime.registry.cas.encode": "canonical JSON bytes of the registry's records",
    "tfprod.runtime.registry.registry.utc_now": "the registry's clock",
    "tfprod.governance.view.Resource": "what the rules read a stack with",
    "tfprod.governance.view.check_cap": "what the rules read a stack with",
    "tfprod.governance.view.recorded": "what the rules read a stack with",
    "tfprod.governance.view.recorded_suppressions": "what the rules read a stack with",
    "tfprod.governance.view.blocks": "what the rules read a stack with",
    "tfprod.governance.view.walk": "what the rules read a stack with",
    "tfprod.governance.view.is_reference": "what the rules read a stack with",
    "tfprod.governance.view.is_expression": "what the rules read a stack with",
    "tfprod.governance.view.first_block": "what the rules read a stack with",
    "tfprod.governance.view.autoscaler_of": "what the rules read a stack with",
    "tfprod.governance.registry.discover": "how RULES is found",
    "tfprod.runtime.analysis.msprt.log_likelihood_ratio": "the formulas behind update",
    "tfprod.runtime.analysis.msprt.one_sided_log_likelihood_ratio": "the formulas behind update",
    "tfprod.runtime.analysis.msprt.half_width": "the formulas behind update",
    "tfprod.runtime.analysis.msprt.difference_and_variance": "the formulas behind update",
    "tfprod.runtime.analysis.msprt.mixing_variance": "the formulas behind update",
    "tfprod.runtime.analysis.samples.as_moments": "input checks shared by the analyses",
    "tfprod.runtime.analysis.samples.check_sample": "input checks shared by the analyses",
    "tfprod.runtime.analysis.samples.check_buckets": "input checks shared by the analyses",
    "tfprod.runtime.analysis.samples.check_progress": "input checks shared by the analyses",
    "tfprod.runtime.analysis.samples.mean_and_variance": "arithmetic shared by the analyses",
    "tfprod.runtime.analysis.samples.bucket_holding": "arithmetic shared by the analyses",
    "tfprod.runtime.analysis.samples.above": "arithmetic shared by the analyses",
    "tfprod.runtime.notify.alertmanager.redacted": "a URL as the notifier's log lines show it",
    "tfprod.runtime.serving.faults.injected_error": "the server's own fault middleware",
    "tfprod.runtime.serving.faults.is_loopback": "the server's own fault middleware",
    "tfprod.runtime.serving.faults.FaultDecision": "the server's own fault middleware",
    "tfprod.runtime.serving.faults.FaultInjector": "the server's own fault middleware",
}


def _order(name: str) -> tuple[int, str]:
    """The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def _exported_modules(package: ModuleType) -> set[str]:
    """The public modules of `package` that its __all__ takes classes or functions from."""
    modules = set()
    for name in package.__all__:
        value = getattr(package, name)
        module = getattr(value, "__module__", "") or ""
        defined = inspect.isclass(value) or inspect.isfunction(value)
        inside = module.startswith(f"{package.__name__}.")
        if defined and inside and not module.rsplit(".", 1)[-1].startswith("_"):
            modules.add(module)
    return modules


def _defined_public(module_name: str) -> Iterator[str]:
    module = sys.modules[module_name]
    for name, value in vars(module).items():
        if name.startswith("_") or not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if value.__module__ == module_name:
            yield name


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_is_sorted_importable_and_complete(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert exported == sorted(exported, key=_order)
    assert [item for item in exported if not hasattr(package, item)] == []
    missing = [
        f"{module}.{item}"
        for module in sorted(_exported_modules(package))
        for item in _defined_public(module)
        if item not in exported and f"{module}.{item}" not in NOT_FOR_USERS
    ]
    assert missing == []


def test_the_lazy_policy_package_names_each_home_as_type_checkers_see_it() -> None:
    policy = importlib.import_module("tfprod.policy")
    tree = ast.parse(inspect.getsource(policy))
    checked = {
        alias.asname or alias.name: node.module.removeprefix("tfprod.policy.")
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tfprod.policy.")
        for alias in node.names
    }
    assert checked == policy._MODULE_OF
    assert sorted(policy.__all__) == sorted(checked)
    assert [
        name
        for name, module in checked.items()
        if getattr(policy, name)
        is not getattr(importlib.import_module(f"tfprod.policy.{module}"), name)
    ] == []


@pytest.mark.parametrize("name", BINDING_PACKAGES)
def test_binding_package_all_lists_every_module_sorted(name: str) -> None:
    package = importlib.import_module(name)
    modules = sorted(
        info.name for info in pkgutil.iter_modules(package.__path__) if info.name[0] != "_"
    )
    assert list(package.__all__) == modules


def test_every_name_kept_from_users_still_exists() -> None:
    gone = []
    for dotted in NOT_FOR_USERS:
        module, name = dotted.rsplit(".", 1)
        if not hasattr(importlib.import_module(module), name):
            gone.append(dotted)
    assert gone == []


def _imported_modules(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _private(module: str) -> bool:
    return any(part.startswith("_") and part != "__future__" for part in module.split("."))


def _sources() -> Iterator[tuple[str, str]]:
    """(where, Python source) of every example module and every Python block of the docs."""
    for path in sorted((REPO / "examples").rglob("*.py")):
        yield path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")
    for path in [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for number, block in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
            yield f"{path.relative_to(REPO).as_posix()} block {number}", block


def test_the_sources_checked_include_the_docs_python_blocks() -> None:
    where = [name for name, _ in _sources()]
    assert "examples/app.py" in where
    assert "docs/governance.md block 0" in where


def test_examples_and_docs_import_no_private_module() -> None:
    private = [
        f"{where}: {module}"
        for where, source in _sources()
        for module in _imported_modules(ast.parse(source))
        if module.startswith(("tfprod", "examples")) and _private(module)
    ]
    assert private == []


def test_the_cli_imports_no_private_construct_module() -> None:
    reached = [
        f"{path.name}: {module}"
        for path in sorted((REPO / "tfprod" / "cli").glob("*.py"))
        for module in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if module.startswith("tfprod.constructs.") and _private(module)
    ]
    assert reached == []
