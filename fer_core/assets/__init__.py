"""What ships with fer-tui besides code: presets, the sample folder and the shipped models.

`presets`, `samples` and `shipped` here are symlinks to the repository's top-level
`presets/`, `samples/` and `checkpoints/shipped/` (where the design keeps them): an editable
install reads those folders through the links, and a wheel holds real copies of their files
(pyproject's package-data globs follow the links). Read them with `importlib.resources`
through `fer_core.locations`, never by a path relative to the source tree.
"""
