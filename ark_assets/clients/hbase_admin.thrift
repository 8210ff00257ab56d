// The part of HBase's Thrift2 service (THBaseService, port 9091 by default) that Ark Assets uses:
// table DDL with split keys, which HBase's Thrift1 interface (the one happybase speaks) lacks.
// Field ids and method names follow the Thrift2 IDL shipped in hbase-thrift 2.x; fields we do
// not use are left out, which Thrift allows.

enum TCompressionAlgorithm { LZO = 0, GZ = 1, NONE = 2, SNAPPY = 3, LZ4 = 4, BZIP2 = 5, ZSTD = 6 }

struct TTableName {
  1: optional binary ns
  2: required binary qualifier
}

struct TColumnFamilyDescriptor {
  1: required binary name
  6: optional TCompressionAlgorithm compressionType
  10: optional i32 maxVersions
}

struct TTableDescriptor {
  1: required TTableName tableName
  2: optional list<TColumnFamilyDescriptor> columns
}

exception TIOError {
  1: optional string message
  2: optional bool canRetry
}

service THBaseService {
  bool tableExists(1: TTableName tableName) throws (1: TIOError io)
  TTableDescriptor getTableDescriptor(1: required TTableName table) throws (1: TIOError io)
  void createTable(1: required TTableDescriptor desc, 2: optional list<binary> splitKeys) throws (1: TIOError io)
}
