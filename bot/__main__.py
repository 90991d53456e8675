from shopdesk.cli import main  # `python -m bot …` as the docs say; the CLI is the root's

raise SystemExit(main())
