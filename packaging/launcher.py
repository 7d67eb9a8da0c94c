"""Entry point of the frozen piecelab bundle: ``piecelab [gui|tokenize|train|...]``.

PyInstaller freezes this script as the bundle's main program; everything else
lives in the ``piecelab`` package, exactly as with the ``piecelab`` console script.
"""

import multiprocessing
import sys

from piecelab.cli import main

if __name__ == "__main__":
    # the GUI trains in a child process; in a frozen app that child must not
    # start a second copy of the program
    multiprocessing.freeze_support()
    sys.exit(main())
