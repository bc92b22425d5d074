"""The training CLI's sub-commands, one module per model kind; __main__ lists them from here."""
from types import ModuleType

from train.commands import classifier, cyclegan, energy, jem, segmenter

# Each module offers HELP, add_arguments(parser) and run(args, parser).
COMMANDS: dict[str, ModuleType] = {
    "classifier": classifier,
    "cyclegan": cyclegan,
    "energy": energy,
    "jem": jem,
    "segmenter": segmenter,
}
