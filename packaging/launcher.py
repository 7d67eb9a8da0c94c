"""Entry point of the frozen piecelab bundle: ``piecelab [gui|tokenize|train|...]``.

PyInstaller freezes this script as the bundle's main program; everything else
lives in the ``piecelab`` package, exactly as with the ``piecelab`` console script.
"""

import sys

from piecelab.cli import main

if __name__ == "__main__":
    sys.exit(main())
