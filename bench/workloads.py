"""The workloads by key, in the order they run."""

from . import (
    w01_scalar_mlp,
    w02_mlp,
    w03_chain,
    w04_jacobian,
    w05_fan_out,
    w06_scalar_chain,
    w07_render,
    w08_debugger,
    w09_tui,
    w10_growth,
    w11_layout,
    w_writes,
)

ALL = {
    module.KEY: module
    for module in (w01_scalar_mlp, w02_mlp, w03_chain, w04_jacobian, w05_fan_out,
                   w06_scalar_chain, w07_render, w08_debugger, w09_tui, w10_growth,
                   w11_layout, w_writes)
}
