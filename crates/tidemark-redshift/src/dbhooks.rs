//! The service's side of [`crate::ClusterDatabase`]: bringing databases up with their
//! clusters (and at server start), keeping each cluster's Endpoint in step with where its
//! database listens, and failing a snapshot whose data could not be taken.

use tidemark_model::CommonError;
use tidemark_model::redshift::Endpoint;

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::database::{DbCluster, DbEndpoint, DbStart};

/// The database layer's view of a stored cluster.
pub(crate) fn db_cluster<'a>(scope: &'a Scope, rec: &'a ClusterRec) -> DbCluster<'a> {
    let c = &rec.cluster;
    DbCluster {
        scope,
        id: c.cluster_identifier.as_deref().unwrap_or_default(),
        port: rec.port,
        master_username: c.master_username.as_deref().unwrap_or_default(),
        master_password_md5: rec.master_md5.as_deref().unwrap_or_default(),
        db_name: c.db_name.as_deref().unwrap_or("dev"),
    }
}

/// Points the record's Endpoint (and port) at where its database listens.
pub(crate) fn set_endpoint(rec: &mut ClusterRec, ep: &DbEndpoint) {
    rec.port = ep.port;
    rec.host = ep.address.clone();
    rec.cluster.endpoint = Some(Endpoint {
        address: Some(ep.address.clone()),
        port: Some(ep.port),
        ..rec.cluster.endpoint.take().unwrap_or_default()
    });
}

impl RedshiftService {
    /// Starts cluster `rec`'s database; on success the record's Endpoint says where it is.
    pub(crate) fn start_database(
        &self,
        scope: &Scope,
        rec: &mut ClusterRec,
        how: DbStart,
    ) -> Result<(), String> {
        let ep = self
            .db
            .start(&db_cluster(scope, rec), how, self.volumes.as_ref())?;
        if let Some(ep) = ep {
            set_endpoint(rec, &ep);
        }
        Ok(())
    }

    /// Starts the database of every available cluster of every account (server start:
    /// jobs that were mid-way resume on their own). A cluster whose database cannot start
    /// stays available as a control-plane record; the failure is logged and its Endpoint
    /// answers the error to clients.
    pub fn start_databases(&self) -> Result<(), String> {
        let recs: Vec<(Vec<u8>, ClusterRec)> = {
            let txn = self.store.read().map_err(|e| e.to_string())?;
            txn.scan_prefix(CLUSTERS_TABLE, &[])
                .map_err(|e| e.to_string())?
                .filter_map(|entry| {
                    let (k, v) = entry.ok()?;
                    serde_json::from_slice(&v).ok().map(|r| (k, r))
                })
                .collect()
        };
        for (key, mut rec) in recs {
            if rec.cluster.cluster_status.as_deref() != Some("available") {
                continue;
            }
            let Some(scope) = Scope::from_key(&key) else {
                continue;
            };
            let before = (rec.port, rec.host.clone());
            if let Err(e) = self.start_database(&scope, &mut rec, DbStart::Existing) {
                tracing::warn!(cluster = ?rec.cluster.cluster_identifier, "database did not start: {e}");
                continue;
            }
            if before != (rec.port, rec.host.clone()) {
                let mut w = self.store.write().map_err(|e| e.to_string())?;
                catalog::put(&mut *w, CLUSTERS_TABLE, &key, &rec).map_err(|e| e.to_string())?;
                w.commit().map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// After ModifyCluster changed the port or the master password: tells the database
    /// layer and stores the Endpoint it answers.
    pub(crate) fn refresh_endpoint(&self, scope: &Scope, id: &str) -> Result<(), CommonError> {
        let Some(rec) = self.load_cluster(scope, id)? else {
            return Ok(());
        };
        let Some(ep) = self
            .db
            .update(&db_cluster(scope, &rec))
            .map_err(CommonError::Internal)?
        else {
            return Ok(());
        };
        let mut w = self.store.write().map_err(internal)?;
        if let Some(mut fresh) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(id))? {
            set_endpoint(&mut fresh, &ep);
            catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(id), &fresh)?;
            w.commit().map_err(internal)?;
        }
        Ok(())
    }

    /// A snapshot whose data could not be taken turns `failed` (a status AWS shows in
    /// DescribeClusterSnapshots) instead of staying `creating` forever.
    pub(crate) fn fail_snapshot(
        &self,
        scope: &Scope,
        id: &str,
        reason: &str,
    ) -> Result<(), CommonError> {
        tracing::warn!(snapshot = id, "snapshot failed: {reason}");
        let key = scope.key(id);
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<SnapRec>(&*w, SNAPSHOTS_TABLE, &key)? else {
            return Ok(());
        };
        rec.snap.status = Some("failed".into());
        rec.snap.estimated_seconds_to_completion = Some(0);
        catalog::put(&mut *w, SNAPSHOTS_TABLE, &key, &rec)?;
        w.commit().map_err(internal)
    }
}
