"""Go, Rust, Java, Procfile-only and plain static apps (pure)."""

from __future__ import annotations

import re
from pathlib import Path

from deployer.detect_base import Detection, as_dict, first_line, read_toml


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else ""


def detect_go(root: Path) -> Detection:
    """A Go module, built into one static binary."""
    locks = ("go.mod", "go.sum") if (root / "go.sum").is_file() else ("go.mod",)
    match = re.search(r"^go\s+(\d+\.\d+(?:\.\d+)?)\s*$", _read(root / "go.mod"), re.MULTILINE)
    return Detection(
        "go",
        "go",
        "found go.mod",
        "go mod download",
        "go build -o app .",
        "./app",
        8080,
        None,
        locks,
        match.group(1) if match else None,
        "go.mod" if match else None,
    )


def rust_version(root: Path) -> tuple[str, str] | None:
    """(channel, file) from rust-toolchain.toml or rust-toolchain (either form)."""
    for name in ("rust-toolchain.toml", "rust-toolchain"):
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if "[toolchain]" in text:
            channel = as_dict(read_toml(path).get("toolchain")).get("channel")
            return (str(channel), name) if channel else None
        line = first_line(path)
        return (line, name) if line else None
    return None


def detect_rust(root: Path) -> Detection:
    """A Cargo project: `cargo build --release`, then the binary [[bin]] or the package names."""
    manifest = read_toml(root / "Cargo.toml")
    bins = [b for b in manifest.get("bin", []) if isinstance(b, dict) and b.get("name")]
    name = str(bins[0]["name"]) if bins else str(as_dict(manifest.get("package")).get("name") or "app")
    locked = " --locked" if (root / "Cargo.lock").is_file() else ""
    locks = ("Cargo.toml", "Cargo.lock") if locked else ("Cargo.toml",)
    version = rust_version(root)
    where = "[[bin]] in Cargo.toml" if bins else "the package name in Cargo.toml"
    return Detection(
        "rust",
        "rust",
        f"found Cargo.toml; runs the {name} binary ({where})",
        f"cargo fetch{locked}",
        f"cargo build --release{locked}",
        f"./target/release/{name}",
        8080,
        None,
        locks,
        version[0] if version else None,
        version[1] if version else None,
        build_cache=("target",),
    )


def java_version(root: Path) -> tuple[str, str] | None:
    """(version, file) from system.properties, pom.xml or build.gradle(.kts)."""
    if match := re.search(r"java\.runtime\.version\s*=\s*(\S+)", _read(root / "system.properties")):
        return match.group(1), "system.properties"
    pom = _read(root / "pom.xml")
    for tag in ("java.version", "maven.compiler.release", "maven.compiler.source"):
        if match := re.search(rf"<{re.escape(tag)}>\s*([\d.]+)\s*<", pom):
            return match.group(1), f"pom.xml {tag}"
    for name in ("build.gradle", "build.gradle.kts"):
        text = _read(root / name)
        if match := re.search(
            r"JavaLanguageVersion\.of\((\d+)\)|VERSION_(\d+)|Compatibility\s*=\s*['\"]?(\d+)", text
        ):
            return next(g for g in match.groups() if g), name
    return None


def detect_java(root: Path) -> Detection:
    """A Maven or Gradle project, packaged without tests and run with `java -jar`."""
    version = java_version(root)
    if (root / "pom.xml").is_file():
        pom = _read(root / "pom.xml")
        mvn = "./mvnw" if (root / "mvnw").is_file() else "mvn"
        install, build = f"{mvn} -B -q dependency:go-offline", f"{mvn} -B -DskipTests package"
        jar, tool, locks = "target/*.jar", "Maven", ("pom.xml",)
        spring = "spring-boot" in pom
    else:
        script = next(n for n in ("build.gradle", "build.gradle.kts") if (root / n).is_file())
        gradle = "./gradlew" if (root / "gradlew").is_file() else "gradle"
        spring = "org.springframework.boot" in _read(root / script)
        install = None
        build = f"{gradle} --no-daemon {'bootJar' if spring else 'jar'} -x test"
        # Gradle also leaves a -plain.jar without dependencies next to the runnable one
        jar, tool, locks = (
            '$(ls build/libs/*.jar | grep -v -- "-plain.jar$" | head -n 1)',
            "Gradle",
            (script,),
        )
    if spring:
        start = f"java -jar {jar} --server.port=$PORT --server.address=127.0.0.1"
        framework, reason = "spring-boot", f"found a Spring Boot {tool} project"
    else:
        start, framework, reason = f"java -jar {jar}", "java", f"found a {tool} project"
    return Detection(
        framework,
        "java",
        reason,
        install,
        build,
        start,
        8080,
        None,
        locks,
        version[0] if version else None,
        version[1] if version else None,
    )


def detect_shell(start: str, source: str) -> Detection:
    """An app in any language that says itself how to start (Procfile web: or build.start)."""
    if source == "Procfile":
        return Detection("procfile", "shell", "found a Procfile with a web: line", start=start)
    return Detection(
        "custom", "shell", "no framework detected; build.start in autostack.yml says how to start"
    )


def detect_static(root: Path) -> Detection | None:
    """Plain HTML in the folder or in public/, served as it is."""
    for folder in (".", "public"):
        if (root / folder / "index.html").is_file():
            where = "index.html" if folder == "." else "public/index.html"
            return Detection(
                "static", "static", f"found {where} and no build files", static_dir=folder, port=8080
            )
    return None
