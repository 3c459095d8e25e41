"""`SafetyNet`: the triggers that roll back, pause or alert, and the version to fall back to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from tfprod.bindings._core import Construct
from tfprod.constructs.deployment import deployment_scope, section_error
from tfprod.policy import Action, SafetyNet as SafetySection, Trigger


class SafetyNet(Construct):
    """Triggers on live metrics and what they do; rollbacks route to `fallback_model`.

    Scope: the `ModelDeployment`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        fallback_model: str,
        triggers: Mapping[str, Action] | Sequence[Trigger],
    ) -> None:
        """- `fallback_model`: the version rollbacks route to: the stable version id, or another
          id, which is then deployed with role fallback (kept warm, no traffic).
        - `triggers`: {"error_rate > 5%": "immediate_rollback", ...} or `Trigger`s; actions:
          immediate_rollback, gradual_rollback, alert_and_monitor, pause.
        """
        super().__init__(scope, id)
        deployment = deployment_scope(self, "SafetyNet", scope)
        try:
            section = SafetySection.model_validate(
                {"fallback_version": fallback_model, "triggers": triggers}
            )
        except ValidationError as error:
            raise section_error(self, error, _NAMES) from None
        if deployment.role_of(fallback_model) is None:
            deployment.add_version(fallback_model, "fallback", 0.0, by=self, field="fallback_model")
        deployment.set_section("safety", section, by=self)
        self.fallback_model = fallback_model
        self.net = section


_NAMES = {"fallback_version": "fallback_model"}
