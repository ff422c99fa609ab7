"""``python -m routeplan``: the command line (the web desk runs plans this way)."""

import sys

from .cli import main

sys.exit(main())
