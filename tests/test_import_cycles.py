"""No module of `tfprod` imports itself back, directly or through others.

A cycle makes the import order matter and hides which module owns a type (the registry's
value types once lived in `registry.py`, which `local.py` imported back). Imports under
`TYPE_CHECKING` and inside functions count: they are the usual way a cycle is papered over.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import grimp
import pytest


def rotated_to_smallest(cycle: tuple[str, ...]) -> tuple[str, ...]:
    """The cycle started at its alphabetically first module, so each is reported once."""
    start = cycle.index(min(cycle))
    return cycle[start:] + cycle[:start]


def import_cycles(package: str) -> list[str]:
    """Each cycle of `package` as `a -> b -> ... -> a`: for every direct import a -> b, the
    shortest chain back from b to a, if there is one."""
    graph = grimp.build_graph(package, cache_dir=None)
    cycles: set[tuple[str, ...]] = set()
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.add(rotated_to_smallest((importer, *back[:-1])))
    return sorted(" -> ".join((*cycle, cycle[0])) for cycle in cycles)


def test_a_cycle_through_a_type_checking_import_is_reported_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "store.py").write_text("from cyclic.records import Version\n")
    (package / "records.py").write_text(
        textwrap.dedent(
            """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from cyclic.store import Store
            """
        )
    )
    (package / "leaf.py").write_text("import cyclic.store\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("cyclic") == ["cyclic.records -> cyclic.store -> cyclic.records"]


def test_no_module_of_tfprod_imports_itself_back() -> None:
    assert import_cycles("tfprod") == []
