"""The releasing half of a run: release and seed commands → start → health → switch, for a build
just made or reused, or for one that waited for its checks and was released later."""

from __future__ import annotations

from deployer.building import Built, build_seconds
from deployer.plan import Plan
from deployer.run import PipelineRun
from deployer.targets.base import Artifact
from store import deployment_runs, deployments


async def own_build(run: PipelineRun) -> Built:
    """The build this deployment made before it waited for its checks."""
    deployment = run.deployment
    await run.log("the required checks passed: releasing this build")
    facts = {
        "framework": deployment.framework or "",
        "reason": deployment.framework_reason or "",
        "artifact": deployment.artifact or "",
    }
    artifact = Artifact(deployment.artifact or "", cache_hit=bool(deployment.cache_hit))
    return Built(Plan.from_snapshot(deployment.config), artifact, facts)


async def one_offs(run: PipelineRun, plan: Plan, artifact: Artifact) -> None:
    """The release command, then (a preview's first time) the seed command, in the `release`
    phase: both before the new version gets traffic, so a failure leaves the old one serving."""
    environment = run.claim.environment
    seed = plan.seed if environment.kind == "preview" and environment.seeded_at is None else None
    if not plan.release and not seed:
        return
    await run.enter("release", "deploying")
    for what, command in (("release", plan.release), ("seed", seed)):
        if not command:
            continue
        source = f" (from {plan.release_source})" if what == "release" and plan.release_source else ""
        await run.log(f"{what}{source}: $ {command}")
        run.phase = what  # a failure reads `seed failed: …`; both are logged in the release phase
        await run.target.run_once(
            run.site, artifact, plan, command, run.run_env(plan), run.log, run.app_env.secrets, what
        )
        if what == "seed":
            await deployment_runs.mark_seeded(run.sessions, environment.id)
            await run.log("seed ran; later deployments of this preview do not run it again")


async def go_live(run: PipelineRun, plan: Plan, artifact: Artifact, facts: dict[str, str] | None) -> str:
    """Run the one-offs, start, check and switch to the build; return its URL. `facts` (of a
    fresh build) get its build time."""
    await one_offs(run, plan, artifact)
    await run.enter("start", "deploying")
    if facts is not None:
        # entering start closed the build phases, so their durations are final now
        seconds = await build_seconds(run)
        await deployments.update(run.sessions, run.id, build_seconds=seconds)
        facts["build_seconds"] = f"{seconds:.1f}"
    run.release = await run.target.release(
        run.site, artifact, plan, run.run_env(plan), run.log, secrets=run.app_env.secrets
    )
    await run.enter("health")
    await run.target.health(run.release, plan, run.log)
    await run.enter("switch")
    url = await run.target.switch(run.site, run.release)
    run.release = None  # the environment owns it now
    await run.log(f"{run.site.environment} is live at {url}")
    return url
