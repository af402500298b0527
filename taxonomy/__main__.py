import sys

from taxonomy.cli import main

sys.exit(main())
