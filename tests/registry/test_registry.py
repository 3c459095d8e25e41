"""Registry behaviour on all four backends, each against a real local server."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.registry.conftest import subprocess_env
from tfprod.runtime.registry import (
    SERVING_MAP_FILE,
    ChecksumMismatchError,
    NotFoundError,
    Registry,
    RegistryError,
    VersionExistsError,
    open_store,
    pull_artifact,
)

SAVED_MODEL_FILES = [
    "fingerprint.pb",
    "saved_model.pb",
    "variables/variables.data-00000-of-00001",
    "variables/variables.index",
]
SIGNATURE = {
    "serving_default": {
        "inputs": {"features": {"dtype": "float", "shape": [-1, 4]}},
        "outputs": {"probability": {"dtype": "float", "shape": [-1, 1]}},
    }
}


def test_register_then_get_returns_metadata_signature_and_checksums(
    registry_uri: str, saved_model_dir: Path
) -> None:
    registry = Registry(open_store(registry_uri), clock=lambda: "2026-11-30T12:00:00+00:00")

    registry.register(
        saved_model_dir,
        name="churn",
        version="2026.11.1",
        metadata={"owner": "risk-team"},
        dataset_version="ds-42",
        metrics={"auc": 0.91},
        reference_data=np.arange(20, dtype="float32").reshape(5, 4),
    )
    version = registry.get("churn", "2026.11.1")

    assert (version.name, version.version, version.serving_version) == ("churn", "2026.11.1", 1)
    assert version.created_at == "2026-11-30T12:00:00+00:00"
    assert version.dataset_version == "ds-42"
    assert version.metrics == {"auc": 0.91}
    assert version.metadata == {"owner": "risk-team"}
    assert version.signature == SIGNATURE
    assert [item.path for item in version.files] == SAVED_MODEL_FILES
    pb = version.files[1]
    assert pb.size == (saved_model_dir / "saved_model.pb").stat().st_size
    assert len(pb.sha256) == 64
    assert version.has_profile
    assert registry.reference_profile("churn", "2026.11.1").rows == 5
    assert registry.models() == ["churn"]


def test_reregistering_a_published_version_fails_and_keeps_the_original(
    registry_uri: str, saved_model_dir: Path, other_saved_model_dir: Path
) -> None:
    registry = Registry.open(registry_uri)
    original = registry.register(saved_model_dir, name="churn", version="v1")

    with pytest.raises(VersionExistsError) as raised:
        registry.register(other_saved_model_dir, name="churn", version="v1")

    assert str(raised.value) == (
        "model 'churn' version 'v1' is already published and versions are immutable; "
        "register it under a new version"
    )
    assert registry.get("churn", "v1").files == original.files


def test_versions_get_increasing_tf_serving_numbers(
    registry_uri: str, saved_model_dir: Path, other_saved_model_dir: Path
) -> None:
    registry = Registry.open(registry_uri)
    registry.register(saved_model_dir, name="churn", version="b-first")
    registry.register(other_saved_model_dir, name="churn", version="a-second")

    listed = [(item.version, item.serving_version) for item in registry.versions("churn")]

    assert listed == [("b-first", 1), ("a-second", 2)]


def test_pull_lays_out_a_servable_tf_serving_model_directory(
    registry_uri: str, saved_model_dir: Path, other_saved_model_dir: Path, tmp_path: Path
) -> None:
    import tensorflow as tf

    registry = Registry.open(registry_uri)
    registry.register(saved_model_dir, name="churn", version="v1")
    registry.register(other_saved_model_dir, name="churn", version="v2")
    registry.set_alias("churn", "stable", "v2")

    pulled = registry.pull("churn", "stable", tmp_path / "models")
    again = registry.pull("churn", "v1", tmp_path / "models")

    assert pulled == tmp_path / "models" / "churn" / "2"
    assert again == tmp_path / "models" / "churn" / "1"
    assert sorted(p.name for p in (tmp_path / "models" / "churn").iterdir()) == [
        "1",
        "2",
        SERVING_MAP_FILE,
    ]
    mapping = json.loads((tmp_path / "models" / "churn" / SERVING_MAP_FILE).read_text())
    assert mapping == {"1": "v1", "2": "v2"}
    features = tf.constant([[0.5, -1.0, 0.25, 2.0]])
    served = tf.saved_model.load(str(pulled)).signatures["serving_default"](features=features)
    original = tf.saved_model.load(str(other_saved_model_dir)).signatures["serving_default"](
        features=features
    )
    np.testing.assert_array_equal(served["probability"], original["probability"])


def test_pull_fails_naming_the_tampered_artifact(
    registry_uri: str, saved_model_dir: Path, tmp_path: Path
) -> None:
    registry = Registry.open(registry_uri)
    registry.register(saved_model_dir, name="churn", version="v1")
    store = open_store(registry_uri)
    (index_key,) = [key for key in store.list("models/") if key.endswith("variables.index")]
    stored = store.get(index_key)
    store.put_if_match(index_key, stored.data + b"tampered", stored.token)
    expected = registry.get("churn", "v1").files[3].sha256

    with pytest.raises(ChecksumMismatchError) as raised:
        registry.pull("churn", "v1", tmp_path / "models")

    assert raised.value.path == "variables/variables.index of model 'churn' version 'v1'"
    assert raised.value.expected == expected
    assert str(raised.value).startswith(
        "checksum mismatch for variables/variables.index of model 'churn' version 'v1': "
        f"expected sha256 {expected}, got "
    )
    assert not (tmp_path / "models" / "churn" / "1").exists()


def test_get_of_an_unknown_version_lists_versions_and_aliases(
    registry_uri: str, saved_model_dir: Path
) -> None:
    registry = Registry.open(registry_uri)
    registry.register(saved_model_dir, name="churn", version="v1")
    registry.set_alias("churn", "canary", "v1")

    with pytest.raises(NotFoundError) as unknown_version:
        registry.get("churn", "v9")
    with pytest.raises(NotFoundError) as unknown_model:
        registry.get("fraud", "v1")

    assert str(unknown_version.value) == (
        "version or alias 'v9' of model 'churn' not found; available: canary, v1"
    )
    assert str(unknown_model.value) == (
        f"model 'fraud' in {registry_uri} not found; available: churn"
    )


@pytest.mark.slow
def test_upload_killed_midway_leaves_no_visible_version(
    registry_uri: str, saved_model_dir: Path, tmp_path: Path
) -> None:
    # The child stops after storing two artifact files, before the commit record; then it
    # is killed with SIGKILL, so nothing of the registry's own clean-up can run.
    log = tmp_path / "child.log"
    with (
        log.open("wb") as stderr,
        subprocess.Popen(
            [sys.executable, "-c", _PAUSING_UPLOAD, registry_uri, str(saved_model_dir)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=subprocess_env(),
        ) as child,
    ):
        watchdog = threading.Timer(120, child.kill)
        watchdog.start()
        try:
            assert child.stdout is not None
            paused = child.stdout.readline() == b"paused\n"
            child.send_signal(signal.SIGKILL)
            child.wait()
        finally:
            watchdog.cancel()
    if not paused:
        pytest.fail(f"upload child did not pause: {log.read_text()[-2000:]}")
    registry = Registry.open(registry_uri)
    store = open_store(registry_uri)
    uploaded = [key for key in store.list("models/churn/uploads/") if "/artifact/" in key]

    assert len(uploaded) == 2
    assert registry.versions("churn") == []
    assert registry.models() == []
    with pytest.raises(NotFoundError):
        registry.get("churn", "v1")
    registry.register(saved_model_dir, name="churn", version="v1")
    assert registry.pull("churn", "v1", tmp_path / "models").is_dir()
    assert [item.version for item in registry.versions("churn")] == ["v1"]


_PAUSING_UPLOAD = """
import sys, time
from pathlib import Path
from tfprod.runtime.registry import Registry

