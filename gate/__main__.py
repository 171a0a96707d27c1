import sys

from gate.cli.command import main

sys.exit(main())
