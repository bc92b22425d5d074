"""What a run will cost, from timings measured on real runs, so a slow choice is seen before Run.

The explanation methods differ by three orders of magnitude: occlusion and integrated
gradients run the model many times per tile. The numbers below are seconds per megapixel
at the model's resolution (10 m for the bundled models), from `bench/measure_method_costs.py`:
`explain` on a 400 x 400 px AOI of the bundled sample, one method per run, through the tiler
with its overlap and blending, on the development machine's 2-core CPU (torch 2.13 CPU).
They replace figures taken from `evaluate`, which times attribute() on small tiles without
overlap and under-estimated gradcam 3.6 times and occlusion 9.5 times. A JEM's confidence map
comes from the same forward pass as the naturalness map. No GPU timing has been measured yet,
so on CUDA the CPU figure is shown as an upper bound.
"""
CPU_SECONDS_PER_MEGAPIXEL = {
    "naturalness": 2.8,
    "cyclegan": 4.4,
    "counterfactual": 3.7,
    "gradcam": 4.7,
    "deeplift": 12.4,
    "ig": 109.0,
    "occlusion": 3751.0,
}
LONG_RUN_S = 600.0  # ten minutes: past this, an analyst should choose on purpose


def megapixels(area_m2: float, resolution_m: float) -> float:
    """Model pixels (in millions) an area holds at the model's resolution."""
    return area_m2 / (resolution_m * resolution_m) / 1e6


def method_seconds(method: str, mpx: float) -> float | None:
    """Estimated CPU seconds of one method (or 'naturalness') over `mpx` megapixels; None if never measured."""
    rate = CPU_SECONDS_PER_MEGAPIXEL.get(method)
    return None if rate is None else rate * mpx


def run_seconds(methods: list[str], mpx: float) -> float:
    """Estimated CPU seconds of a run: the naturalness map plus every measured method."""
    return sum(method_seconds(name, mpx) or 0.0 for name in ["naturalness", *methods])


def duration_text(seconds: float) -> str:
    """'~4 s', '~12 min', '~2.5 h': as precise as an estimate deserves."""
    if seconds < 90:
        return f"~{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"~{seconds / 60:.0f} min"
    return f"~{seconds / 3600:.1f} h"


def large_aoi_warning(methods: list[str], mpx: float, device: str) -> str | None:
    """One sentence when the run would take long on the CPU; None when it is quick or runs on CUDA.

    `auto` counts as the CPU: without CUDA that is where it runs, and with CUDA the run is only faster.
    """
    seconds = run_seconds(methods, mpx)
    if device == "cuda" or seconds <= LONG_RUN_S:
        return None
    slowest = max(["naturalness", *methods], key=lambda name: CPU_SECONDS_PER_MEGAPIXEL.get(name, 0.0))
    return (f"this run would take {duration_text(seconds)} on the CPU ({mpx:.1f} megapixels, {slowest} costs most): "
            "draw a smaller area of interest, drop the slow methods, or run on a CUDA GPU")
