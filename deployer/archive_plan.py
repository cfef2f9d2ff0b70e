"""Decide whether a tarball's members stay inside the target, before anything is written.

`plan_members` replays the members on a model of the tree the earlier ones built, resolving
every name and link the way the kernel would (bounded), and refuses the archive with a message
naming the member; what it returns are writes that never cross a link. Pure: no disk access.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass

MAX_NAME = 4096  # PATH_MAX: longer names or link targets are refused
MAX_LINK_HOPS = 40  # the kernel's own limit on links followed in one lookup
MAX_MEMBERS = 200_000
MAX_RESOLVE_STEPS = 1_000_000  # total path components walked while checking links, per archive

Parts = tuple[str, ...]


class ArchiveError(ValueError):
    """The archive is unreadable or unsafe; the message names the member and why."""


@dataclass(frozen=True, slots=True)
class Link:
    """A symlink in the model, with its target and member name as written in the archive."""

    target: str
    name: str


DIR, FILE = "dir", "file"
Node = str | Link


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """One write of the plan: `path` is relative to the target and crosses no link."""

    kind: str  # "dir" | "file" | "symlink" | "hardlink"
    path: Parts
    member: tarfile.TarInfo
    source: Parts = ()  # the earlier file a hard link shares


class _Escape(Exception):
    def __init__(self, via: list[Parts]) -> None:
        self.via = via  # the links followed on the way out, in order


class _Tree:
    """The extracted tree as the members so far would leave it, root = ()."""

    def __init__(self, label: str) -> None:
        self.nodes: dict[Parts, Node] = {(): DIR}
        self.label = label
        self.budget = MAX_RESOLVE_STEPS

    def resolve(self, start: Parts, target: str) -> Parts:
        """Where `target`, read from folder `start`, ends up with every link followed."""
        nodes, current = self.nodes, start
        pending = target.split("/")[::-1]  # a stack: the next component is last
        hops = 0
        via: list[Parts] = []
        while pending:
            self.budget -= 1
            if self.budget < 0:
                raise ArchiveError(
                    f"{self.label} refused: its links take more than {MAX_RESOLVE_STEPS} steps to check"
                )
            part = pending.pop()
            if part in ("", "."):
                continue
            if part == "..":
                if not current:
                    raise _Escape(via)
                current = current[:-1]
                continue
            here = (*current, part)
            node = nodes.get(here)
            if isinstance(node, Link):
                hops += 1
                if hops > MAX_LINK_HOPS:
                    raise ArchiveError(
                        f"{self.label} refused: resolving {target!r} follows more than "
                        f"{MAX_LINK_HOPS} links (at {'/'.join(here)!r})"
                    )
                via.append(here)
                pending.extend(reversed(node.target.split("/")))
                continue
            current = here
        return current


def _name_parts(name: str, member: str, label: str, *, what: str = "its name") -> Parts:
    if len(name) > MAX_NAME:
        raise ArchiveError(
            f"{label} refused: member {member[:80]!r}...: {what} is over {MAX_NAME} characters"
        )
    if "\\" in name:
        raise ArchiveError(
            f"{label} refused: member {member!r}: {what} {name!r} has a backslash; "
            "folders are separated by '/'"
        )
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if name.startswith("/") or ".." in parts:
        raise ArchiveError(f"{label} refused: member {member!r}: {what} {name!r} leaves the build folder")
    return parts


def _check_link_text(member: tarfile.TarInfo, label: str) -> None:
    """A symlink's target may climb with `..` (resolution decides); it may not be absolute."""
    target, why = member.linkname, ""
    if not target:
        why = "is empty"
    elif len(target) > MAX_NAME:
        why = f"is over {MAX_NAME} characters"
    elif "\\" in target:
        why = "has a backslash; folders are separated by '/'"
    elif target.startswith("/"):
        why = "is absolute, outside the build folder"
    if why:
        raise ArchiveError(f"{label} refused: link {member.name!r} -> {target[:200]!r}: the target {why}")


def _name_of(tree: _Tree, path: Parts) -> str:
    """A link as the archive named it; anything else as its path in the target."""
    node = tree.nodes.get(path)
    return node.name if isinstance(node, Link) else "/".join(path) or "."


