import sys

from fastact_tui.app import main

sys.exit(main())
