"""`tfprod review`: Markdown pages from cdktf.out, recomputed findings, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.review.apps import proposal_app
from tfprod.cli import main
from tfprod.cli.review_render import clock, duration


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("review") / "cdktf.out"
    proposal_app(outdir)
    return outdir


def _review(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["review", *args]) == 0
    return capsys.readouterr().out


def _section(page: str, heading: str) -> list[str]:
    """The lines under `heading` (exact line) up to the next heading."""
    lines = page.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("#")), len(lines))
    return [line for line in lines[start:end] if line]


def test_review_shows_the_ramp_timeline_with_clock_times(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _review(capsys, "shop", "--output", str(synthesized))
    assert _section(page, "#### Canary ramp of `rec-v2.1.0`") == [
        "| Clock | Canary share | Held for |",
        "|---|---|---|",
        "| T+00:00 | 5% | 1m |",
        "| T+01:00 | 14.5% | 1m |",
        "| T+02:00 | 24% | 1m |",
        "| T+03:00 | 33.5% | 1m |",
        "| T+04:00 | 43% | 1m |",
        "| T+05:00 | 52.5% | 1m |",
        "| T+06:00 | 62% | 1m |",
        "| T+07:00 | 71.5% | 1m |",
        "| T+08:00 | 81% | 1m |",
        "| T+09:00 | 90.5% | 1m |",
        "| T+10:00 | 100% (promoted) | - |",
        "- Success criteria: `error_rate < 1%`, `latency_p95 < 100ms` (checked every 10s)",
    ]


def test_review_lists_versions_roles_traffic_and_images(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _review(capsys, "--output", str(synthesized))
    images = "`ghcr.io/tfprod/tfprod:0.1.0`, `tensorflow/serving:2.19.0`"
    artifacts = "s3://ml-models/registry/models/rec/versions"
    assert _section(page, "## Deployment `recommendation-engine`")[:2] == [
        "- Construct: `shop/recommender`",
        "- Environment: production; namespace `models`; model `rec`",
    ]
    assert _section(page, "#### Versions")[:5] == [
        "| Version | Role | Traffic | Artifact | Images |",
        "|---|---|---|---|---|",
        f"| `rec-v2.0.0` | stable | 95% | `{artifacts}/rec-v2.0.0` | {images} |",
        f"| `rec-v2.1.0` | canary | 5% | `{artifacts}/rec-v2.1.0` | {images} |",
        f"| `rec-v2.2.0` | shadow | 0% | `{artifacts}/rec-v2.2.0` | {images} |",
    ]


def test_review_shows_triggers_rollback_paths_and_alert_receivers(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _review(capsys, "--output", str(synthesized))
    assert _section(page, "#### Triggers and actions")[:6] == [
        "- Fallback version: `rec-v2.0.0`",
        "| Condition | Action |",
        "|---|---|",
        "| `error_rate > 5%` | immediate_rollback |",
        "| `latency_p95 > 200ms` | gradual_rollback |",
        "| `drift_score > 0.2` | alert_and_monitor |",
    ]
    assert _section(page, "#### Worst-case time to rollback")[:9] == [
        "- Controller: checks every 10s over a 1m window, acts after 3 failing checks; no-data"
        " bound 5m; actuation bound 5s",
        "- Worst case: **375 s** (no data during the rollout); cap 600 s",
        "| Path | Seconds |",
        "|---|---|",
        "| canary criterion 'error_rate < 1%' fails | 95 |",
        "| canary criterion 'latency_p95 < 100ms' fails | 95 |",
        "| trigger 'error_rate > 5%' (immediate_rollback) | 95 |",
        "| trigger 'latency_p95 > 200ms' (gradual_rollback) | 185 |",
        "| no data during the rollout | 375 |",
    ]
    assert _section(page, "#### Observability and alert routes")[:6] == [
        "- Metrics: prediction_latency, error_rate",
        "| Receiver | Destination |",
        "|---|---|",
        "| slack | #ml-alerts |",
        "| email | ml-team@company.com |",
        "| pagerduty | ml-on-call |",
    ]


def test_review_recomputes_findings_and_shows_suppressions_with_reasons(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _review(capsys, "shop", "--output", str(synthesized))
    assert page.splitlines()[:3] == [
        "# Review of stack `shop`",
        "",
        "2 deployment(s); governance: 0 error(s), 1 warning(s), 1 suppressed.",
    ]
    assert _section(page, "## Governance findings") == [
        "| Level | Rule | Path | Message |",
        "|---|---|---|---|",
        "| warning | TFP007 | `shop/search` | canary 'rk-3' of 'search-ranker' has no success"
        " criteria; give CanaryDeployment(..., success_criteria={'error_rate': '< 1%',"
        " 'latency_p95': '< 100ms'}) |",
        "Suppressed:",
        "| Rule | Path | Reason |",
        "|---|---|---|",
        "| TFP008 | `shop/search` | this test is about latency only |",
    ]


def test_two_reviews_are_byte_identical(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _review(capsys, "--output", str(synthesized))
    assert _review(capsys, "--output", str(synthesized)) == first


def test_markdown_dir_gets_one_page_per_stack(
    synthesized: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _review(capsys, "shop", "--output", str(synthesized))
    out = tmp_path / "pages"
    assert _review(capsys, "--output", str(synthesized), "--markdown-dir", str(out)) == (
        f"wrote 1 review page(s) into {out}\n"
    )
    assert (out / "shop.md").read_text(encoding="utf-8") == page


def test_unknown_stack_exits_2_naming_the_stacks(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["review", "shopp", "--output", str(synthesized)]) == 2
    assert capsys.readouterr().err == (
        f"tfprod review: error: no stack 'shopp' in {synthesized}; stacks: shop\n"
    )


def test_missing_output_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["review", "--output", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"tfprod review: error: {tmp_path}: no manifest.json; is it a cdktf.out directory?\n"
    )


def test_invalid_policy_file_exits_2_naming_file_and_field(
    synthesized: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "out"
    shutil.copytree(synthesized, copy)
    policy_path = copy / "stacks" / "shop" / "search-ranker.policy.json"
    document = json.loads(policy_path.read_text(encoding="utf-8"))
    document["environment"] = "Staging"
    policy_path.write_text(json.dumps(document), encoding="utf-8")
    assert main(["review", "--output", str(copy)]) == 2
    assert capsys.readouterr().err == (
        f"tfprod review: error: {policy_path}: environment: 'Staging' is not a"
        " DNS-1123 label: use 1 to 63 lower-case letters, digits or '-', starting and ending"
        " with a letter or digit\n"
    )


def test_clock_counts_minutes_then_hours() -> None:
    assert [clock(s) for s in (0, 59.6, 600, 3599, 3600, 90061)] == [
        "T+00:00",
        "T+01:00",
        "T+10:00",
        "T+59:59",
        "T+1:00:00",
        "T+25:01:01",
    ]


def test_duration_reads_like_a_person_writes_it() -> None:
    assert [duration(s) for s in (0.5, 10, 90, 3600, 1209600, 93784)] == [
        "0.5s",
        "10s",
        "1m 30s",
        "1h",
        "14d",
        "1d 2h 3m 4s",
    ]


def test_review_shows_workloads_and_what_terraform_leaves_to_the_cluster(
    synthesized: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = _review(capsys, "--output", str(synthesized))
    tfprod = "`ghcr.io/tfprod/tfprod:0.1.0`"
    both = f"{tfprod}, `tensorflow/serving:2.19.0`"
    rows = _section(page, "## Workloads")
    assert rows[:5] == [
        "| Deployment | Construct | Replicas | Images |",
        "|---|---|---|---|",
        f"| `tfprod-controller` | `shop/controller/deployment` | 1 | {tfprod} |",
        f"| `tfprod-gateway` | `shop/gateway/deployment` | 2 | {tfprod} |",
        "| `recommendation-engine-rec-v2-0-0` | `shop/recommender/version-rec-v2-0-0/deployment`"
        f" | HPA 2-20; Terraform ignores spec[0].replicas | {both} |",
    ]
    assert rows[-1] == (
        f"| `search-ranker-rk-3` | `shop/search/version-rk-3/deployment` | 2 | {both} |"
    )
    assert (
        "- Ownership: Terraform declares the policy (ConfigMap `recommendation-engine-policy`);"
        " the controller keeps live weights and rollout state in"
        " `recommendation-engine-status`, outside Terraform, so an apply after a ramp changes"
        " and resets nothing"
    ) in page.splitlines()


def test_unknown_rule_in_a_recorded_suppression_exits_2(
    synthesized: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "out"
    shutil.copytree(synthesized, copy)
    stack_path = copy / "stacks" / "shop" / "cdk.tf.json"
    document = json.loads(stack_path.read_text(encoding="utf-8"))
    document["//"]["tfprod"]["suppressions"][0]["rule"] = "TFP999"
    stack_path.write_text(json.dumps(document), encoding="utf-8")
    assert main(["review", "--output", str(copy)]) == 2
    assert capsys.readouterr().err == (
        f"tfprod review: error: {stack_path}: shop/search: suppression names rule 'TFP999',"
        " which does not exist; allowed: TFP001, TFP002, TFP003, TFP004, TFP005, TFP006,"
        " TFP007, TFP008, TFP009, TFP010, TFP011\n"
    )
