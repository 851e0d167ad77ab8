"""Owner-only files under VAR_DIR (databases, Rasa's tracker store, uploads, logs, secrets).

``restrict_umask()`` (umask 077) is the first thing every process of ours does, so every file
it creates, and every file of the children it starts (Rasa, the action server), is 0600 and
every folder 0700. ``secure_tree(VAR_DIR)`` fixes what an older run left readable; it runs at
start (``make run``, the gateway) and never follows symbolic links.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077


def restrict_umask() -> int:
    """Sets umask 077 for this process and its children; returns the previous one."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """``path`` created (with its parents) and made 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """``path`` created empty when missing, and made 0600 (before anything writes into it)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


def secure_tree(root: Path) -> int:
    """Removes group and other permissions from ``root`` and everything under it that this
    user owns (symbolic links untouched). Returns how many entries were changed."""
    if not root.exists():
        return 0
    changed = 0
    uid = os.getuid()
    for path in [root, *root.rglob("*")]:
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode) or info.st_uid != uid or not info.st_mode & 0o077:
            continue
        try:
            os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)
        except OSError:
            continue
        changed += 1
    return changed
