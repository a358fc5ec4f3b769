import sys

from bnpl_model.cli import main

sys.exit(main())
