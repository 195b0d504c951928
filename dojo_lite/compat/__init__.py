"""Other projects' API shapes over dojo_lite, so that code written for them runs here after
changing one import (``dojo_lite.compat.mledojo``: MLE-Dojo's)."""
