"""Photos and documents from citizens, kept safely for the reimbursement flow.

Only JPEG, PNG and PDF are accepted, recognised by their content (the declared type and
the file name are not trusted); the size is capped; each file gets a random name under
VAR_DIR/uploads/YYYY/MM with owner-only permissions. The original name is not kept.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ALLOWED = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


class UploadRejected(Exception):
    def __init__(self, reason: str) -> None:  # "too_big" | "type"
        super().__init__(reason)
        self.reason = reason


def sniff_mime(content: bytes) -> str | None:
    """The real type of the content, if it is one we accept."""
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


@dataclass(frozen=True)
class SavedFile:
    relative_path: str
    mime_type: str
    size_bytes: int
    sha256: str


class UploadStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def check_declared_size(self, size: int | None) -> None:
        if size is not None and size > self.max_bytes:
            raise UploadRejected("too_big")

    def save(self, content: bytes, *, now: datetime) -> SavedFile:
        if len(content) > self.max_bytes:
            raise UploadRejected("too_big")
        mime = sniff_mime(content)
        if mime is None:
            raise UploadRejected("type")
        return self.keep(content, mime_type=mime, extension=ALLOWED[mime], now=now)

    def keep(self, content: bytes, *, mime_type: str, extension: str, now: datetime) -> SavedFile:
        """Write a file we made ourselves (a document for the citizen), without the checks
        meant for what citizens send."""
        folder = Path(f"{now:%Y}") / f"{now:%m}"
        relative = folder / f"{secrets.token_hex(16)}.{extension}"
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        return SavedFile(
            relative_path=relative.as_posix(),
            mime_type=mime_type,
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )

    def path_of(self, relative_path: str) -> Path:
        """The absolute path of a stored file, refusing anything outside the uploads folder."""
        path = (self.root / relative_path).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("path outside the uploads folder")
        return path