uploaded = []

def pause_after_two(path):
    uploaded.append(path)
    if len(uploaded) == 2:
        print("paused", flush=True)
        time.sleep(600)

Registry.open(sys.argv[1]).register(
    Path(sys.argv[2]), name="churn", version="v1", on_file_uploaded=pause_after_two
)
"""


@pytest.mark.slow
def test_concurrent_alias_updates_lose_none(registry_uri: str, saved_model_dir: Path) -> None:
    workers, updates = 8, 20
    registry = Registry.open(registry_uri)
    for version in ("v1", "v2"):
        registry.register(saved_model_dir, name="churn", version=version)
    errors: list[BaseException] = []

    def update(worker: int) -> None:
        own = Registry.open(registry_uri)  # a client per worker, as separate processes would
        try:
            for step in range(updates):
                version = "v1" if (worker + step) % 2 else "v2"
                own.set_alias("churn", "canary", version, reason=f"{worker}/{step}")
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=update, args=(worker,)) for worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    history = registry.alias_history("churn", "canary")
    assert sorted(change.reason for change in history) == sorted(
        f"{worker}/{step}" for worker in range(workers) for step in range(updates)
    )
    for worker in range(workers):  # each worker's own updates stay in the order it made them
        steps = [c.reason for c in history if c.reason.startswith(f"{worker}/")]
        assert steps == [f"{worker}/{step}" for step in range(updates)]
    assert registry.aliases("churn") == {"canary": history[-1].version}


@pytest.mark.slow
def test_alias_updates_from_several_processes_lose_none(
    registry_uri: str, saved_model_dir: Path
) -> None:
    processes, updates = 4, 10
    registry = Registry.open(registry_uri)
    registry.register(saved_model_dir, name="churn", version="v1")
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _ALIAS_UPDATES, registry_uri, str(worker), str(updates)],
            env=subprocess_env(),
        )
        for worker in range(processes)
    ]
    try:
        codes = [child.wait(timeout=120) for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()

    assert codes == [0] * processes
    history = registry.alias_history("churn", "stable")
    assert sorted(change.reason for change in history) == sorted(
        f"{worker}/{step}" for worker in range(processes) for step in range(updates)
    )


_ALIAS_UPDATES = """
import sys
from tfprod.runtime.registry import Registry

