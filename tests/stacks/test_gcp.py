"""GcpModelPlatform: GCS registry hardening, Workload Identity, provider wiring."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stacks.conftest import Synth, data, resources, service_account_annotations
from tfprod.bindings._core import App
from tfprod.constructs import ConstructError
from tfprod.stacks import GcpModelPlatform

GSA = "${google_service_account.rec-model-server-google-service-account"


def gcp(app: App, **overrides: Any) -> GcpModelPlatform:
    props: dict[str, Any] = {
        "project": "acme-ml",
        "location": "europe-west1-b",
        "cluster_name": "prod",
        "registry_bucket": "acme-models",
        "namespace": "ml",
    }
    return GcpModelPlatform(app, "gcp", **{**props, **overrides})


def test_registry_is_the_bucket_prefix_as_a_plain_string() -> None:
    assert gcp(App()).registry.uri == "gs://acme-models/registry"


def test_bucket_has_uniform_access_versioning_and_enforced_public_access_prevention(
    synth: Synth,
) -> None:
    tf = synth(gcp)
    assert resources(tf, "google_storage_bucket") == {
        "registry-bucket": {
            "name": "acme-models",
            "project": "acme-ml",
            "location": "EUROPE-WEST1",
            "uniform_bucket_level_access": True,
            "public_access_prevention": "enforced",
            "versioning": {"enabled": True},
        }
    }


def test_bucket_location_can_be_given(synth: Synth) -> None:
    tf = synth(lambda app: gcp(app, bucket_location="eu"))
    assert resources(tf, "google_storage_bucket")["registry-bucket"]["location"] == "EU"


def test_model_server_acts_as_a_google_service_account_that_reads_the_bucket(
    synth: Synth,
) -> None:
    tf = synth(gcp)
    assert resources(tf, "google_service_account") == {
        "rec-model-server-google-service-account": {
            "account_id": "rec-model-server-ml",
            "project": "acme-ml",
            "display_name": "tfprod ml/rec-model-server",
        }
    }
    assert resources(tf, "google_storage_bucket_iam_member") == {
        "rec-model-server-registry-read": {
            "bucket": "${google_storage_bucket.registry-bucket.name}",
            "role": "roles/storage.objectViewer",
            "member": f"{GSA}.member}}",
        }
    }
    assert resources(tf, "google_service_account_iam_member") == {
        "rec-model-server-workload-identity": {
            "service_account_id": f"{GSA}.name}}",
            "role": "roles/iam.workloadIdentityUser",
            "member": "serviceAccount:acme-ml.svc.id.goog[ml/rec-model-server]",
        }
    }
    assert service_account_annotations(tf) == {
        "rec-model-server": {"iam.gke.io/gcp-service-account": f"{GSA}.email}}"}
    }


def test_registry_writers_also_get_object_user_on_the_bucket(synth: Synth) -> None:
    tf = synth(lambda app: gcp(app, registry_writers=["trainer"]))
    members = resources(tf, "google_storage_bucket_iam_member")
    assert {name: body["role"] for name, body in members.items()} == {
        "rec-model-server-registry-read": "roles/storage.objectViewer",
        "trainer-registry-read": "roles/storage.objectViewer",
        "trainer-registry-write": "roles/storage.objectUser",
    }


def test_long_account_ids_are_cut_to_30_characters_with_a_stable_hash(synth: Synth) -> None:
    tf = synth(lambda app: gcp(app, namespace="recommendations"))
    accounts = resources(tf, "google_service_account")
    assert accounts["rec-model-server-google-service-account"]["account_id"] == (
        "rec-model-server-reco-460f486d"
    )


def test_account_ids_too_short_or_not_starting_with_a_letter_get_a_k8s_prefix(
    synth: Synth,
) -> None:
    tf = synth(lambda app: gcp(app, registry_writers=["ab", "0job"]))
    accounts = resources(tf, "google_service_account")
    assert {name: body["account_id"] for name, body in accounts.items()} == {
        "0job-google-service-account": "k8s-0job-ml",
        "ab-google-service-account": "k8s-ab-ml",
        "rec-model-server-google-service-account": "rec-model-server-ml",
    }


def test_kubernetes_provider_reads_the_gke_cluster_and_uses_the_gcloud_auth_plugin(
    synth: Synth,
) -> None:
    tf = synth(gcp)
    assert data(tf, "google_container_cluster") == {
        "cluster": {"name": "prod", "location": "europe-west1-b", "project": "acme-ml"}
    }
    assert tf["provider"] == {
        "google": [{"project": "acme-ml"}],
        "kubernetes": [
            {
                "host": "https://${data.google_container_cluster.cluster.endpoint}",
                "cluster_ca_certificate": "${base64decode(data.google_container_cluster"
                ".cluster.master_auth[0].cluster_ca_certificate)}",
                "exec": [
                    {
                        "api_version": "client.authentication.k8s.io/v1beta1",
                        "command": "gke-gcloud-auth-plugin",
                    }
                ],
            }
        ],
    }
    assert tf["terraform"]["required_providers"] == {
        "google": {"source": "hashicorp/google", "version": "8.7.0"},
        "kubernetes": {"source": "hashicorp/kubernetes", "version": "3.4.0"},
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "project",
            "Acme",
            "gcp: project: 'Acme' is not valid; allowed: 6 to 30 lower-case letters, digits"
            " or '-', starting with a letter",
        ),
        (
            "location",
            "Europe West",
            "gcp: location: 'Europe West' is not valid; allowed: a GCP region or zone such as"
            " 'europe-west1' or 'europe-west1-b'",
        ),
        (
            "cluster_name",
            "prod-",
            "gcp: cluster_name: 'prod-' is not valid; allowed: 1 to 40 lower-case letters,"
            " digits or '-', starting with a letter, not ending with '-'",
        ),
        (
            "registry_bucket",
            "gs://acme",
            "gcp: registry_bucket: 'gs://acme' is not valid; allowed: 3 to 63 lower-case"
            " letters, digits or '-', starting and ending with a letter or digit",
        ),
    ],
)
def test_bad_props_fail_naming_the_field_and_what_is_allowed(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ConstructError) as caught:
        gcp(App(), **{field: value})
    assert str(caught.value) == message
