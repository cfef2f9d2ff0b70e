"""A Spring Boot app built with Maven deploys untouched on the local target and serves its page."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
APP = Path(__file__).resolve().parents[1] / "fixtures" / "apps" / "spring-maven"
# what Maven prints when the registry refuses or cannot be reached: the one reason to skip
REGISTRY_REFUSED = re.compile(
    r"^.*(Could not transfer artifact|Non-resolvable parent POM|Could not resolve dependencies"
    r"|Plugin .* could not be resolved).*$",
    re.MULTILINE,
)


async def test_spring_boot_maven_app_serves_its_page(deployer, sink, tmp_path):
    if shutil.which("mvn") is None or shutil.which("java") is None:
        pytest.skip("this machine has no mvn or java on PATH")
    folder = shutil.copytree(APP, tmp_path / "spring", ignore=shutil.ignore_patterns("target"))

    row = await deployer.deploy(folder, project="spring")

    log = sink.log(row.id)
    if row.state == "failed" and (refused := REGISTRY_REFUSED.search(log)):
        pytest.skip(f"Maven Central refused an artifact: {refused.group(0).strip()}")
    assert row.state == "ready", (row.reason, log[-3000:])
    assert row.framework == "spring-boot"
    assert "found a Spring Boot Maven project" in log
    assert "package cache empty, filled by this build: maven" in log or (
        "package cache restored from earlier builds: maven" in log
    )
    page = await deployer.get("spring")
    assert page.status_code == 200 and page.text == "Hello from Spring Boot"
    started = next(line for line in log.splitlines() if line.startswith("starting `"))
    assert "java -jar target/*.jar" in started


async def test_a_warm_maven_build_reads_the_kept_repository(deployer, sink, tmp_path):
    if shutil.which("mvn") is None or shutil.which("java") is None:
        pytest.skip("this machine has no mvn or java on PATH")
    folder = shutil.copytree(APP, tmp_path / "spring", ignore=shutil.ignore_patterns("target"))
    first = await deployer.deploy(folder, project="spring-warm")
    if first.state == "failed" and (refused := REGISTRY_REFUSED.search(sink.log(first.id))):
        pytest.skip(f"Maven Central refused an artifact: {refused.group(0).strip()}")
    assert first.state == "ready", first.reason
    source = folder / "src" / "main" / "java" / "com" / "example" / "hello" / "HelloApplication.java"
    source.write_text(source.read_text().replace("Hello from Spring Boot", "Hello again from Spring Boot"))

    second = await deployer.deploy(folder, project="spring-warm")

    assert second.state == "ready", second.reason
    log = sink.log(second.id)
    assert "package cache restored from earlier builds: maven" in log
    assert "Downloading from" not in log  # every artifact came from the kept repository
    assert (await deployer.get("spring-warm")).text == "Hello again from Spring Boot"