registry = Registry.open(sys.argv[1])
for step in range(int(sys.argv[3])):
    registry.set_alias("churn", "stable", "v1", reason=f"{sys.argv[2]}/{step}")
"""


def test_register_exports_a_tensorflow_object_first(tmp_path: Path, saved_model_dir: Path) -> None:
    import tensorflow as tf

    registry = Registry.open(f"file://{tmp_path / 'registry'}")
    loaded = tf.saved_model.load(str(saved_model_dir))

    version = registry.register(loaded, name="churn", version="v1")

    assert version.signature == SIGNATURE
    assert "saved_model.pb" in [item.path for item in version.files]


def test_racing_registrations_of_one_version_publish_exactly_one(
    registry_uri: str, saved_model_dir: Path, other_saved_model_dir: Path, tmp_path: Path
) -> None:
    both_uploading = threading.Barrier(2, timeout=60)
    outcomes: dict[Path, str] = {}

    def register(source: Path) -> None:
        def wait_for_the_other(path: str) -> None:
            if path == "saved_model.pb":
                both_uploading.wait()

        try:
            Registry.open(registry_uri).register(
                source, name="churn", version="v1", on_file_uploaded=wait_for_the_other
            )
            outcomes[source] = "published"
        except VersionExistsError:
            outcomes[source] = "exists"

    threads = [
        threading.Thread(target=register, args=(source,))
        for source in (saved_model_dir, other_saved_model_dir)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["exists", "published"]
    (winner,) = [source for source, outcome in outcomes.items() if outcome == "published"]
    registry = Registry.open(registry_uri)
    pulled = registry.pull("churn", "v1", tmp_path / "models")
    assert (pulled / "variables" / "variables.data-00000-of-00001").read_bytes() == (
        winner / "variables" / "variables.data-00000-of-00001"
    ).read_bytes()
    uploads = {key.split("/")[4] for key in open_store(registry_uri).list("models/churn/uploads/")}
    assert len(uploads) == 1  # the loser removed its upload


def test_pulling_again_keeps_an_intact_copy_and_refuses_a_modified_one(
    tmp_path: Path, saved_model_dir: Path
) -> None:
    registry = Registry.open(f"file://{tmp_path / 'registry'}")
    registry.register(saved_model_dir, name="churn", version="v1")
    first = registry.pull("churn", "v1", tmp_path / "models")

    assert registry.pull("churn", "v1", tmp_path / "models") == first
    (first / "saved_model.pb").write_bytes(b"edited by hand")
    with pytest.raises(ChecksumMismatchError) as raised:
        registry.pull("churn", "v1", tmp_path / "models")

    assert raised.value.path == str(first / "saved_model.pb")
    assert raised.value.actual == hashlib.sha256(b"edited by hand").hexdigest()


def test_pull_artifact_follows_the_policy_artifact_uri(
    tmp_path: Path, saved_model_dir: Path
) -> None:
    from tfprod.policy import artifact_uri

    root = f"file://{tmp_path / 'registry'}"
    Registry.open(root).register(saved_model_dir, name="churn", version="v1.2")

    pulled = pull_artifact(artifact_uri(root, "churn", "v1.2"), tmp_path / "models")

    assert pulled == tmp_path / "models" / "churn" / "1"
    with pytest.raises(RegistryError) as raised:
        pull_artifact(f"{root}/churn/v1.2", tmp_path / "models")
    assert str(raised.value) == (
        f"artifact '{root}/churn/v1.2' is not of the form "
        "<registry>/models/<model>/versions/<version>"
    )
