"""Button and menu labels that messages elsewhere quote ("click Install …").

A leaf module: the advice in engine_import names these buttons without importing the message
that shows them, which would pull in the installer and, through it, the tasks.
"""
INSTALL_TEXT = "Install"
DOWNLOAD_TEXT = "Download and install"  # shown through tr("Download and install"), the literal that translation finds
DIAGNOSTICS_TEXT = "Diagnostics"
DIAGNOSTICS_ACTION_TEXT = "Copy diagnostics"
