"""Build the plugin as QGIS installs it: `python -m natural_explain_plugin.package --out dist`.

The installed plugin folder holds the plugin modules plus the engine (`core/`), the bundled
resources (models, styles, icons), `metadata.txt` and a `requirements.txt` of the packages the
engine needs (pinned as the repository's), so "Install from ZIP" needs nothing else from the
repository. The sample scene and the training labels stay out: they are for the demo
and for training, not for the plugin. `--dir` lays the same folder out unzipped, for
QGIS_PLUGINPATH.
"""
import argparse
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from .dependencies import REQUIREMENTS_NAME, engine_requirements

PLUGIN_NAME = "natural_explain_plugin"
REPO = Path(__file__).resolve().parent.parent
RESOURCE_FOLDERS = ("models", "styles", "icons")
BUILD_ONLY_MODULES = ("package.py",)
CACHES = ("__pycache__", "*.pyc", ".*")


def lay_out(parent: Path) -> Path:
    """Write a fresh `<parent>/natural_explain_plugin/` folder as it is installed; returns it."""
    target = parent / PLUGIN_NAME
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(REPO / PLUGIN_NAME, target,
                    ignore=shutil.ignore_patterns(*CACHES, *BUILD_ONLY_MODULES))
    shutil.copytree(REPO / "core", target / "core", ignore=shutil.ignore_patterns(*CACHES))
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
