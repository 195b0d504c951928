"""``python -m dojo_lite``: the same as the ``dojo-lite`` command."""

import sys

from ._cli import main

sys.exit(main())
