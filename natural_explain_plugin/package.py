"""Build the plugin as QGIS installs it: `python -m natural_explain_plugin.package --out dist`.

The installed plugin folder holds the plugin modules plus the engine (`core/`), the training code
(`train/`, which the Train model page runs as `python -m train` in a child process), the bundled
resources (models, styles, icons), `metadata.txt` and a `requirements.txt` of the packages the
engine needs (pinned as the repository's), so "Install from ZIP" needs nothing else from the
repository. The sample scene and the training labels stay out: they are for the demo
and for training, not for the plugin. `--dir` lays the same folder out unzipped, for
QGIS_PLUGINPATH.

Translations: every user string is written `tr("...")` (i18n.py). `write_ts` collects them
into i18n/natural_explain.ts (the template translators copy to natural_explain_<lang>.ts),
and the laid-out plugin gets a .qm compiled by Qt's `lrelease` from every .ts in i18n/;
without lrelease the .ts files are shipped alone and a note says so. The plugin loads
natural_explain_<locale>.qm for the user's QGIS locale.
"""
import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from .dependencies import REQUIREMENTS_NAME, engine_requirements

PLUGIN_NAME = "natural_explain_plugin"
REPO = Path(__file__).resolve().parent.parent
RESOURCE_FOLDERS = ("models", "styles", "icons")
# The engine, and the training code the Train model page runs as a child process (never imported by the plugin).
CODE_PACKAGES = ("core", "train")
BUILD_ONLY_MODULES = ("package.py",)
CACHES = ("__pycache__", "*.pyc", ".*")
I18N = "i18n"
TS_TEMPLATE = "natural_explain.ts"
CONTEXT = "NaturalExplain"  # i18n.CONTEXT, repeated: package.py runs without qgis


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "text" constants, so that tr(NAME) is collected too."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def tr_strings(folder: Path) -> list[tuple[str, str, int]]:
    """(text, file, line) of every tr("...") and tr(CONSTANT) under `folder`, in file order, first occurrence only."""
    seen: dict[str, tuple[str, str, int]] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _module_strings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr"
                    and node.args):
                continue
            arg = node.args[0]
            text = arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else \
                constants.get(arg.id) if isinstance(arg, ast.Name) else None
            if text and text not in seen:
                seen[text] = (text, path.relative_to(folder).as_posix(), node.lineno)
    return sorted(seen.values(), key=lambda t: (t[1], t[2]))


def ts_text(strings: list[tuple[str, str, int]], language: str = "") -> str:
    """A Qt Linguist .ts file with one context and every string unfinished (the template)."""
    lang = f' language="{language}"' if language else ""
    messages = "".join(f'    <message>\n        <location filename="../{escape(file)}" line="{line}"/>\n'
                       f"        <source>{escape(text)}</source>\n"
                       f'        <translation type="unfinished"></translation>\n    </message>\n'
                       for text, file, line in strings)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n<TS version="2.1"{lang} sourcelanguage="en">\n'
            f"<context>\n    <name>{CONTEXT}</name>\n{messages}</context>\n</TS>\n")


def write_ts(plugin: Path = REPO / PLUGIN_NAME) -> Path:
    """Write i18n/natural_explain.ts from the plugin's tr() strings; returns it."""
    target = plugin / I18N / TS_TEMPLATE
    target.parent.mkdir(exist_ok=True)
    target.write_text(ts_text(tr_strings(plugin)), encoding="utf-8")
    return target


def compile_translations(folder: Path) -> list[Path]:
    """Compile each .ts in `folder` to a .qm beside it with lrelease; [] (and a note) without lrelease."""
    lrelease = shutil.which("lrelease") or shutil.which("lrelease-qt5")
    sources = sorted(folder.glob("*.ts"))
    if not sources:
        return []
    if lrelease is None:
        print("note: lrelease (Qt Linguist, apt install qttools5-dev-tools) is not installed: the plugin ships its "
              ".ts files without compiled .qm translations", file=sys.stderr)
        return []
    built = []
    for source in sources:
        qm = source.with_suffix(".qm")
        subprocess.run([lrelease, "-silent", str(source), "-qm", str(qm)], check=True, capture_output=True)
        built.append(qm)
    return built


def lay_out(parent: Path) -> Path:
    """Write a fresh `<parent>/natural_explain_plugin/` folder as it is installed; returns it."""
    target = parent / PLUGIN_NAME
    if target.exists():
        shutil.rmtree(target)
    try:
        write_ts()  # the template follows the code's strings
    except OSError as exc:
        print(f"note: could not refresh {TS_TEMPLATE} ({exc}); the plugin ships the one there is", file=sys.stderr)
    shutil.copytree(REPO / PLUGIN_NAME, target,
                    ignore=shutil.ignore_patterns(*CACHES, *BUILD_ONLY_MODULES, "*.qm"))
    compile_translations(target / I18N)
    for package in CODE_PACKAGES:
        shutil.copytree(REPO / package, target / package, ignore=shutil.ignore_patterns(*CACHES))
    for folder in RESOURCE_FOLDERS:
        shutil.copytree(REPO / "resources" / folder, target / "resources" / folder, ignore=shutil.ignore_patterns(*CACHES))
    shutil.copyfile(REPO / "metadata.txt", target / "metadata.txt")
    specs = [r.spec for r in engine_requirements(REPO / REQUIREMENTS_NAME)]
    (target / REQUIREMENTS_NAME).write_text("# What the plugin's Install button asks pip for (made by package.py)\n"
                                            + "".join(f"{spec}\n" for spec in specs), encoding="utf-8")
    return target


def build_zip(out: Path) -> Path:
    """Write `<out>/natural_explain_plugin.zip` with the plugin folder at its top; returns the zip."""
    out.mkdir(parents=True, exist_ok=True)
    archive = out / f"{PLUGIN_NAME}.zip"
    with tempfile.TemporaryDirectory() as staging:
        folder = lay_out(Path(staging))
        partial = archive.with_name(f".{archive.name}.partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                zf.write(path, path.relative_to(folder.parent).as_posix())
        partial.replace(archive)
    return archive


def main(argv: list[str] | None = None) -> int:
    """Command line: `--out DIR` builds the zip, `--dir DIR` lays the folder out; both may be given."""
    parser = argparse.ArgumentParser(prog="python -m natural_explain_plugin.package", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="folder to write natural_explain_plugin.zip into")
    parser.add_argument("--dir", type=Path, help="folder to lay natural_explain_plugin/ out in, unzipped")
    args = parser.parse_args(argv)
    if args.out is None and args.dir is None:
        parser.error("give --out DIR, --dir DIR or both")
    if args.out is not None:
        print(build_zip(args.out))
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
        print(lay_out(args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
