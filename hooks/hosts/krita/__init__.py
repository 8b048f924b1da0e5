"""The Krita host adapter: Filter > Stylize… in Krita 5 (pykrita).

- `installer`: `style-plugin install krita` writes the plug-in into Krita's pykrita folder,
  enables it in kritarc and records the Python environment it imports this package from;
  `launcher`: the `krita` command it writes into a venv, which starts Krita without it.
- `pykrita/`: the files copied there (the .desktop file and a small module that puts the
  recorded environment on sys.path and registers the extension).
- `extension`: the Krita side (action, layer in, result layer out), with `layers` (a layer
  checked and read); `animation`: all keyframes of an animated layer into a new animated
  layer; `ui`: the Qt dialog built from the filter's parameter schema, and the progress
  window; `pixels`: Krita's pixel bytes and the filter applied to them, and `keyframes`: a
  layer's keyframes stylized as one sequence, both with no Krita or Qt imports.

Importing this package imports neither Krita nor Qt; `extension`, `layers`, `animation` and
`ui` need them.
"""
