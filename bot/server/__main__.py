"""`python -m bot.server run ...`: Rasa's command line, after the project's start-up patches (bot/server/patches.py)."""
from __future__ import annotations

import sys


def main() -> None:
    from bot.server.patches import apply_all

    apply_all()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
