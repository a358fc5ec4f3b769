from bnpl_credit.merchants.cli import main

raise SystemExit(main())
