//! Row decoding for the objects of the whole database (default privileges, event triggers,
//! publications, foreign-data wrappers, servers and user mappings) and for security labels:
//! one function per query, as in `rows.rs`.

use postgres::{Error, Row};

use super::rows::key;
use crate::snapshot::model::*;

pub(super) fn default_privilege(r: &Row) -> Result<DefaultPrivilege, Error> {
    Ok(DefaultPrivilege {
        role: r.try_get("role")?,
        role_is_current: r.try_get("role_is_current")?,
        schema: r.try_get("schema")?,
        object_type: r.try_get("object_type")?,
        grant: r.try_get("is_grant")?,
        grantee: r.try_get("grantee")?,
        grantee_is_current: r.try_get("grantee_is_current")?,
        privilege: r.try_get("privilege")?,
        grantable: r.try_get("grantable")?,
    })
}

pub(super) fn event_trigger(r: &Row) -> Result<EventTrigger, Error> {
    Ok(EventTrigger {
        oid: r.try_get("oid")?,
        name: r.try_get("name")?,
        event: r.try_get("event")?,
        function: r.try_get("function")?,
        enabled: r.try_get("enabled")?,
        tags: r.try_get("tags")?,
    })
}

pub(super) fn publication(r: &Row) -> Result<Publication, Error> {
    Ok(Publication {
        oid: r.try_get("oid")?,
        name: r.try_get("name")?,
        all_tables: r.try_get("all_tables")?,
        insert: r.try_get("insert")?,
        update: r.try_get("update")?,
        delete: r.try_get("delete")?,
        truncate: r.try_get("truncate")?,
        via_root: r.try_get("via_root")?,
    })
}

pub(super) fn publication_member(r: &Row) -> Result<PublicationMember, Error> {
    Ok(PublicationMember {
        publication_oid: r.try_get("publication_oid")?,
        schema: r.try_get("schema")?,
        table_name: r.try_get("table_name")?,
        columns: r.try_get("columns")?,
        row_filter: r.try_get("row_filter")?,
    })
}

pub(super) fn foreign_data_wrapper(r: &Row) -> Result<ForeignDataWrapper, Error> {
    Ok(ForeignDataWrapper {
        oid: r.try_get("oid")?,
        name: r.try_get("name")?,
        handler: r.try_get("handler")?,
        validator: r.try_get("validator")?,
        options: r.try_get("options")?,
        member: r.try_get("member")?,
        usable: r.try_get("usable")?,
    })
}

pub(super) fn foreign_server(r: &Row) -> Result<ForeignServer, Error> {
    Ok(ForeignServer {
        oid: r.try_get("oid")?,
        name: r.try_get("name")?,
        wrapper_oid: r.try_get("wrapper_oid")?,
        wrapper: r.try_get("wrapper")?,
        server_type: r.try_get("type")?,
        version: r.try_get("version")?,
        options: r.try_get("options")?,
    })
}

pub(super) fn user_mapping(r: &Row) -> Result<UserMapping, Error> {
    Ok(UserMapping {
        server_oid: r.try_get("server_oid")?,
        server: r.try_get("server")?,
        role: r.try_get("role")?,
        for_owner: r.try_get("for_owner")?,
        options: r.try_get("options")?,
    })
}

pub(super) fn security_label(r: &Row) -> Result<SecurityLabel, Error> {
    Ok(SecurityLabel {
        object: key(r, "catalog", "oid")?,
        position: r.try_get("position")?,
        column: r.try_get("column_name")?,
        provider: r.try_get("provider")?,
        label: r.try_get("label")?,
    })
}
