"""``python -m nncore``: train presets or custom networks, evaluate saved models."""

from .cli import main

raise SystemExit(main())
