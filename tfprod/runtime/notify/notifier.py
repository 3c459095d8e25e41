"""Choosing the controller's notifier: Alertmanager when one is configured, else the console."""

from __future__ import annotations

from typing import TypeAlias

from tfprod.runtime.notify.alertmanager import (
    DEFAULT_DELIVERY,
    AlertmanagerNotifier,
    DeliverySettings,
)
from tfprod.runtime.notify.console import ConsoleNotifier

Notifier: TypeAlias = AlertmanagerNotifier | ConsoleNotifier
"""Both are async context managers with `publish(event)` (never blocks) and `drain(timeout_s)`."""


def notifier(
    alertmanager_url: str | None,
    *,
    generator_url: str,
    settings: DeliverySettings = DEFAULT_DELIVERY,
) -> Notifier:
    """Posts to the Alertmanager at `alertmanager_url`, or prints when there is none."""
    if alertmanager_url is None:
        return ConsoleNotifier()
    return AlertmanagerNotifier(alertmanager_url, generator_url=generator_url, settings=settings)
