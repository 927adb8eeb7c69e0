import sys

from target_service.cli import main

sys.exit(main())
