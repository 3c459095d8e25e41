"""Checking a `/metrics` scrape with both parsers that read it in practice."""

from __future__ import annotations

import shutil
import subprocess

from prometheus_client.parser import text_string_to_metric_families

from tests.services import skip_or_fail


def parsed_by_both(text: str) -> dict[str, str]:
    """Parses `text` with prometheus-client and `promtool check metrics` (which must find no
    problem at all); returns each family's type by name."""
    families = {family.name: family.type for family in text_string_to_metric_families(text)}
    promtool = shutil.which("promtool")
    if promtool is None:
        skip_or_fail("promtool (Debian package prometheus) is not installed")
        return families
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert (checked.returncode, checked.stdout, checked.stderr) == (0, "", "")
    return families
