"""``python -m benchmarks``: every benchmark, one table (see :mod:`benchmarks.run`)."""

from benchmarks.run import main

raise SystemExit(main())
