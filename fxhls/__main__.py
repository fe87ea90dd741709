"""`python -m fxhls`: the `fxhls` command."""

import sys

from fxhls.cli import main

sys.exit(main())
