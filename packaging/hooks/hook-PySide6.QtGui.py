"""piecelab's replacement for PyInstaller's hook of PySide6.QtGui.

It collects what the stock hook collects (Qt's Gui library, its translations and
the Gui plugins: platforms, image formats, icon engines, input contexts, ...)
minus three plugins a desktop workbench does not need and that drag in a
library stack of their own:

* the GTK 3 platform theme: bundling it completely needs GTK 3 on the build
  machine; without it PyInstaller still copies part of GTK's stack (cairo, pango,
  atk, gdk-pixbuf, ...) from the build machine, to be mixed at run time with the
  user's own GTK. Qt then uses the XDG desktop portal theme or its Fusion style.
* the VNC platform and the TUIO touch input plugin, which need QtNetwork (and
  with it Kerberos' libraries).
"""

import os

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

_UNWANTED_PLUGINS = {"libqgtk3.so", "libqvnc.so", "libqtuiotouchplugin.so"}

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(src, dest) for src, dest in binaries if os.path.basename(src) not in _UNWANTED_PLUGINS]
