//! The status map's persistence: `status_nodes` (node key → encoded node), `status_values`
//! (subject key → encoded `SubjectStatus`), and the root in the `logs` CF.
//!
//! The tree logic is the protocol's (`credx_protocol::statusmap`); this module gives it a
//! [`NodeStore`] over the CF — each `get_nodes` call is ONE `batched_multi_get_cf` — and
//! turns a computed `TreeUpdate` into rows of an append's `WriteBatch`. Nodes, values and the
//! root change only inside an append, so the map is always the function of the durable logs.

use credx_protocol::merkle::Hash;
use credx_protocol::statusmap::{
    apply_updates, prove, Node, NodeKey, NodeStore, StatusMapError, StatusProof, SubjectStatus,
};
use rocksdb::{ColumnFamily, WriteBatch, DB};

use super::{RocksStorage, CF_STATUS_NODES, CF_STATUS_VALUES};
use crate::api::{StatusStore, StatusWrite};
use crate::error::{hex_key, Result, StorageError};

/// The protocol's node store over the `status_nodes` CF.
pub struct CfNodeStore<'a> {
    db: &'a DB,
    cf: &'a ColumnFamily,
}

impl std::fmt::Debug for CfNodeStore<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CfNodeStore").finish_non_exhaustive()
    }
}

impl NodeStore for CfNodeStore<'_> {
    fn get_nodes(
        &self,
        keys: &[NodeKey],
    ) -> std::result::Result<Vec<Option<Node>>, StatusMapError> {
        let raw: Vec<Vec<u8>> = keys.iter().map(|k| k.to_bytes()).collect();
        let sorted = raw.windows(2).all(|w| w[0] < w[1]);
        let values = self.db.batched_multi_get_cf(self.cf, &raw, sorted);
        let mut out = Vec::with_capacity(keys.len());
        for (value, key) in values.into_iter().zip(&raw) {
            match value {
                Ok(Some(v)) => out.push(Some(Node::decode(&v).map_err(|e| {
                    StatusMapError::Store(format!(
                        "column family {CF_STATUS_NODES}: node at key {} is corrupt: {e}",
                        hex_key(key)
                    ))
                })?)),
                Ok(None) => out.push(None),
                Err(e) => return Err(StatusMapError::Store(format!("{CF_STATUS_NODES}: {e}"))),
            }
        }
        Ok(out)
    }
}

impl RocksStorage {
    fn node_store(&self) -> Result<CfNodeStore<'_>> {
        Ok(CfNodeStore {
            db: self.db(),
            cf: self.cf(CF_STATUS_NODES)?,
        })
    }

    /// Adds a status-map transition to an append's write batch (the caller checked the CAS).
    pub(crate) fn put_status_write(&self, wb: &mut WriteBatch, status: &StatusWrite) -> Result<()> {
        let nodes = self.cf(CF_STATUS_NODES)?;
        for key in &status.node_deletes {
            wb.delete_cf(nodes, key);
        }
        for (key, node) in &status.node_writes {
            wb.put_cf(nodes, key, node);
        }
        let values = self.cf(CF_STATUS_VALUES)?;
        for (key, value) in &status.values {
            match value {
                Some(v) => wb.put_cf(values, key.0, v),
                None => wb.delete_cf(values, key.0),
            }
        }
        self.put_status_root(wb, &status.new_root)
    }
}

fn map_err(e: StatusMapError) -> StorageError {
    StorageError::StatusMap(e.to_string())
}

impl StatusStore for RocksStorage {
    fn status_root(&self) -> Result<Hash> {
        Ok(*self.lock_status_root()?)
    }

    fn subject_status(&self, key: &Hash) -> Result<Option<Vec<u8>>> {
        self.get(CF_STATUS_VALUES, &key.0)
    }

    fn status_proof(&self, key: &Hash) -> Result<StatusProof> {
        // The root and the nodes must belong together: hold the root lock so no append
        // replaces nodes under the proof (nodes of old roots are deleted).
        let root = self.lock_status_root()?;
        prove(&root, key, &self.node_store()?).map_err(map_err)
    }

    fn plan_status_update(&self, updates: &[(Hash, Option<Vec<u8>>)]) -> Result<StatusWrite> {
        // Later updates of the same subject win (application order), as in the WriteBatch.
        let mut last: std::collections::BTreeMap<Hash, &Option<Vec<u8>>> = Default::default();
        for (key, value) in updates {
            last.insert(*key, value);
        }
        let mut hashed = Vec::with_capacity(last.len());
        let mut values = Vec::with_capacity(last.len());
        for (key, value) in last {
            let value_hash = match value {
                Some(bytes) => Some(
                    SubjectStatus::decode(bytes)
                        .and_then(|s| s.value_hash())
                        .map_err(|e| StorageError::StatusMap(format!("status of {key}: {e}")))?,
                ),
                None => None,
            };
            hashed.push((key, value_hash));
            values.push((key, value.clone()));
        }
        // Root and nodes are read under the root lock so they belong together; the append
        // re-checks the root (compare-and-swap) before writing.
        let root = self.lock_status_root()?;
        let update = apply_updates(&root, &hashed, &self.node_store()?).map_err(map_err)?;
        Ok(StatusWrite {
            expected_root: *root,
            new_root: update.new_root,
            node_writes: update
                .writes
                .iter()
                .map(|(k, n)| (k.to_bytes(), n.encode().to_vec()))
                .collect(),
            node_deletes: update.deletes.iter().map(|k| k.to_bytes()).collect(),
            values,
        })
    }
}
