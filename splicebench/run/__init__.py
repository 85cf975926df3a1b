"""The runner (bench/run: python3 -m splicebench run), one module a role.

    cli     the options (one table: parsing and --help), the input's checks, --dry-run
    loop    the run: lock, probe, limits, baselines, meta.json, points.csv, signals, exit
    rounds  groups, rounds and their start phase, resume, measurements.jsonl, points.jsonl
    measure one measurement: drop_caches, the timed fio repeat, verification, counters
    procs   daemons, sbservers, the netns, cgroups v2 per point and role, eviction, knobs
    remote  --server-host through scripts/remote
    vm      --cost's windows in the guest, the network's own cost; vmboot: --vm on the host
    lists   the programs' --list: modes, their options (axes), knobs, counters
    matrix  a matrix expanded into points, and the rounds' schedule
    repeat  one timed repeat's figures (fio's JSON and bench/sample's edges)
    point   a point from its measurements (counters combined as --list says)
    meta    meta.json (the run's state, the programs' --list, this machine)

splicebench/plan.py is the bookkeeping's command line (python3 -m splicebench plan ...).
"""
