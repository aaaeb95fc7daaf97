"""Benchmarks of feedsvc: ``python -m bench`` runs them all and writes ``docs/performance.md``.

    serving.py     wrk against the real ``feedsvc serve``, nginx and a bare Flask app, same run
    pipeline.py    extract + diff per snapshot; full refresh cycles of many sources (child processes)
    store_scale.py newest-50, a refresh's transaction and bytes per entry at 10k..1M entries
    report.py      the Markdown report and the PNG plot of the scaling curves

Nothing here runs in the test suite's timing: ``tests/bench/`` runs ``python -m bench --smoke``.
"""
