"""lstm_magic: the IPython extension (``%load_ext lstm_magic``) for ``%%lstmgen``.

Owns loading and unloading the extension. Importing the package is cheap: IPython's magic
machinery, the serving API and everything else load when the extension is loaded or
first used. Loading twice is harmless; ``%unload_ext lstm_magic`` removes the magics and
closes the Studio. Never imports torch, training, exporters or the bot.
"""

from __future__ import annotations

from typing import Any

_NAME = "LstmGenMagics"


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%lstmgen`` and ``%lstmgen`` (a second call changes nothing)."""
    if _NAME in ipython.magics_manager.registry:
        return
    from lstm_magic.magics import LstmGenMagics

    ipython.register_magics(LstmGenMagics(shell=ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics, forget the configurable and close the Studio."""
    manager = ipython.magics_manager
    magics = manager.registry.pop(_NAME, None)
    if magics is None:
        return
    for kind in ("line", "cell"):
        manager.magics[kind].pop("lstmgen", None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    magics.close()


__all__ = ["load_ipython_extension", "unload_ipython_extension"]
