"""Controller notifications: events posted to Alertmanager, or printed when there is none."""

from tfprod.runtime.notify.alertmanager import (
    AlertmanagerNotifier,
    DeliveryCounts,
    DeliverySettings,
)
from tfprod.runtime.notify.console import ConsoleNotifier
from tfprod.runtime.notify.events import (
    EVENT_KINDS,
    ControllerEvent,
    EventError,
    NotifyAction,
    Severity,
    alert,
)
from tfprod.runtime.notify.notifier import Notifier, notifier

__all__ = [
    "EVENT_KINDS",
    "AlertmanagerNotifier",
    "ConsoleNotifier",
    "ControllerEvent",
    "DeliveryCounts",
    "DeliverySettings",
    "EventError",
    "Notifier",
    "NotifyAction",
    "Severity",
    "alert",
    "notifier",
]
