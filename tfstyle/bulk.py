"""``python -m tfstyle.bulk``: the Beam program of `tfstyle.batch.bulk` (see BULK.md)."""

import sys

if __name__ == "__main__":
    from tfstyle.batch.bulk import main

    sys.exit(main())
