from shopdesk.cli import main

raise SystemExit(main())
