"""Use the local stack with plain client libraries only -- no Ark Assets code.

Proves the stack is usable by any tool on the default ports: happybase (and thriftpy2, which
happybase installs and uses, for the Thrift2 call that pre-splits a table), kafka-python, redis
and pymysql. Run it with `python scripts/independent_client_check.py`; it cleans up after itself
and exits non-zero with a message on the first failure.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import happybase
import pymysql
import redis
import thriftpy2
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.rpc import make_client
from thriftpy2.transport import TBufferedTransportFactory

HOST = "127.0.0.1"
RUN = uuid.uuid4().hex[:8]
# The Thrift2 IDL subset (a data file: Thrift1, which happybase speaks, cannot pass split keys).
IDL = Path(__file__).resolve().parents[1] / "ark_assets" / "clients" / "hbase_admin.thrift"


def hbase() -> None:
    name = f"independent_{RUN}"
    admin_idl = thriftpy2.load(str(IDL), module_name="independent_admin_thrift")
    admin = make_client(
        admin_idl.THBaseService,
        HOST,
        9091,
        proto_factory=TBinaryProtocolFactory(),
        trans_factory=TBufferedTransportFactory(),
        timeout=60_000,
    )
    families = [
        admin_idl.TColumnFamilyDescriptor(name=f, compressionType=admin_idl.TCompressionAlgorithm.SNAPPY)
        for f in (b"info", b"col")
    ]
    table_name = admin_idl.TTableName(ns=b"default", qualifier=name.encode())
    admin.createTable(
        admin_idl.TTableDescriptor(tableName=table_name, columns=families),
        [f"{i}|".encode() for i in range(1, 10)],
    )
    admin.close()
    conn = happybase.Connection(HOST, 9090, timeout=60_000)
    try:
        table = conn.table(name)
        assert [r["start_key"] for r in table.regions()] == [b""] + [f"{i}|".encode() for i in range(1, 10)]
        assert {f["compression"] for f in table.families().values()} == {b"SNAPPY"}
        for account in ("99872976879", "10707125", "5214977664"):
            key = f"{account[-1]}|20200508|{account}|84421955984|T100117".encode()
            table.put(key, {b"info:data": json.dumps({"tenant_alias": "T100117"}).encode()})
        rows = [
            key
            for i in range(10)
            for key, _ in table.scan(row_start=f"{i}|20200508".encode(), row_stop=f"{i}|20200509".encode())
        ]
        assert len(rows) == 3, rows
    finally:
        conn.delete_table(name, disable=True)
        conn.close()
    print("hbase: pre-split SNAPPY table created, 3 rows put and scanned by salt, table dropped")


def kafka() -> None:
    topic = f"independent_{RUN}"
    event = {"tenant": "T100117", "cur_job": "check", "log_type": "API_JOB_START", "data_date": "2020-05-08"}
    producer = KafkaProducer(
        bootstrap_servers=f"{HOST}:9092", value_serializer=lambda v: json.dumps(v).encode()
    )
    sent = producer.send(topic, event).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=f"{HOST}:9092", consumer_timeout_ms=20_000)
    partition = TopicPartition(topic, sent.partition)
    consumer.assign([partition])
    consumer.seek(partition, sent.offset)
    received = json.loads(next(iter(consumer)).value)
    consumer.close()
    assert received == event, received
    print("kafka: JSON event produced and consumed")


def redis_sorted_sets() -> None:
    client = redis.Redis(host=HOST, port=6379, db=2)
    key = f"gdt_advertiser_v1.1_T{RUN.translate(str.maketrans('abcdef', '123456'))}_20200520"
    client.zadd(key, {"10707125": 1050262, "10707126": 1050262, "20000001": 4011704})
    assert client.zrangebyscore(key, 1050262, 1050262) == [b"10707125", b"10707126"]
    client.delete(key)
    print("redis: account -> agent sorted set written and read by score (db 2)")


def mysql_eton() -> None:
    conn = pymysql.connect(host=HOST, port=3306, user="ark", password="ark")
    try:
        database = f"independent_{RUN}"  # generated above from hex digits only
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{database}`")
            conn.select_db(database)
            cur.execute(
                "CREATE TABLE agents (agent_id_from_platform VARCHAR(32), auth_status INT, auth_type INT)"
            )
            rows = [("1050262", 1, 1), ("4011704", 2, 1), ("9", 0, 1), ("8", 1, 2)]
            cur.executemany("INSERT INTO agents VALUES (%s, %s, %s)", rows)
            cur.execute(
                "SELECT agent_id_from_platform FROM agents"
                " WHERE auth_status IN (1, 2) AND auth_type = 1 ORDER BY 1"
            )
            assert [row[0] for row in cur.fetchall()] == ["1050262", "4011704"]
            cur.execute(f"DROP DATABASE `{database}`")
    finally:
        conn.close()
    print("mysql: eton-style agents table queried with the seed's active-agent filter")


if __name__ == "__main__":
    for check in (hbase, kafka, redis_sorted_sets, mysql_eton):
        try:
            check()
        except Exception as exc:
            sys.exit(f"{check.__name__} failed: {exc!r}")
