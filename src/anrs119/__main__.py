"""Allow ``python -m anrs119``."""

from anrs119.cli import main

raise SystemExit(main())
