"""How asset outputs are persisted: the HBase IO manager (and its FILE / NONE modes)."""
