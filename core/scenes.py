"""Explain many scenes as one job: one output folder per scene and a summary, on one Dask cluster when given.

A county or a country is many Sentinel-2 tiles. They are given on the command line or in a
text file (one scene per line; blank lines and lines starting with # are skipped; relative
paths are taken from the file's folder). Each scene runs core.pipeline.explain into its own
folder under the output folder; with a cluster, the scenes share it and each worker loads the
model once for the whole job. A scene that fails for a reason the user can fix (a missing
band, no CRS) is recorded and the next one runs; summary.json, rewritten atomically after each
scene, lists every scene's folder, outcome, warnings and seconds.
"""
import contextlib
import dataclasses
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from core.atomic import write_json
from core.errors import NaturalExplainError

SUMMARY = "summary.json"


@dataclasses.dataclass
class SceneOutcome:
    """One scene of a job: where its outputs went, and its error line when it failed."""

    input: Path
    out: Path
    error: str | None
    warnings: list[str]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"input": str(self.input), "out": str(self.out), "ok": self.error is None, "error": self.error,
                "warnings": self.warnings, "seconds": round(self.seconds, 3)}


def scene_list(items: Sequence[str | Path]) -> list[Path]:
    """The scenes named by `items`: paths, or one text file listing them.

    Raises:
        NaturalExplainError: when the list file names no scene.
    """
    if len(items) == 1 and Path(items[0]).suffix.lower() == ".txt" and Path(items[0]).is_file():
        listing = Path(items[0])
        lines = [line.strip() for line in listing.read_text(encoding="utf-8").splitlines()]
        scenes = [listing.parent / line for line in lines if line and not line.startswith("#")]
        if not scenes:
            raise NaturalExplainError(f"{listing} lists no scene: write one raster file or band folder per line")
        return scenes
    return [Path(item) for item in items]


def folder_names(scenes: Sequence[Path]) -> list[str]:
    """One output folder name per scene: its file or folder name without suffix, made unique with _2, _3, ..."""
    names: list[str] = []
    for scene in scenes:
        base = scene.stem if scene.suffix else scene.name
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def explain_scenes(scenes: Sequence[Path], out_dir: str | Path, *, dask: str | None = None,
                   progress: Callable[[float], None] | None = None, **options: Any) -> list[SceneOutcome]:
    """Run explain on every scene into OUT/<scene name>/, then write OUT/summary.json.

    Args:
        scenes: raster files or band folders (see scene_list).
        out_dir: the job's folder.
        dask: a cluster address (local:N, tcp://HOST:PORT) the scenes share; None runs them here.
        progress: percent of the whole job.
        options: core.pipeline.explain's keyword arguments (methods, model, aoi, ...).

    Returns:
        Every scene's outcome, in order.
    """
    from core.pipeline import explain

    out_dir = Path(out_dir)
    outcomes: list[SceneOutcome] = []
    with _cluster(dask) as cluster:
        for index, (scene, name) in enumerate(zip(scenes, folder_names(scenes))):
            started = time.perf_counter()
            scaled = (lambda pct, i=index: progress(100.0 * (i + pct / 100.0) / len(scenes))) if progress else None
            try:
                result = explain(scene, out_dir / name, dask=cluster, progress=scaled, **options)
                outcome = SceneOutcome(scene, out_dir / name, None, result.warnings, time.perf_counter() - started)
            except NaturalExplainError as exc:
                outcome = SceneOutcome(scene, out_dir / name, str(exc), [], time.perf_counter() - started)
            outcomes.append(outcome)
            out_dir.mkdir(parents=True, exist_ok=True)
            write_json(out_dir / SUMMARY, {"scenes": [o.to_json() for o in outcomes], "of": len(scenes),
                                           "failed": sum(o.error is not None for o in outcomes)})
    return outcomes


def _cluster(dask: str | None) -> contextlib.AbstractContextManager:
    """The job's one Dask client (None without a cluster)."""
    if dask is None:
        return contextlib.nullcontext()
    from core.dask_tiles import dask_client

    return dask_client(dask)
