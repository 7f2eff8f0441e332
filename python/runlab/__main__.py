"""``python -m runlab``: the same as the ``runlab`` command."""

import sys

from runlab.cli import main

sys.exit(main())
