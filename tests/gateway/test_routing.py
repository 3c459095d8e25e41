"""Pure routing: weight ranges, sticky hashing, and monotone ramps."""

from __future__ import annotations

import pytest

from tfprod.runtime.gateway.routing import RoutingTable, key_point

USERS = [f"user-{i}" for i in range(20_000)]


def test_two_variants_send_a_user_to_the_canary_iff_the_point_is_below_its_weight() -> None:
    table = RoutingTable.build(["stable", "canary"], [0.9, 0.1])
    assert [table.names[table.pick(u)] for u in (0.0, 0.0999, 0.1, 0.5, 0.9999)] == [
        "canary", "canary", "stable", "stable", "stable",
    ]  # fmt: skip


def test_a_zero_weight_variant_is_never_picked() -> None:
    table = RoutingTable.build(["stable", "canary", "challenger"], [1, 0, 0])
    assert {table.pick(i / 1000) for i in range(1000)} == {0}
    only_last = RoutingTable.build(["stable", "canary", "challenger"], [0, 0, 3])
    assert {only_last.pick(i / 1000) for i in range(1000)} == {2}


def test_weights_are_normalised() -> None:
    assert RoutingTable.build(["a", "b"], [3, 1]).weights == (0.75, 0.25)


def test_key_points_are_stable_and_salted_by_model() -> None:
    assert key_point("user-1", "clf") == key_point("user-1", "clf")
    assert key_point("user-1", "clf") != key_point("user-1", "ranker")
    assert all(0.0 <= key_point(user, "clf") < 1.0 for user in USERS[:1000])


def test_sticky_shares_follow_the_weights() -> None:
    table = RoutingTable.build(["stable", "canary", "challenger"], [0.5, 0.3, 0.2])
    counts = [0, 0, 0]
    for user in USERS:
        counts[table.pick(key_point(user, "clf"))] += 1
    shares = [count / len(USERS) for count in counts]
    assert shares == pytest.approx([0.5, 0.3, 0.2], abs=0.015)


def test_ramping_the_canary_from_5_to_50_percent_never_moves_a_user_back_to_stable() -> None:
    points = {user: key_point(user, "clf") for user in USERS}
    in_canary: set[str] = set()
    for percent in range(5, 55, 5):
        table = RoutingTable.build(["stable", "canary"], [100 - percent, percent])
        now = {user for user, u in points.items() if table.names[table.pick(u)] == "canary"}
        assert in_canary <= now, f"users left the canary at {percent}%: {in_canary - now}"
        assert len(now) / len(USERS) == pytest.approx(percent / 100, abs=0.015)
        in_canary = now


def test_growing_the_second_variant_of_three_only_takes_users_from_the_first() -> None:
    points = [key_point(user, "clf") for user in USERS]
    before = RoutingTable.build(["stable", "canary", "challenger"], [0.8, 0.1, 0.1])
    after = RoutingTable.build(["stable", "canary", "challenger"], [0.6, 0.3, 0.1])
    moves = {(before.pick(u), after.pick(u)) for u in points if before.pick(u) != after.pick(u)}
    assert moves == {(0, 1)}


def test_new_weights_must_name_exactly_the_variants() -> None:
    table = RoutingTable.build(["stable", "canary"], [0.9, 0.1])
    with pytest.raises(ValueError) as error:
        table.with_weights({"stable": 1.0, "canray": 0.0})
    assert str(error.value) == (
        "weights must name exactly the variants stable, canary; missing: canary; unknown: canray"
    )


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([0, 0], "weights must not all be 0"),
        ([1, -0.5], "weights must be finite and >= 0, got [1, -0.5]"),
        ([1, float("nan")], "weights must be finite and >= 0, got [1, nan]"),
    ],
)
def test_bad_weights_are_refused(weights: list[float], message: str) -> None:
    with pytest.raises(ValueError) as error:
        RoutingTable.build(["stable", "canary"], weights)
    assert str(error.value) == message
