"""``python -m generator.cli``: the same as the ``cvj`` script."""

from generator.cli import main

main()
