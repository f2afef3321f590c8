"""``python -m harness.cli``, as it worked when the command line was one module (``python -m harness`` is the same)."""

import sys

from harness.cli import main

sys.exit(main())
