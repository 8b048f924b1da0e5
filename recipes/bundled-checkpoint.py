"""Write the package's base checkpoint (style_plugin/data/models/default.pt: the bundled
model's generator and its styles' display labels, what `train --from bundled` starts from)
from a finished run of recipes/bundled-styles.sh; default.onnx is then exported from it:

    python recipes/bundled-checkpoint.py [RUN_OR_CHECKPOINT]     # default: runs/bundled
    style-plugin export style_plugin/data/models/default.pt --fp16 --overwrite \\
        -o style_plugin/data/models/default.onnx
"""

import sys

from style_plugin.training.base import BUNDLED_CHECKPOINT, write_bundled_checkpoint

LABELS = {
    "starry-night": "The Starry Night (van Gogh)",
    "the-scream": "The Scream (Munch)",
    "great-wave": "The Great Wave (Hokusai)",
    "composition-8": "Composition VIII (Kandinsky)",
    "lady-and-unicorn": "The Lady and the Unicorn",
    "summertime": "Summertime (Cassatt)",
    "lion": "Lion (Dürer)",
    "spring": "Spring (Arcimboldo)",
}

if __name__ == "__main__":
    source = sys.argv[1] if len(sys.argv) > 1 else "runs/bundled"
    write_bundled_checkpoint(source, LABELS, BUNDLED_CHECKPOINT)
    print(f"wrote {BUNDLED_CHECKPOINT} from {source}")
