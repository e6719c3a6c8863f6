from xenrr.cli import main

raise SystemExit(main())
