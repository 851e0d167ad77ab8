"""``rasa`` as we run it: Rasa's own command line, after nlu.rasa_speedups.

    RASA_AUTH_TOKEN=... .venv-rasa/bin/python -m nlu.rasa_main run --enable-api ...

Same arguments and behaviour as the ``rasa`` executable (devtools.stack starts Rasa this way),
with two additions:

- ``rasa run`` gets ``--auth-token`` from the environment variable RASA_AUTH_TOKEN, added to
  ``sys.argv`` inside this process: the kernel's copy of the command line (``ps``,
  /proc/PID/cmdline, readable by every local user) never holds it, while the environment
  (/proc/PID/environ) is readable only by its owner.
- ``WELCOME_RASA_SPEEDUPS=0`` skips nlu.rasa_speedups (the bench's comparison); a list of
  patch names (``action-result-validation,rule-keys-cache``) applies only those (to measure
  one patch against the others).
"""

from __future__ import annotations

import os
import sys

from nlu.internal_auth import RASA_SECRET_ENV

SPEEDUPS_ENV = "WELCOME_RASA_SPEEDUPS"


def with_auth_token(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """``argv`` plus ``--auth-token=<RASA_AUTH_TOKEN>`` for ``run`` (unless already given)."""
    token = environ.get(RASA_SECRET_ENV, "")
    if not token or len(argv) < 2 or argv[1] != "run":
        return list(argv)
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in argv):
        return list(argv)
    return [*argv, f"--auth-token={token}"]  # "=": a generated token may start with "-"


def main() -> None:
    speedups = os.environ.get(SPEEDUPS_ENV, "1")
    if speedups != "0":
        from nlu.rasa_speedups import apply

        apply(None if speedups == "1" else [name.strip() for name in speedups.split(",")])
    from rasa.__main__ import main as rasa_main

    sys.argv = with_auth_token(sys.argv, os.environ)
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
