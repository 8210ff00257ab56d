"""Asset factories: a media's declaration in, its Dagster assets and checks out (`build.py`).

One module per kind of asset (agents, advertisers, datasets), what they share (specs, run
bookkeeping, fetching, records), and the checks that read HBase back.
"""
