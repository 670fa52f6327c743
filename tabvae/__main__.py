"""``python -m tabvae`` runs the command-line interface."""

from tabvae.cli import main

main()
