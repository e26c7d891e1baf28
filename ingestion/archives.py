"""Safe expansion of uploaded ZIP archives.

Nothing is trusted from the archive's headers: member names are never used as paths (only their
base names become document names), sizes are counted while reading, and the limits on member
count, total size and compression ratio are checked before and during extraction. An archive that
breaks any rule is refused whole, before a single document is created from it.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

BLOCK = 1024 * 1024


class UnsafeArchive(Exception):
    """The archive is refused; the message says why."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int
    max_total_bytes: int
    max_member_bytes: int
    max_ratio: int


@dataclass
class Member:
    name: str  # path inside the archive, as written there (for messages)
    file: IO[bytes]  # extracted content, positioned at 0

    @property
    def base_name(self) -> str:
        return PurePosixPath(self.name).name


def _skipped(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(part.startswith(".") or part == "__MACOSX" for part in parts)


def _unsafe_name(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")


def extract_members(archive_file: IO[bytes], limits: ArchiveLimits) -> list[Member]:
    """Every file in the archive, extracted to temporary files; raises UnsafeArchive."""
    try:
        archive = zipfile.ZipFile(archive_file)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeArchive(f"The ZIP archive is not readable ({exc}).") from exc
    with archive:
        for info in archive.infolist():
            if _unsafe_name(info.filename):
                raise UnsafeArchive(f"The archive has an unsafe path {info.filename!r}; refused.")
        infos = [i for i in archive.infolist() if not i.is_dir() and not _skipped(i.filename)]
        if len(infos) > limits.max_files:
            raise UnsafeArchive(
                f"The archive holds {len(infos)} files; the limit is {limits.max_files}."
            )
        for info in infos:
            if info.flag_bits & 0x1:
                raise UnsafeArchive("The archive is password-protected; upload it unencrypted.")
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise UnsafeArchive(
                    f"{info.filename!r} expands {ratio:.0f}:1 (limit {limits.max_ratio}:1): "
                    "refused as a possible ZIP bomb."
                )
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_total_bytes:
            raise UnsafeArchive(_too_big("The archive's contents", declared, limits))
        members, total = [], 0
        try:
            for info in infos:
                target = tempfile.SpooledTemporaryFile(max_size=8 * BLOCK)
                members.append(Member(info.filename, target))
                written = 0
                with archive.open(info) as source:
                    while block := source.read(BLOCK):
                        written += len(block)
                        total += len(block)
                        # Headers can lie about sizes: the counted bytes are what is enforced.
                        if written > min(limits.max_member_bytes, info.file_size):
                            raise UnsafeArchive(
                                f"{info.filename!r} is larger than its header says or than the "
                                f"{limits.max_member_bytes // BLOCK} MB limit; refused."
                            )
                        if total > limits.max_total_bytes:
                            raise UnsafeArchive(_too_big("The archive's contents", total, limits))
                        target.write(block)
                target.seek(0)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            _close(members)
            raise UnsafeArchive(f"The ZIP archive is damaged ({exc}).") from exc
        except UnsafeArchive:
            _close(members)
            raise
    return members


def _too_big(what: str, size: int, limits: ArchiveLimits) -> str:
    limit = limits.max_total_bytes // BLOCK
    return f"{what} ({size // BLOCK} MB) exceed the {limit} MB limit; refused."


def _close(members: list[Member]) -> None:
    for member in members:
        member.file.close()
