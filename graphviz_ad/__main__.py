"""``python -m graphviz_ad``: the same as the ``graphviz-ad`` command."""

import sys

from .cli import main

sys.exit(main())
