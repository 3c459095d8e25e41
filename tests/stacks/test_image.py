"""The tfprod image is a stack setting: repository, tag and optional digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.constructs.stacks import synthesized
from tfprod.constructs import App, ConstructError, ModelDeployment, ProjectImage
from tfprod.stacks import ClusterModelPlatform

DIGEST = "sha256:" + "ab" * 32


def images(outdir: Path, stack: str) -> dict[str, str]:
    """Image of every container and init container of `stack`, by container name."""
    found = {}
    for resource in synthesized(outdir, stack)["resource"]["kubernetes_deployment_v1"].values():
        pod = resource["spec"]["template"]["spec"]
        for container in pod["container"] + pod.get("init_container", []):
            found[f"{resource['metadata']['name']}/{container['name']}"] = container["image"]
    return found


def synth(tmp_path: Path, **settings: object) -> dict[str, str]:
    outdir = tmp_path / "out"
    app = App(outdir=str(outdir))
    platform = ClusterModelPlatform(
        app, "ml", registry_uri="s3://ml/registry", namespace="ml", **settings
    )
    ModelDeployment(
        platform, "rec", name="rec", model="rec", version="rec-v1", environment="staging"
    )
    app.synth()
    return images(outdir, "ml")


def test_every_tfprod_container_runs_the_stacks_image_pinned_by_digest(tmp_path: Path) -> None:
    image = ProjectImage(repository="registry.example.com/ml/tfprod", tag="1.2.3", digest=DIGEST)
    assert synth(tmp_path, image=image) == {
        "rec-rec-v1/pull-model": f"registry.example.com/ml/tfprod:1.2.3@{DIGEST}",
        "rec-rec-v1/serving": "tensorflow/serving:2.19.0",
        "tfprod-gateway/gateway": f"registry.example.com/ml/tfprod:1.2.3@{DIGEST}",
        "tfprod-controller/controller": f"registry.example.com/ml/tfprod:1.2.3@{DIGEST}",
    }


def test_the_default_image_is_the_projects_release(tmp_path: Path) -> None:
    found = synth(tmp_path)
    assert {name: image for name, image in found.items() if "serving" not in name} == {
        "rec-rec-v1/pull-model": "ghcr.io/tfprod/tfprod:0.1.0",
        "tfprod-gateway/gateway": "ghcr.io/tfprod/tfprod:0.1.0",
        "tfprod-controller/controller": "ghcr.io/tfprod/tfprod:0.1.0",
    }


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (
            ProjectImage(digest="sha256:abc"),
            "ml: image.digest: 'sha256:abc' is not a digest; allowed: 'sha256:' and 64 hex digits",
        ),
        (
            ProjectImage(tag="-latest"),
            "ml: image.tag: '-latest' is not an image tag; allowed: 1 to 128 letters, digits,"
            " '_', '.' or '-', not starting with '.' or '-'",
        ),
        (
            ProjectImage(repository="GHCR.io/Acme"),
            "ml: image.repository: 'GHCR.io/Acme' is not an image repository; allowed:"
            " lower-case path components separated by '/', e.g. 'ghcr.io/acme/tfprod'",
        ),
    ],
)
def test_a_bad_image_setting_names_the_field_and_the_value(
    image: ProjectImage, message: str
) -> None:
    with pytest.raises(ConstructError) as error:
        ClusterModelPlatform(App(), "ml", registry_uri="s3://ml/registry", image=image)
    assert str(error.value) == message
