"""``python -m xingdong`` runs the command line."""

from xingdong.cli import main

main()
