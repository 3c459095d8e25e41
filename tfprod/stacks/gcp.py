"""`GcpModelPlatform`: model deployments on a GKE cluster, with the registry in Cloud Storage.

The stack references the cluster (`data google_container_cluster`), never creates it; the
Kubernetes provider authenticates with `gke-gcloud-auth-plugin`, as `kubectl` does on GKE. It
creates the registry bucket (uniform bucket-level access, versioning, public access prevention
enforced) and, for each Kubernetes service account a workload asks for, a Google service
account with read access to the bucket (`roles/storage.objectViewer`; `registry_writers` also
get `roles/storage.objectUser`, which can replace aliases) that the Kubernetes service account
may impersonate through Workload Identity (`roles/iam.workloadIdentityUser` for
`serviceAccount:<project>.svc.id.goog[<namespace>/<name>]`). Workload Identity must be enabled
on the cluster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from tfprod.bindings._core import Construct, Fn
from tfprod.bindings.google.data_google_container_cluster import DataGoogleContainerCluster
from tfprod.bindings.google.provider import GoogleProvider
from tfprod.bindings.google.service_account import ServiceAccount
from tfprod.bindings.google.service_account_iam_member import ServiceAccountIamMember
from tfprod.bindings.google.storage_bucket import StorageBucket
from tfprod.bindings.google.storage_bucket_iam_member import StorageBucketIamMember
from tfprod.bindings.kubernetes.provider import KubernetesProvider, KubernetesProviderExec
from tfprod.constructs import ModelPlatformStack, ModelRegistry, ProjectImage
from tfprod.constructs.platform import DEFAULT_IMAGE
from tfprod.stacks._common import (
    BUCKET_NAME,
    BUCKET_NAME_RULE,
    REGISTRY_PREFIX,
    bounded_name,
    check_name,
    check_writers,
)

SERVICE_ACCOUNT_ANNOTATION = "iam.gke.io/gcp-service-account"
_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_PROJECT_RULE = "6 to 30 lower-case letters, digits or '-', starting with a letter"
_LOCATION = re.compile(r"[a-z]+(-[a-z]+)*[0-9]+(-[a-z])?")
_LOCATION_RULE = "a GCP region or zone such as 'europe-west1' or 'europe-west1-b'"
_CLUSTER_NAME = re.compile(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?")
_CLUSTER_NAME_RULE = (
    "1 to 40 lower-case letters, digits or '-', starting with a letter, not ending with '-'"
)
_ACCOUNT_ID_MIN = 6
_ACCOUNT_ID_LIMIT = 30
_EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


class GcpModelPlatform(ModelPlatformStack):
    """A platform stack on an existing GKE cluster, with a GCS registry and Workload Identity."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        project: str,
        location: str,
        cluster_name: str,
        registry_bucket: str,
        namespace: str = "default",
        image: ProjectImage = DEFAULT_IMAGE,
        bucket_location: str | None = None,
        registry_writers: Sequence[str] = (),
    ) -> None:
        """- `project`: the GCP project id of the cluster, bucket and service accounts.
        - `location`: the cluster's region or zone, e.g. "europe-west1".
        - `cluster_name`: the existing GKE cluster the workloads run on.
        - `registry_bucket`: the bucket this stack creates for the registry; the registry root
          is `gs://<registry_bucket>/registry`.
        - `namespace`: where workloads go. Default: "default".
        - `image`: the tfprod image (repository, tag, optional digest) of the gateway,
          controller and registry pulls. Default: "ghcr.io/tfprod/tfprod:0.1.0".
        - `bucket_location`: the bucket's location. Default: None, the cluster's region
          (`location` without a zone suffix).
        - `registry_writers`: Kubernetes service accounts that may also write registry
          objects (e.g. a training job pushing versions); their Google service accounts are
          created up front, and `service_account_annotations(name)` gives the annotation to
          put on them. Default: none; every service account only reads.
        """
        super().__init__(scope, id, namespace=namespace, image=image)
        check_name(self, "project", project, _PROJECT, _PROJECT_RULE)
        check_name(self, "location", location, _LOCATION, _LOCATION_RULE)
        check_name(self, "cluster_name", cluster_name, _CLUSTER_NAME, _CLUSTER_NAME_RULE)
        check_name(self, "registry_bucket", registry_bucket, BUCKET_NAME, BUCKET_NAME_RULE)
        self.project = project
        self._writers = check_writers(self, registry_writers)
        self._annotations: dict[str, Mapping[str, str]] = {}

        GoogleProvider(self, "google", project=project)
        self.cluster = DataGoogleContainerCluster(
            self, "cluster", name=cluster_name, location=location, project=project
        )
        self.use_kubernetes(
            KubernetesProvider(
                self,
                "kubernetes",
                host=f"https://{self.cluster.endpoint}",
                cluster_ca_certificate=Fn.base64decode(
                    self.cluster.get_string_attribute("master_auth[0].cluster_ca_certificate")
                ),
                exec=[
                    KubernetesProviderExec(
                        api_version=_EXEC_API_VERSION, command="gke-gcloud-auth-plugin"
                    )
                ],
            )
        )
        self.bucket = StorageBucket(
            self,
            "registry-bucket",
            name=registry_bucket,
            project=project,
            location=(bucket_location or _region(location)).upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
        )
        self.use_registry(
            ModelRegistry(self, "registry", uri=f"gs://{registry_bucket}/{REGISTRY_PREFIX}")
        )
        for writer in sorted(self._writers):
            self.service_account_annotations(writer)

    def service_account_annotations(self, service_account_name: str) -> Mapping[str, str]:
        """`iam.gke.io/gcp-service-account` of the Google service account that
        `service_account_name` acts as, created (once per name) with read access to the
        registry bucket, and write access for writers."""
        if service_account_name not in self._annotations:
            account = self._google_service_account(service_account_name)
            self._annotations[service_account_name] = {SERVICE_ACCOUNT_ANNOTATION: account.email}
        return self._annotations[service_account_name]

    def _google_service_account(self, service_account: str) -> ServiceAccount:
        account = ServiceAccount(
            self,
            f"{service_account}-google-service-account",
            account_id=_account_id(service_account, self.namespace),
            project=self.project,
            display_name=f"tfprod {self.namespace}/{service_account}",
        )
        roles = [("read", "roles/storage.objectViewer")]
        if service_account in self._writers:
            roles.append(("write", "roles/storage.objectUser"))
        for access, role in roles:
            StorageBucketIamMember(
                self,
                f"{service_account}-registry-{access}",
                bucket=self.bucket.name,
                role=role,
                member=account.member,
            )
        ServiceAccountIamMember(
            self,
            f"{service_account}-workload-identity",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=f"serviceAccount:{self.project}.svc.id.goog[{self.namespace}/{service_account}]",
        )
        return account


def _account_id(service_account: str, namespace: str) -> str:
    """A Google service account id for `namespace/service_account`: 6 to 30 characters,
    starting with a letter (prefixed "k8s-" when it would not)."""
    text = f"{service_account}-{namespace}"
    if len(text) < _ACCOUNT_ID_MIN or not text[0].isalpha():
        text = f"k8s-{text}"
    return bounded_name(text, _ACCOUNT_ID_LIMIT)


def _region(location: str) -> str:
    """The region of a GCP region or zone: 'europe-west1-b' -> 'europe-west1'."""
    head, _, tail = location.rpartition("-")
    return head if len(tail) == 1 else location
