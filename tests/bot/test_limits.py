"""Admission: per-user cooldowns, per-guild caps and the global bound refuse politely."""

from __future__ import annotations

import pytest

from lstm_bot.limits import Admission, Cooldown, LimitsConfig
from shared_model import Busy, InvalidRequest


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cooldown_counts_starts_in_a_sliding_window():
    clock = Clock()
    adm = Admission(LimitsConfig(cooldown_uses=2, cooldown_seconds=10), clock=clock)
    adm.admit("u", "g").release()
    clock.now += 4
    adm.admit("u", "g").release()
    with pytest.raises(Cooldown) as err:
        adm.admit("u", "g")
    assert err.value.retry_after == pytest.approx(6.0)
    assert "try again in 6 s" in str(err.value)
    adm.admit("other", "g").release()  # someone else is not slowed down
    clock.now += 6
    adm.admit("u", "g").release()


def test_guild_cap_and_global_bound():
    adm = Admission(LimitsConfig(cooldown_uses=100, guild_concurrency=2, max_in_flight=3))
    a, b = adm.admit("u1", "g1"), adm.admit("u2", "g1")
    with pytest.raises(Busy, match="this server"):
        adm.admit("u3", "g1")
    c = adm.admit("u3", "g2")
    with pytest.raises(Busy, match="busy writing"):
        adm.admit("u4", "g3")
    assert adm.in_flight == 3
    with a:
        pass
    assert adm.in_flight == 2
    adm.admit("u3", "g1").release()
    for t in (b, c):
        t.release()
        t.release()  # idempotent
    assert adm.in_flight == 0


def test_direct_messages_are_capped_per_user():
    adm = Admission(LimitsConfig(cooldown_uses=100, guild_concurrency=1))
    held = adm.admit("u1", None)
    adm.admit("u2", None).release()
    with pytest.raises(Busy):
        adm.admit("u1", None)
    held.release()


def test_closed_admission_refuses():
    adm = Admission()
    adm.closed = True
    with pytest.raises(Busy, match="shutting down"):
        adm.admit("u", "g")


@pytest.mark.parametrize("kwargs", [{"cooldown_uses": 0}, {"cooldown_seconds": -1},
                                    {"guild_concurrency": 0}, {"max_in_flight": 0}])
def test_bad_limits_config(kwargs):
    with pytest.raises(InvalidRequest):
        LimitsConfig(**kwargs)
