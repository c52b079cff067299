"""tools/bench.py: the same-count floor is what it says (a behaviour; no timings here)."""

from tools import bench
from tools.recording import run_program
from tools.stacks import config_for


def test_the_same_count_floor_registers_what_prod_registers():
    config, secret_keys = config_for("prod")
    shape = bench.shape_of(run_program("prod", config, secret_keys=secret_keys))
    floor = run_program("bench", {}, program=bench.same_count_program(shape))
    assert bench.shape_of(floor) == shape
    # Bare SDK: everything sits directly under the stack, no component builds anything.
    assert len({r.parent for r in floor.resources}) == 1
