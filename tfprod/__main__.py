from tfprod.cli import main

raise SystemExit(main())
