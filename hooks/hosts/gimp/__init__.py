"""GIMP 3: a Python plug-in adding Filters > Artistic > Stylize... (installer.py installs it;
bridge.py holds what it does without GIMP; style-plugin-stylize/ is the plug-in folder)."""
