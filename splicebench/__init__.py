"""splicebench's Python side: plan and run benchmark matrices, judge, report.

One package, imported as a package: `python3 -m splicebench COMMAND ...` from the
checkout's top, or `python3 CHECKOUT COMMAND ...` from anywhere (the checkout's
__main__.py); bench/ and plots/ hold thin launchers of it.  Standard library only.
"""
import os

# The checkout: build/, bench/matrices/, bench/categories.tsv, kernel/ live under it.
TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
