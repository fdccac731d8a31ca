"""Analysis benchmark workload: the baseline's call-heavy and line-heavy programs run one
after the other, with a handful of allocations on the way: about 76 million events."""
import os
import runpy

HERE = os.path.dirname(os.path.abspath(__file__))
W = os.path.join(HERE, "..", "record", "workloads")

for name in ("calls.py", "lines.py"):
    runpy.run_path(os.path.join(W, name), run_name="__main__")
