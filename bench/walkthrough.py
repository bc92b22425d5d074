"""The plugin's "done when", for real: a fresh QGIS profile, from the zip to a styled attribution map and a shapefile.

Builds the plugin zip, then starts QGIS itself (Debian's `qgis`, under Xvfb when there is no
display) with a new, empty profiles folder and `--code bench/walkthrough_in_qgis.py`, which
clicks through what an analyst does and times each step, ending with training a classifier on
the panel's Train model page and explaining with it. QGIS runs with its own Python and
none of the developer set-up: no venv, no PYTHONPATH, the repository not on sys.path, so
torch has to come through the plugin's Install button.

    python bench/walkthrough.py --out out/walkthrough

Writes OUT/walkthrough.json (steps, seconds, checks, messages), OUT/steps/NN_<step>.png (the
window after each step), OUT/panel.png (the dock at 1280 x 800, before Run), OUT/walkthrough.png
and OUT/qgis.log; exits 0 when every check passed. `--docs docs` also writes the README's
screenshots there, as small PNGs (docs/panel.png, docs/resolution_warning.png, docs/result.png).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.resources import SAMPLE  # noqa: E402 (after the repository is on sys.path)
from natural_explain_plugin.package import build_zip  # noqa: E402

INNER = Path(__file__).resolve().parent / "walkthrough_in_qgis.py"
LABELS = REPO / "resources" / "labels" / "virginia_s2_train.geojson"  # north half of the scene only
DEVELOPER_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "QT_QPA_PLATFORM", "QGIS_PLUGINPATH")
SCREEN = "-screen 0 1600x1200x24"


def qgis_environment(out: Path, archive: Path) -> dict[str, str]:
    """The caller's environment without what the developer set-up adds, plus where the walk-through reads and writes."""
    env = {k: v for k, v in os.environ.items() if k not in DEVELOPER_VARIABLES}
    venv = str(REPO / ".venv")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(venv))
    return {**env, "NE_WALK_ZIP": str(archive), "NE_WALK_OUT": str(out), "NE_WALK_SAMPLE": str(SAMPLE),
            "NE_WALK_LABELS": str(LABELS)}


def qgis_command(profiles: Path) -> list[str]:
    """QGIS on a new profiles folder, running the walk-through; under xvfb-run when there is no display."""
    qgis = shutil.which("qgis")
    if qgis is None:
        raise SystemExit("qgis is not installed (make setup installs it)")
    command = [qgis, "--profiles-path", str(profiles), "--nologo", "--noversioncheck", "--code", str(INNER)]
    if os.environ.get("DISPLAY"):
        return command
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        raise SystemExit("there is no display and no xvfb-run (apt install xvfb)")
    return [xvfb_run, "-a", "-s", SCREEN, *command]


def summary(record: dict) -> str:
    """The steps and checks as a few lines for the terminal."""
    lines = [f"{s['seconds']:8.1f} s  {s['step']}" for s in record["steps"]]
    lines += [f"{'pass' if ok else 'FAIL'}  {name}" for name, ok in record["checks"].items()]
    lines.append(f"total {record.get('total_s')} s" + (f"\n{record['error']}" if "error" in record else ""))
    return "\n".join(lines)


DOC_SHOTS = {"panel.png": "panel.png", "panel_resolution_warning.png": "resolution_warning.png",
             "walkthrough.png": "result.png"}
DOC_WIDTH = 1024  # the main window is scaled down to this; the panel shots stay at their size


def write_doc_screenshots(out: Path, docs: Path) -> list[Path]:
    """The README's screenshots from the walk-through's, scaled and reduced to 128 colours (tens of kB each)."""
    from PIL import Image

    docs.mkdir(parents=True, exist_ok=True)
    written = []
    for source, target in DOC_SHOTS.items():
        if not (out / source).is_file():
            continue
        image = Image.open(out / source).convert("RGB")
        if image.width > DOC_WIDTH:
            image = image.resize((DOC_WIDTH, round(image.height * DOC_WIDTH / image.width)), Image.LANCZOS)
        image.quantize(colors=128, method=Image.MEDIANCUT, dither=Image.NONE).save(docs / target, optimize=True)
        written.append(docs / target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "walkthrough", help="folder for the results (emptied first)")
    parser.add_argument("--timeout-s", type=int, default=2400, help="stop QGIS after this many seconds (default: 2400)")
    parser.add_argument("--docs", type=Path, help="also write the README's screenshots into this folder")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    archive = build_zip(out / "dist")
    with open(out / "qgis.log", "w", encoding="utf-8") as log:
        subprocess.run(qgis_command(out / "profiles"), cwd=out, env=qgis_environment(out, archive), stdout=log,
                       stderr=subprocess.STDOUT, timeout=args.timeout_s, check=False)
    result = out / "walkthrough.json"
    if not result.is_file():
        print(f"QGIS wrote no {result.name}: see {out / 'qgis.log'}", file=sys.stderr)
        return 1
    record = json.loads(result.read_text(encoding="utf-8"))
    print(summary(record))
    if args.docs is not None and record["ok"]:
        for path in write_doc_screenshots(out, args.docs):
            print(f"wrote {path}")
    return 0 if record["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
