"""`python -m core export-onnx`: a classifier as an ONNX model with the metadata the Deepness QGIS plugin reads.

The graph takes raw band values divided by 255 (what Deepness feeds every model) and does the
card's scale, clip and standardisation itself, so Deepness' own standardisation is the identity;
core/models/onnx_export.py says why.
"""
import argparse

from core.cli.options import path_value

HELP = "write a classifier as an ONNX model for the Deepness QGIS plugin (class probabilities per pixel)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """Declare the export-onnx command's options."""
    p.add_argument("model", metavar="MODEL", type=path_value, help="the classifier's .json or .safetensors")
    p.add_argument("--out", required=True, type=path_value, help="the .onnx file to write")
    p.add_argument("--overwrite", action="store_true", help="replace --out when it exists")


def _checked_out(args: argparse.Namespace) -> None:
    """Fail before any work when --out is not a writable, new (or --overwrite) .onnx file.

    Raises:
        NaturalExplainError: naming the problem in one line.
    """
    from core.errors import NaturalExplainError
    from core.models.card import sidecar_path, weights_path
    from core.run_outputs import writable_file

    out = args.out
    if out.suffix.lower() != ".onnx":
        raise NaturalExplainError(f"--out {out} must end in .onnx")
    blocking = next((p for p in (out.parent, *out.parent.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise NaturalExplainError(f"--out {out}: {blocking} is a file, not a folder: choose another path")
    if out.exists() and not out.is_dir() and not args.overwrite:
        raise NaturalExplainError(f"--out {out} exists: add --overwrite to replace it")
    writable_file(out, inputs=[sidecar_path(args.model), weights_path(args.model)])


def run(args: argparse.Namespace) -> None:
    """Export, then say what was written and how far onnxruntime's answer is from torch's."""
    from core.models.onnx_export import export_onnx

    _checked_out(args)
    result = export_onnx(args.model, args.out)
    if result.max_abs_difference is None:
        print("not checked: onnxruntime is not installed")
    else:
        print(f"checked: onnxruntime's probabilities differ from torch's by at most {result.max_abs_difference:.2g}")
    print(f"input {result.input_shape} (raw values / 255), output {result.output_shape} (class probabilities)")
    print(f"written: {result.path}")
