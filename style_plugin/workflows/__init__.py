"""What the outermost layer does with every part: add a style (train, export, install)."""
