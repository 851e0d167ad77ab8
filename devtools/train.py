"""Train the Rasa model only when its inputs changed: ``python -m devtools.train``.

The inputs are config.yml, domain.yml, data/ (NLU, rules, stories, the safety rules), the
custom components in nlu/ and requirements/rasa.lock. Their hash is stored beside the model
(models/welcome.tar.gz.json); when it matches, nothing runs. Otherwise `rasa train` runs in
.venv-rasa, reusing Rasa's own cache in .rasa/cache, so only the changed parts retrain.
Without domain.yml (or without stories and rules) only the NLU model is trained.
A file lock makes concurrent callers (pytest sessions, `make run`) train once.

Prints the model's path.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.private_files import restrict_umask
from core.settings import PROJECT_ROOT, Settings, get_settings
from devtools.procutil import die_with_parent
from devtools.rasa_env import (
    CONFIG_FILE,
    DATA_DIR,
    DOMAIN_FILE,
    MODEL_NAME,
    MODELS_DIR,
    NLU_DATA_DIR,
    rasa_env,
    require_rasa,
)

DATA_SUFFIXES = {".yml", ".yaml", ".json", ".txt", ".md"}
RASA_LOCK = PROJECT_ROOT / "requirements" / "rasa.lock"
_DIALOGUE_KEY = re.compile(r"^(?:rules|stories):", re.MULTILINE)


@dataclass(frozen=True)
class TrainResult:
    model: Path
    trained: bool  # False when the stored model was up to date
    seconds: float
    nlu_only: bool


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and "__pycache__" not in child.parts:
                    yield child


def dialogue_files(data: Path = DATA_DIR) -> list[Path]:
    """Rules and stories: YAML files directly in data/ or in data/rules/, data/stories/.

    data/ also holds files that are not Rasa's (data/catalog/, data/safety/...): only these
    and data/nlu/ are given to Rasa.
    """
    candidates = [*data.glob("*.y*ml"), *data.glob("rules/*.y*ml"), *data.glob("stories/*.y*ml")]
    return sorted(
        path
        for path in candidates
        if _DIALOGUE_KEY.search(path.read_text(encoding="utf-8", errors="replace"))
    )


def has_dialogue(domain: Path = DOMAIN_FILE, data: Path = DATA_DIR) -> bool:
    """Whether a full model (NLU + dialogue) can be trained: a domain plus rules or stories."""
    return domain.is_file() and bool(dialogue_files(data))


# How a trained model is served (the launcher of `rasa run` and its speed-ups): they live
# beside the custom components but do not change the model, so they do not cause a training.
SERVING_ONLY = frozenset({Path("nlu/rasa_main.py"), Path("nlu/rasa_speedups.py")})


def inputs_fingerprint(config: Path, *, nlu_only: bool, nlu_data: Path = NLU_DATA_DIR) -> str:
    """Hash of everything the model depends on (paths relative to the project)."""
    sources = [config, PROJECT_ROOT / "nlu", RASA_LOCK, nlu_data, DATA_DIR / "safety"]
    if not nlu_only:
        sources += [DOMAIN_FILE, *dialogue_files()]
    digest = hashlib.sha256(f"nlu_only={nlu_only}\n".encode())
    for path in _files(sources):
        if path.suffix in DATA_SUFFIXES or path.suffix == ".py" or path == RASA_LOCK:
            name = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path
            if name in SERVING_ONLY:
                continue
            digest.update(f"{name}\0".encode())
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextmanager
def _train_lock(out: Path) -> Iterator[None]:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".train.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stamp_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _rasa_command(
    config: Path, out: Path, name: str, *, nlu_only: bool, nlu_data: Path
) -> list[str]:
    rasa = str(require_rasa())
    common = ["--config", str(config), "--out", str(out), "--fixed-model-name", name]
    if nlu_only:
        return [rasa, "train", "nlu", "--nlu", str(nlu_data), *common]
    data = [str(nlu_data), *(str(path) for path in dialogue_files())]
    return [rasa, "train", "--domain", str(DOMAIN_FILE), "--data", *data, *common]


def ensure_model(
    *,
    config: Path = CONFIG_FILE,
    out: Path = MODELS_DIR,
    name: str = MODEL_NAME,
    nlu_only: bool | None = None,
    nlu_data: Path = NLU_DATA_DIR,
    force: bool = False,
    settings: Settings | None = None,
    log: Path | None = None,
) -> TrainResult:
    """The trained model for the current inputs, training it first when needed."""
    settings = settings or get_settings()
    if nlu_only is None:
        nlu_only = not has_dialogue()
    model = out / f"{name}.tar.gz"
    log = log or settings.var_dir / "log" / f"rasa-train-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with _train_lock(out):
        fingerprint = inputs_fingerprint(config, nlu_only=nlu_only, nlu_data=nlu_data)
        stamp = _stamp_path(model)
        if not force and model.is_file() and stamp.is_file():
            stored = json.loads(stamp.read_text())
            if stored.get("fingerprint") == fingerprint:
                return TrainResult(model, trained=False, seconds=0.0, nlu_only=nlu_only)
        command = _rasa_command(config, out, name, nlu_only=nlu_only, nlu_data=nlu_data)
        started = time.monotonic()
        with open(log, "w") as handle:
            completed = subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                env=rasa_env(settings),
                stdout=handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
                preexec_fn=die_with_parent,
            )
        seconds = time.monotonic() - started
        if completed.returncode != 0 or not model.is_file():
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(
                f"rasa train failed (exit {completed.returncode}); full log in {log}:\n{tail}"
            )
        stamp.write_text(
            json.dumps(
                {
                    "fingerprint": fingerprint,
                    "nlu_only": nlu_only,
                    "seconds": round(seconds, 1),
                    "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                },
                indent=2,
            )
        )
        return TrainResult(model, trained=True, seconds=seconds, nlu_only=nlu_only)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.train", description=__doc__)
    parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    parser.add_argument("--nlu-only", action="store_true", help="train the NLU model only")
    parser.add_argument("--config", type=Path, default=CONFIG_FILE)
    args = parser.parse_args(argv)
    restrict_umask()  # the training log under var/log is owner-only, like every file there
    try:
        result = ensure_model(
            config=args.config.resolve(), nlu_only=args.nlu_only or None, force=args.force
        )
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    what = "NLU-only model" if result.nlu_only else "model"
    if result.trained:
        print(f"trained the {what} in {result.seconds:.0f} s", file=sys.stderr)
    else:
        print(f"the {what} is up to date", file=sys.stderr)
    print(result.model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
