"""piecelab's bundled resources (icons, sample corpus, default model), installed as data."""
