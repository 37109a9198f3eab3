"""``python -m ethnet`` runs the command line."""

from ethnet.cli import main

raise SystemExit(main())
