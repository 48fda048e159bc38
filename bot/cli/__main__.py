"""`python -m bot.cli` runs the `sigap` command."""

from bot.cli.sigap import main

if __name__ == "__main__":
    raise SystemExit(main())
