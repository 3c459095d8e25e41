"""CanaryDeployment, ABTest and ShadowTest: versions, traffic, policy sections, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.constructs.stacks import by_name
from tfprod.constructs import (
    ABTest,
    CanaryDeployment,
    ConstructError,
    ModelDeployment,
    ShadowTest,
)
from tfprod.policy import parse_condition
from tfprod.stacks.cluster import ClusterModelPlatform


def test_canary_takes_its_share_from_stable_and_ramps_by_the_named_schedule(
    deployment: ModelDeployment,
) -> None:
    CanaryDeployment(
        deployment,
        "canary",
        new_model="rec-v2",
        traffic_percentage=5,
        ramp_up_schedule="linear_10_minutes",
        success_criteria={"error_rate": "< 1%", "latency_p95": "< 100ms"},
    )
    policy = deployment.policy()
    assert policy.traffic.weights == {"rec-v1": 95.0, "rec-v2": 5.0}
    assert policy.version("rec-v2").role == "canary"
    assert policy.version("rec-v2").artifact == "s3://ml-models/registry/models/rec/versions/rec-v2"
    assert policy.canary is not None
    assert [(step.percent, step.hold_seconds) for step in policy.canary.steps] == [
        (5.0, 60.0),
        (14.5, 60.0),
        (24.0, 60.0),
        (33.5, 60.0),
        (43.0, 60.0),
        (52.5, 60.0),
        (62.0, 60.0),
        (71.5, 60.0),
        (81.0, 60.0),
        (90.5, 60.0),
    ]
    assert policy.canary.success_criteria == (
        parse_condition("error_rate < 1%"),
        parse_condition("latency_p95 < 100ms"),
    )


def test_canary_version_gets_its_own_workloads(
    deployment: ModelDeployment, platform: ClusterModelPlatform
) -> None:
    CanaryDeployment(
        deployment, "canary", new_model="rec-v2", traffic_percentage=5, ramp_up_schedule=[(5, 60)]
    )
    workload = by_name(platform.to_terraform(), "kubernetes_deployment_v1")["rec-rec-v2"]
    labels = workload["spec"]["template"]["metadata"]["labels"]
    assert labels["tfprod.dev/role"] == "canary"
    assert labels["app.kubernetes.io/version"] == "rec-v2"
    assert workload["spec"]["template"]["spec"]["init_container"][0]["args"][3] == "rec-v2"


def test_canary_accepts_typed_steps_and_conditions(deployment: ModelDeployment) -> None:
    CanaryDeployment(
        deployment,
        "canary",
        new_model="rec-v2",
        traffic_percentage=10,
        ramp_up_schedule=[(10, "5m"), (50, "10m")],
        success_criteria=["error_rate < 2%", parse_condition("latency_p99 < 1s")],
        check_interval="30s",
    )
    canary = deployment.policy().canary
    assert canary is not None
    assert [(step.percent, step.hold_seconds) for step in canary.steps] == [
        (10.0, 300.0),
        (50.0, 600.0),
    ]
    assert canary.check_interval_seconds == 30.0
    assert [str(condition) for condition in canary.success_criteria] == [
        "error_rate < 2%",
        "latency_p99 < 1s",
    ]


def test_ab_test_reads_the_proposals_fraction_as_percent(deployment: ModelDeployment) -> None:
    ABTest(
        deployment,
        "ab-test",
        name="recommendation-algorithm-test",
        model_a="rec-v1",
        model_b="rec-v2",
        traffic_split=0.1,
        success_metrics=["click_through_rate", "error_rate"],
        duration_days=14,
        min_sample_size=10000,
        significance_level=0.05,
    )
    policy = deployment.policy()
    assert policy.traffic.weights == {"rec-v1": 90.0, "rec-v2": 10.0}
    assert policy.version("rec-v2").role == "challenger"
    assert policy.ab_test is not None
    assert policy.ab_test.model_dump() == {
        "control": "rec-v1",
        "treatment": "rec-v2",
        "treatment_percent": 10.0,
        "metrics": (
            {"name": "click_through_rate", "direction": "increase"},
            {"name": "error_rate", "direction": "decrease"},
        ),
        "min_sample_size": 10000,
        "significance_level": 0.05,
        "duration_seconds": 14 * 86400.0,
        "method": "msprt",
    }


def test_shadow_gets_no_live_traffic_only_mirrored_copies(deployment: ModelDeployment) -> None:
    ShadowTest(deployment, "shadow", candidate="rec-v3", mirror_percentage=50, duration="1h")
    policy = deployment.policy()
    assert policy.traffic.weights == {"rec-v1": 100.0}
    assert policy.version("rec-v3").role == "shadow"
    assert policy.shadow is not None
    assert policy.shadow.model_dump() == {
        "version": "rec-v3",
        "mirror_percent": 50.0,
        "compare_outputs": True,
        "duration_seconds": 3600.0,
    }


def test_canary_and_ab_test_shares_add_up(deployment: ModelDeployment) -> None:
    CanaryDeployment(
        deployment, "canary", new_model="rec-v2", traffic_percentage=5, ramp_up_schedule=[(5, 60)]
    )
    ABTest(
        deployment,
        "ab",
        name="t",
        model_a="rec-v1",
        model_b="rec-v3",
        traffic_split=0.25,
        success_metrics=["conversion_rate"],
        duration_days=7,
    )
    assert deployment.policy().traffic.weights == {"rec-v1": 70.0, "rec-v2": 5.0, "rec-v3": 25.0}


def _canary(deployment: ModelDeployment, **props: Any) -> None:
    arguments: dict[str, Any] = {
        "new_model": "rec-v2",
        "traffic_percentage": 5,
        "ramp_up_schedule": "linear_10_minutes",
        **props,
    }
    CanaryDeployment(deployment, "canary", **arguments)


def _ab(deployment: ModelDeployment, **props: Any) -> None:
    arguments: dict[str, Any] = {
        "name": "t",
        "model_a": "rec-v1",
        "model_b": "rec-v2",
        "traffic_split": 0.1,
        "success_metrics": ["ctr"],
        "duration_days": 14,
        **props,
    }
    ABTest(deployment, "ab", **arguments)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda d: _canary(d, success_criteria={"error_rate": "<< 1%"}),
            "ml/rec/canary: success_criteria: invalid criterion for error_rate '<< 1%':"
            " expected one of <, <=, >, >=, ==, != at column 1",
        ),
        (
            lambda d: _canary(d, success_criteria={"latency_p95": "< 100"}),
            "ml/rec/canary: success_criteria: invalid criterion for latency_p95 '< 100':"
            " latency_p95 takes 'ms' or 's', not a plain number",
        ),
        (
            lambda d: _canary(d, ramp_up_schedule="linear_ten_minutes"),
            "ml/rec/canary: ramp_up_schedule: invalid ramp schedule 'linear_ten_minutes':"
            " expected a whole number from 1 to 1000 after 'linear_' at column 8;"
            " allowed forms: linear_<N>_<unit>, exponential_<N>_<unit>,"
            " linear_<K>_steps_<duration>",
        ),
        (
            lambda d: _canary(d, ramp_up_schedule=[(10, "1m"), (50, "1m")]),
            "ml/rec/canary: ramp_up_schedule: the first step is 10% but traffic_percentage is 5;"
            " allowed: steps starting at 5, or one of linear_<N>_<unit>,"
            " exponential_<N>_<unit>, linear_<K>_steps_<duration>",
        ),
        (
            lambda d: _canary(d, ramp_up_schedule=[(5, "1m"), (3, "1m")]),
            "ml/rec/canary: ramp_up_schedule: canary steps must increase: 3% follows 5%",
        ),
        (
            lambda d: _canary(d, new_model="rec-v1"),
            "ml/rec/canary: new_model: 'rec-v1' is already declared with role 'stable';"
            " allowed: a version not yet declared in ml/rec",
        ),
        (
            lambda d: _ab(d, model_a="rec-v0"),
            "ml/rec/ab: model_a: 'rec-v0' is not the stable version of ml/rec; allowed: 'rec-v1'",
        ),
        (
            lambda d: _ab(d, traffic_split=10),
            "ml/rec/ab: traffic_split: 10 is not a fraction of traffic;"
            " allowed: above 0 and below 1 (0.1 sends 10% to model_b)",
        ),
        (
            lambda d: _ab(d, success_metrics=[]),
            "ml/rec/ab: success_metrics: A/B test metrics are empty: name at least one,"
            " e.g. conversion_rate",
        ),
        (
            lambda d: _ab(d, significance_level=1.5),
            "ml/rec/ab: significance_level: Input should be less than 1 (got 1.5)",
        ),
        (
            lambda d: _ab(d, min_sample_size=0),
            "ml/rec/ab: min_sample_size: Input should be greater than or equal to 1 (got 0)",
        ),
        (
            lambda d: _ab(d, duration_days=0),
            "ml/rec/ab: duration_days: 0 is not above 0; allowed: a number of days above 0",
        ),
        (
            lambda d: ShadowTest(d, "shadow", candidate="rec-v3", duration="soon"),
            "ml/rec/shadow: duration: invalid duration 'soon': expected a number at column 1",
        ),
        (
            lambda d: ShadowTest(d, "shadow", candidate="rec-v3", mirror_percentage=0),
            "ml/rec/shadow: mirror_percentage: percent 0 is not valid:"
            " give above 0 and at most 100",
        ),
        (
            lambda d: _canary(d, traffic_percentage="five"),
            "ml/rec/canary: traffic_percentage: invalid percentage 'five': expected a number"
            " at column 1; allowed: a number of percent such as 5, or a string such as '5%'",
        ),
        (
            lambda d: _canary(d, traffic_percentage="5"),
            "ml/rec/canary: traffic_percentage: invalid percentage '5': expected '%' after '5'"
            " at column 2; allowed: a number of percent such as 5, or a string such as '5%'",
        ),
        (
            lambda d: _canary(d, traffic_percentage=None),
            "ml/rec/canary: traffic_percentage: None is not a number;"
            " allowed: a number of percent such as 5, or a string such as '5%'",
        ),
        (
            lambda d: _ab(d, traffic_split="0.1"),
            "ml/rec/ab: traffic_split: invalid percentage '0.1': expected '%' after '0.1'"
            " at column 4; allowed: a fraction such as 0.1, or a percentage string such as '10%'",
        ),
        (
            lambda d: _ab(d, traffic_split="100%"),
            "ml/rec/ab: traffic_split: 1 is not a fraction of traffic;"
            " allowed: above 0 and below 1 (0.1 sends 10% to model_b)",
        ),
        (
            lambda d: _canary(d, ramp_up_schedule=[("5%", "1m"), ("half", "1m")]),
            "ml/rec/canary: ramp_up_schedule[1].percent: invalid percentage 'half':"
            " expected a number at column 1",
        ),
        (
            lambda d: ShadowTest(d, "shadow", candidate="rec-v3", mirror_percentage="all"),
            "ml/rec/shadow: mirror_percentage: invalid percentage 'all': expected a number"
            " at column 1",
        ),
    ],
)
def test_rejects_bad_experiment_input_naming_path_and_field(
    deployment: ModelDeployment, build: Any, message: str
) -> None:
    with pytest.raises(ConstructError) as error:
        build(deployment)
    assert str(error.value) == message


def test_rejects_shares_that_leave_stable_no_traffic(deployment: ModelDeployment) -> None:
    _canary(deployment, traffic_percentage=50, ramp_up_schedule=[(50, 60)])
    with pytest.raises(ConstructError) as error:
        _ab(deployment, model_b="rec-v3", traffic_split=0.5)
    assert str(error.value) == (
        "ml/rec/ab: model_b: 50% on top of the 50% already given to other versions leaves the"
        " stable version no traffic; allowed: at most 50% minus a share for the stable version"
    )


def test_rejects_a_second_canary_on_one_deployment(deployment: ModelDeployment) -> None:
    _canary(deployment)
    with pytest.raises(ConstructError) as error:
        CanaryDeployment(
            deployment,
            "canary-2",
            new_model="rec-v3",
            traffic_percentage=5,
            ramp_up_schedule=[(5, 60)],
        )
    assert str(error.value) == (
        "ml/rec/canary-2: scope: ml/rec already has a canary section, from ml/rec/canary;"
        " allowed: one CanaryDeployment per ModelDeployment"
    )


def test_rejects_an_experiment_not_scoped_to_a_deployment(
    deployment: ModelDeployment, platform: ClusterModelPlatform
) -> None:
    with pytest.raises(ConstructError) as error:
        CanaryDeployment(
            platform,
            "canary",
            new_model="rec-v2",
            traffic_percentage=5,
            ramp_up_schedule="linear_10_minutes",
        )
    assert str(error.value) == (
        "ml/canary: scope: CanaryDeployment must be created with a ModelDeployment as its"
        " scope, got ClusterModelPlatform 'ml'; allowed: CanaryDeployment(deployment, id, ...)"
    )


def test_percent_props_read_five_percent_written_as_a_string_like_the_number(
    deployment: ModelDeployment,
) -> None:
    CanaryDeployment(
        deployment,
        "canary",
        new_model="rec-v2",
        traffic_percentage="5%",
        ramp_up_schedule=[("5%", "1m"), ("50 %", "1m")],
    )
    _ab(deployment, model_b="rec-v3", traffic_split="10%")
    ShadowTest(deployment, "shadow", candidate="rec-v4", mirror_percentage="25%")
    policy = deployment.policy()
    assert policy.traffic.weights == {"rec-v1": 85.0, "rec-v2": 5.0, "rec-v3": 10.0}
    assert policy.canary is not None
    assert [(step.percent, step.hold_seconds) for step in policy.canary.steps] == [
        (5.0, 60.0),
        (50.0, 60.0),
    ]
    assert policy.ab_test is not None and policy.ab_test.treatment_percent == 10.0
    assert policy.shadow is not None and policy.shadow.mirror_percent == 25.0


def test_named_schedule_ramps_from_a_percentage_string(deployment: ModelDeployment) -> None:
    _canary(deployment, traffic_percentage="5%", ramp_up_schedule="linear_10_minutes")
    assert deployment.policy().traffic.weights == {"rec-v1": 95.0, "rec-v2": 5.0}
