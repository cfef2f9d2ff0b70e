"""An app that listens on another port than $PORT fails within seconds, naming both ports."""

from __future__ import annotations

import time

import pytest

from deployer.targets.local.ports import listening_sockets, session_of, socket_inode

TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4711 1 0 100 0 0 10 0
   1: 0100007F:1388 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 4712 1 0 20 4 30 10 -1
   2: 00000000:CD14 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0 100 0 0 10 0
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5150 1 0 100 0 0 10 0
"""


@pytest.mark.parametrize(
    ("table", "expected"),
    [(TCP, {4711: 5000, 99: 52500}), (TCP6, {5150: 8080}), ("", {}), ("header only\n", {})],
    ids=["tcp: listening only", "tcp6", "empty", "header"],
)
def test_listening_sockets(table, expected):
    assert listening_sockets(table) == expected


@pytest.mark.parametrize(
    ("stat", "session"),
    [
        ("4242 (node) S 4200 4242 4200 0 -1 4194560 1 0", 4200),
        ("77 (my (odd) app) R 1 77 77 0 -1 0", 77),
        ("", None),
    ],
)
def test_session_of(stat, session):
    assert session_of(stat) == session


@pytest.mark.parametrize(
    ("link", "inode"), [("socket:[4711]", 4711), ("pipe:[12]", None), ("/dev/null", None)]
)
def test_socket_inode(link, inode):
    assert socket_inode(link) == inode


@pytest.mark.slow
async def test_app_on_a_hard_coded_port_fails_at_once(deployer, app_copy):
    folder = app_copy("static", "fixed")
    # the child of a shell, as with `npm start`: the whole process tree is looked at
    (folder / "autostack.yml").write_text(
        "build:\n  start: sh -c 'python3 -m http.server 52417 --bind 127.0.0.1'\n"
        "run:\n  healthcheck: {timeout: 60}\n"
    )
    started = time.monotonic()
    row = await deployer.deploy(folder)

    assert row.state == "failed"
    assert time.monotonic() - started < 15  # not the 60 s health timeout
    assert row.phases["health"]["seconds"] < 5
    port = row.reason.rsplit("PORT=", 1)[1].rstrip(")")
    assert (
        row.reason
        == f"health failed: the app listens on 52417; listen on $PORT (this deployment gave PORT={port})"
    )
    assert port.isdigit() and port != "52417"
