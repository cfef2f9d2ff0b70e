"""What a supervised app writes into its environment's runtime log: its output and AutoStack's
notes (started, exited, restarted), every secret masked, the exit told to the watcher."""

from __future__ import annotations

import asyncio

from deployer.targets.local.runner import Supervisor, free_port

SECRET = "sk_live_supervised_0123456789abcdef"


async def test_output_and_notes_are_recorded_masked_and_exits_are_told(tmp_path):
    recorded: list[tuple[str, str]] = []
    exits: list[int | None] = []

    async def exited(code: int | None) -> None:
        exits.append(code)

    # a user who put the secret in the start command itself
    supervisor = Supervisor(
        f"echo token={SECRET}; API_TOKEN={SECRET} exit 7",
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        port=free_port(),
        name="shop/production#3",
        secrets=[SECRET],
        record=lambda text, source: recorded.append((text, source)),
        max_backoff=0.2,
    )
    supervisor.on_exit = exited
    await supervisor.start()
    try:
        for _ in range(100):
            if len(exits) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await supervisor.stop()
    assert exits[:2] == [7, 7]
    assert all(SECRET not in text for text, _ in recorded)
    assert recorded[0] == ("shop/production#3: starting `echo token=•••; API_TOKEN=••• exit 7` on port "
                           f"{supervisor.port}", "autostack")  # fmt: skip
    assert ("token=•••", "app") in recorded
    assert ("the app exited with code 7; restarting it in 0.5 s", "autostack") in recorded
    assert any(text.startswith("restarted `echo token=•••;") for text, _ in recorded)
