# `python3 CHECKOUT COMMAND ...`: Python runs this file with the checkout first on its
# path, so the splicebench package imports as itself from wherever the checkout lives.
# The launchers in bench/ and plots/ call it this way; from the checkout's top,
# `python3 -m splicebench` is the same.
import sys

from splicebench.__main__ import main

sys.exit(main())
