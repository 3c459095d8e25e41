import pytest

from tfprod.policy import PolicyError, artifact_uri, split_artifact_uri


def test_artifact_uri_places_model_and_version_under_the_registry_root() -> None:
    uri = artifact_uri("s3://ml-models/registry/", "rec", "v2.1.0")
    assert uri == "s3://ml-models/registry/models/rec/versions/v2.1.0"
    assert split_artifact_uri(uri) == ("s3://ml-models/registry", "rec", "v2.1.0")


def test_split_artifact_uri_keeps_a_registry_root_that_itself_contains_models() -> None:
    uri = artifact_uri("file:///srv/models", "fraud", "7")
    assert split_artifact_uri(uri) == ("file:///srv/models", "fraud", "7")


@pytest.mark.parametrize(
    "uri", ["s3://bucket/rec/v1", "s3://bucket/models/rec/versions/", "s3://b/models/rec/v/1"]
)
def test_split_artifact_uri_rejects_other_shapes(uri: str) -> None:
    with pytest.raises(PolicyError) as error:
        split_artifact_uri(uri)
    assert str(error.value) == (
        f"artifact {uri!r} is not of the form <registry>/models/<model>/versions/<version>"
    )
