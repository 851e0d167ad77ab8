"""conversations.uploads: JPEG, PNG and PDF only, known by content, size-capped, random names."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from conversations.uploads import UploadRejected, UploadStore, sniff_mime
from core.timeutil import utcnow

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
PDF = b"%PDF-1.7\n" + b"%" * 100


def test_types_are_recognised_by_content() -> None:
    assert sniff_mime(JPEG) == "image/jpeg"
    assert sniff_mime(PNG) == "image/png"
    assert sniff_mime(PDF) == "application/pdf"
    assert sniff_mime(b"MZ\x90\x00 executable") is None
    assert sniff_mime(b"<html>") is None


def test_saved_with_random_name_and_owner_only_permissions(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "uploads", max_bytes=1000)
    first = store.save(JPEG, now=utcnow())
    second = store.save(JPEG, now=utcnow())
    assert first.relative_path != second.relative_path
    assert first.relative_path.endswith(".jpg") and first.mime_type == "image/jpeg"
    path = store.path_of(first.relative_path)
    assert path.read_bytes() == JPEG
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.sha256) == 64


def test_too_big_and_wrong_type_are_refused(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "uploads", max_bytes=50)
    with pytest.raises(UploadRejected) as too_big:
        store.save(JPEG, now=utcnow())
    assert too_big.value.reason == "too_big"
    with pytest.raises(UploadRejected) as wrong:
        UploadStore(tmp_path / "u2", max_bytes=1000).save(b"GIF89a....", now=utcnow())
    assert wrong.value.reason == "type"
    with pytest.raises(UploadRejected):
        store.check_declared_size(51)
    store.check_declared_size(None)


def test_paths_cannot_escape_the_uploads_folder(tmp_path: Path) -> None:
    store = UploadStore(tmp_path / "uploads", max_bytes=1000)
    with pytest.raises(ValueError):
        store.path_of("../../etc/passwd")