def strip_top(members: list[tarfile.TarInfo]) -> str | None:
    """The single `<owner>-<repo>-<sha>/` folder GitHub wraps everything in, if there is one."""
    parts = [tuple(p for p in m.name.split("/") if p not in ("", ".")) for m in members]
    tops = {p[0] for p in parts if p}
    if len(tops) != 1 or not any(len(p) > 1 for p in parts):
        return None
    if all(len(p) > 1 or (p and m.isdir()) for p, m in zip(parts, members, strict=True)):
        return tops.pop()
    return None


def plan_members(
    members: list[tarfile.TarInfo], *, label: str = "upload", max_bytes: int
) -> list[PlannedWrite]:
    """Check every member against the tree the earlier ones built; the writes, or ArchiveError."""
    top = strip_top(members)
    tree = _Tree(label)
    steps: list[PlannedWrite] = []
    total = 0
    for member in members:
        parts = _name_parts(member.name, member.name, label)
        if top is not None:
            parts = parts[1:]
        if not parts:
            continue
        _check_parents(tree, parts, member.name, label)
        earlier = tree.nodes.get(parts)
        if earlier is not None and not (earlier == DIR and member.isdir()):
            kind = "link" if isinstance(earlier, Link) else ("folder" if earlier == DIR else "file")
            raise ArchiveError(
                f"{label} refused: member {member.name!r} would replace the {kind} "
                "an earlier member made there"
            )
        if member.isdir():
            tree.nodes[parts] = DIR
            steps.append(PlannedWrite("dir", parts, member))
        elif member.issym():
            _check_link_text(member, label)
            tree.nodes[parts] = Link(member.linkname, member.name)
            steps.append(PlannedWrite("symlink", parts, member))
        elif member.islnk():
            source = _name_parts(member.linkname, member.name, label, what="its link target")
            source = source[1:] if top is not None else source
            if tree.nodes.get(source) != FILE:
                raise ArchiveError(
                    f"{label} refused: hard link {member.name!r} names {member.linkname!r}, "
                    "which is not an earlier file of the archive"
                )
            tree.nodes[parts] = FILE
            steps.append(PlannedWrite("hardlink", parts, member, source))
        elif member.isfile():
            total += member.size
            if total > max_bytes:
                raise ArchiveError(f"source expands past {max_bytes} bytes; the limit is {max_bytes}")
            tree.nodes[parts] = FILE
            steps.append(PlannedWrite("file", parts, member))
        else:
            raise ArchiveError(
                f"{label} refused: member {member.name!r} is a device, fifo or other special file"
            )
    # links are checked on the finished tree: a later member can turn an earlier link's harmless
    # path into an escape (`x -> b/..`, then `b -> .`), and nothing is written before this
    for path, node in list(tree.nodes.items()):
        if isinstance(node, Link):
            _check_link(tree, path, label)
    return steps


def _check_parents(tree: _Tree, parts: Parts, name: str, label: str) -> None:
    """Every folder on the way must be a real folder: members are never written through links."""
    for depth in range(1, len(parts)):
        prefix = parts[:depth]
        node = tree.nodes.get(prefix)
        if isinstance(node, Link):
            try:
                tree.resolve((), "/".join(parts))
                where, why = "through", "; members may not be written through links"
            except _Escape:
                where, why = "outside the build folder through", ""
            link = _name_of(tree, prefix)
            raise ArchiveError(
                f"{label} refused: member {name!r} would be written {where} link {link!r}{why}"
            )
        if node == FILE:
            raise ArchiveError(
                f"{label} refused: member {name!r} needs {_name_of(tree, prefix)!r} to be a folder, "
                "but an earlier member made it a file"
            )
        if node is None:
            tree.nodes[prefix] = DIR


def _check_link(tree: _Tree, path: Parts, label: str) -> None:
    link = tree.nodes[path]
    assert isinstance(link, Link)
    try:
        tree.resolve(path[:-1], link.target)
    except _Escape as escape:
        others = [repr(_name_of(tree, p)) for p in dict.fromkeys(escape.via) if p != path]
        via = f" (through link{'s' if len(others) > 1 else ''} {', '.join(others)})" if others else ""
        raise ArchiveError(
            f"{label} refused: link {link.name!r} -> {link.target!r} resolves outside the build folder{via}"
        ) from None
