"""piecelab's Qt workbench. Calls only the engine's public API."""
