"""``rasa`` as we run it: Rasa's own command line, after nlu.rasa_speedups.

    .venv-rasa/bin/python -m nlu.rasa_main run --enable-api ...

Same arguments and behaviour as the ``rasa`` executable (devtools.stack starts Rasa this way).
"""

from __future__ import annotations

import sys


def main() -> None:
    from nlu.rasa_speedups import apply

    apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
