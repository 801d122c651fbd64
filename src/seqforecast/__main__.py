"""``python -m seqforecast`` runs the command line."""

import sys

from seqforecast.cli import main

if __name__ == "__main__":
    sys.exit(main())
