"""The runner's Python side (bench/run): one module a role.

    lists   the programs' --list: modes, their options (axes), knobs, counters
    matrix  a matrix expanded into points, and the rounds' schedule
    repeat  one timed repeat's figures (fio's JSON and bench/sample's edges)
    point   a point from its measurements (counters combined as --list says)
    meta    meta.json (the run's state, the programs' --list, this machine)

splicebench/plan.py is their command line (python3 -m splicebench plan ...).
"""
