"""Help (the bundled documentation page, opened in the browser) and About (version and the bundled models' cards).

Both work offline: the page is a file inside the plugin, and About reads metadata.txt and the
models' sidecars, which need no torch.
"""
import configparser
import html
from pathlib import Path

from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtGui import QDesktopServices
from qgis.PyQt.QtWidgets import QMessageBox, QWidget

from core.models.card import read_card
from core.resources import DEFAULT_JEM, DEFAULT_MODEL

from .i18n import tr

HERE = Path(__file__).resolve().parent
HELP_PAGE = HERE / "help" / "index.html"
# The installed plugin has metadata.txt beside its modules; the repository keeps it one level up.
METADATA_CANDIDATES = (HERE / "metadata.txt", HERE.parent / "metadata.txt")


def help_url() -> QUrl:
    """The bundled documentation page as a file:// URL."""
    return QUrl.fromLocalFile(str(HELP_PAGE))


def open_help() -> bool:
    """Open the documentation page in the system's browser; False when none could open it."""
    return QDesktopServices.openUrl(help_url())


def metadata() -> dict[str, str]:
    """metadata.txt's [general] section ({} when the file is missing)."""
    for path in METADATA_CANDIDATES:
        if path.is_file():
            parser = configparser.ConfigParser(interpolation=None)
            parser.read(path, encoding="utf-8")
            return dict(parser["general"]) if parser.has_section("general") else {}
    return {}


def bundled_model_files() -> list[Path]:
    """The bundled models' sidecars: the default classifier and JEM first, then every other one bundled."""
    first = [Path(p).with_suffix(".json") for p in (DEFAULT_MODEL, DEFAULT_JEM)]
    others = sorted(p for p in Path(DEFAULT_MODEL).parent.glob("*.json") if p not in first)
    return [p for p in first if p.is_file()] + others


def model_card_html(path: Path) -> str:
    """One bundled model's card as a short HTML paragraph: kind, bands, resolution, classes, training."""
    card, _ = read_card(path)
    name = Path(path).stem
    lines = [tr("{0}: {1}").format(card.kind, ", ".join(card.bands)) + f" · {card.resolution_m:g} m"]
    if card.classes:
        lines.append(tr("classes: {0}; natural: {1}").format(", ".join(card.classes), ", ".join(card.natural_classes)))
    if card.jem:
        lines.append(tr("JEM: writes a confidence map"))
    command = (card.training or {}).get("command") if isinstance(card.training, dict) else None
    if command:
        lines.append(tr("trained with: {0}").format(command))
    return f"<p><b>{html.escape(name)}</b><br>" + "<br>".join(html.escape(line) for line in lines) + "</p>"


def about_html() -> str:
    """The About text: name, version, what the plugin does, the bundled models' cards and where help is."""
    meta = metadata()
    cards = []
    for path in bundled_model_files():
        try:
            cards.append(model_card_html(path))
        except Exception as exc:  # noqa: BLE001 (a broken card must not hide About)
            cards.append(f"<p><b>{html.escape(Path(path).stem)}</b>: {html.escape(str(exc))}</p>")
    return (f"<h3>{html.escape(meta.get('name', 'Natural Explain'))} {html.escape(meta.get('version', '?'))}</h3>"
            f"<p>{html.escape(meta.get('description', ''))}</p>"
            f"<h4>{tr('Bundled models')}</h4>{''.join(cards)}"
            f"<p>{tr('Help')}: <a href=\"{help_url().toString()}\">{html.escape(str(HELP_PAGE))}</a><br>"
            f"{tr('Source and issues')}: <a href=\"{meta.get('homepage', '')}\">{html.escape(meta.get('homepage', ''))}</a></p>")


def show_about(parent: QWidget | None) -> None:
    """The About box."""
    QMessageBox.about(parent, tr("About Natural Explain"), about_html())
