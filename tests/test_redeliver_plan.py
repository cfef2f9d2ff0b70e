"""The delivery reconciler's pure parts and its settings: which deliveries are lost, how far back
a run reads, and the two settings' bounds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.github.hook_deliveries import DeliveryAttempt
from bot.settings import Settings, SettingsError
from bot.worker.redeliver import lost_deliveries, read_back_to
from store.models import utcnow

WINDOW = timedelta(hours=72)


def attempt(guid: str, at: int, status: int, ident: int | None = None) -> DeliveryAttempt:
    return DeliveryAttempt(
        id=ident or at,
        guid=guid,
        delivered_at=datetime.fromtimestamp(at, UTC),
        redelivery=False,
        status_code=status,
        event="push",
        action=None,
        installation_id=None,
    )


@pytest.mark.parametrize(
    ("attempts", "stored", "asked_before", "lost"),
    [
        ([attempt("a", 1, 503)], set(), set(), [1]),
        ([attempt("a", 1, 503), attempt("a", 2, 0)], set(), set(), [2]),  # the newest failed attempt
        ([attempt("a", 1, 503), attempt("a", 2, 200)], set(), set(), []),  # a later attempt succeeded
        ([attempt("a", 2, 503), attempt("a", 1, 204)], set(), set(), []),  # any success counts
        ([attempt("a", 1, 503)], {"a"}, set(), []),  # stored
        ([attempt("a", 1, 503)], set(), {"a"}, []),  # asked for before
        ([attempt("a", 1, 302), attempt("b", 1, 404)], set(), set(), [1, 1]),  # not 2xx is not OK
        ([attempt("b", 5, 503), attempt("a", 3, 503)], set(), set(), [3, 5]),  # oldest first
    ],
)
def test_which_deliveries_are_lost(attempts, stored, asked_before, lost):
    assert [a.id for a in lost_deliveries(attempts, stored, asked_before)] == lost


def test_a_run_reads_the_window_first_then_back_to_the_last_mark_with_an_overlap():
    now = utcnow()
    assert read_back_to(now, WINDOW, None) == now - WINDOW
    assert read_back_to(now, WINDOW, now - timedelta(hours=1)) == now - timedelta(minutes=70)
    assert read_back_to(now, WINDOW, now - timedelta(days=5)) == now - WINDOW


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"AUTOSTACK_REDELIVER_WINDOW": "73"}, "AUTOSTACK_REDELIVER_WINDOW=73 is out of range; use 1..72"),
        (
            {"AUTOSTACK_REDELIVER_INTERVAL": "soon"},
            "AUTOSTACK_REDELIVER_INTERVAL='soon' is not a whole number",
        ),
    ],
)
def test_bad_reconciler_settings_are_named(tmp_path, env, error):
    with pytest.raises(SettingsError, match=re.escape(error)):
        Settings.from_env(env, dotenv=tmp_path / "none")


def test_reconciler_settings_default_to_five_minutes_and_three_days(tmp_path):
    settings = Settings.from_env({}, dotenv=tmp_path / "none")
    assert (settings.redeliver_interval, settings.redeliver_window) == (5, 72)
