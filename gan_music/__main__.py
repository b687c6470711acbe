"""``python -m gan_music`` runs the ``gan-music`` command."""

import sys

from gan_music.cli import main

sys.exit(main())
