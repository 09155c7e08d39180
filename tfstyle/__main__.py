"""``python -m tfstyle`` runs the command-line tool."""

import sys

from tfstyle.cli import main

sys.exit(main())
