"""The local stack: Redis, MariaDB, PostgreSQL, HBase (+ Thrift), Kafka and HDFS on loopback (dev, demo, CI).

`ark-stack up` (what `make stack` runs) installs what is missing -- Redis, MariaDB and PostgreSQL from apt,
HBase and Kafka jars from Maven Central into a cache outside the git tree -- starts everything
on the default ports with data and logs under `.stack/`, waits for real readiness and prints a
status table. It only ever stops processes it started itself (pid files), and reuses a service
that something else already runs on its port.
"""
