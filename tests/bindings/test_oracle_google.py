"""Oracle: tfprod's google bindings synthesize the same Terraform JSON as the prebuilt
`cdktn-provider-google` (installed by `make test`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import cdktn
import pytest

import tfprod.bindings.google as ours
from tests.bindings.oracle import assert_same_type, generated_types, require_prebuilt, synth

require_prebuilt("cdktn-provider-google")

pytestmark = pytest.mark.slow


def build(k: SimpleNamespace, stack: cdktn.TerraformStack) -> None:
    k.provider.GoogleProvider(stack, "google", project="ml-prod", region="europe-west4")
    k.provider.GoogleProvider(
        stack, "google_us", project="ml-prod", region="us-central1", alias="us"
    )
    cluster = k.data_google_container_cluster.DataGoogleContainerCluster(
        stack, "cluster", name="prod", location="europe-west4"
    )
    k.data_google_container_cluster.DataGoogleContainerCluster(
        stack, "other", name="staging", project="ml-staging"
    )
    bucket = k.storage_bucket.StorageBucket(
        stack,
        "models",
        name="ml-prod-models",
        location="EU",
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning={"enabled": True},
        labels={"app": "tfprod", "cluster": cluster.name},
        lifecycle_rule=[
            {"action": {"type": "Delete"}, "condition": {"age": 30}},
            {
                "action": {"type": "SetStorageClass", "storageClass": "NEARLINE"},
                "condition": {"age": 7, "withState": "ARCHIVED"},
            },
        ],
    )
    k.storage_bucket.StorageBucket(
        stack,
        "scratch",
        name="ml-prod-scratch",
        location="europe-west4",
        force_destroy=True,
        soft_delete_policy={"retention_duration_seconds": 0},
        timeouts={"create": "4m"},
    )
    account = k.service_account.ServiceAccount(
        stack, "serving", account_id="serving", display_name="Model serving", disabled=False
    )
    k.service_account.ServiceAccount(
        stack, "controller", account_id="controller", description="x", project="ml-staging"
    )
    k.storage_bucket_iam_member.StorageBucketIamMember(
        stack,
        "serving_reads",
        bucket=bucket.name,
        role="roles/storage.objectViewer",
        member=f"serviceAccount:{account.email}",
    )
    k.storage_bucket_iam_member.StorageBucketIamMember(
        stack,
        "temporary_writer",
        bucket="ml-prod-models",
        role="roles/storage.objectCreator",
        member="user:alice@example.com",
        condition={
            "title": "until 2027",
            "expression": 'request.time < timestamp("2027-01-01T00:00:00Z")',
        },
    )
    k.service_account_iam_member.ServiceAccountIamMember(
        stack,
        "workload_identity",
        service_account_id=account.name,
        role="roles/iam.workloadIdentityUser",
        member="serviceAccount:ml-prod.svc.id.goog[models/serving]",
    )
    k.service_account_iam_member.ServiceAccountIamMember(
        stack,
        "token_creator",
        service_account_id="projects/p/serviceAccounts/c@p.iam.gserviceaccount.com",
        role="roles/iam.serviceAccountTokenCreator",
        member="group:ml@example.com",
        condition={"title": "t", "expression": "true", "description": "always"},
    )


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    base = tmp_path_factory.mktemp("oracle-google")
    return (
        synth("tfprod.bindings.google", ours.__all__, build, base / "tfprod"),
        synth("cdktn_provider_google", ours.__all__, build, base / "prebuilt"),
    )


@pytest.mark.parametrize(("section", "tf_type"), generated_types("tfprod.bindings.google"))
def test_synthesizes_the_same_json_as_the_prebuilt_provider(
    both: tuple[dict[str, Any], dict[str, Any]], section: str, tf_type: str
) -> None:
    assert_same_type(both, section, tf_type)


def test_provider_blocks_match(both: tuple[dict[str, Any], dict[str, Any]]) -> None:
    mine, prebuilt = both
    assert mine["provider"] == prebuilt["provider"]
    assert mine["terraform"]["required_providers"] == prebuilt["terraform"]["required_providers"]
