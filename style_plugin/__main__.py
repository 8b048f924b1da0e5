"""`python -m style_plugin` runs the CLI."""

from style_plugin.cli import main

main()
