"""The headless CLI's sub-commands, one module each; core/__main__.py builds the parser from here.

Each module offers HELP, add_arguments(parser) and run(args), and imports torch only inside
run, so `python -m core --help` stays fast.
"""
from types import ModuleType

from core.cli import evaluate, explain, export_onnx, inpaint, ood, quicklook, sample, segment, ssc, vectorize

COMMANDS: dict[str, ModuleType] = {
    "explain": explain,
    "evaluate": evaluate,
    "vectorize": vectorize,
    "quicklook": quicklook,
    "ood": ood,
    "inpaint": inpaint,
    "sample": sample,
    "export-onnx": export_onnx,
    "ssc": ssc,
    "segment": segment,
}
