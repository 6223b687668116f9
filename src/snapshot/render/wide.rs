//! Blocks for the objects of the whole database: foreign-data wrappers, foreign servers and
//! user mappings (before the tables that use them), publications, default privileges and
//! event triggers. The last two come after everything else: default privileges would reach
//! the objects the snapshot creates after them, and an event trigger would fire on them.
//! Security labels go into the block of the object they are on, like comments.
//!
//! Options of wrappers, servers and mappings are written sorted by name, and options that
//! hold a secret ([`is_secret`]) are left out, name and value: a password must never reach a
//! snapshot file, and it differs between environments anyway, as owners do.

use std::collections::{BTreeMap, HashSet};

use super::{Blocks, Kind};
use crate::db::quote_ident;
use crate::snapshot::model::{Catalog, DefaultPrivilege, Model};
use crate::snapshot::sql::{display, literal, qualified};

/// Whether a wrapper, server or user-mapping option holds a secret, by its name:
/// `password` (but not postgres_fdw's `password_required`, a switch), `passfile`,
/// `sslkey`, `sslpassword`, or anything with `secret`, `token` or `credential` in it.
pub(crate) fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name != "password_required"
        && [
            "password",
            "passfile",
            "sslkey",
            "secret",
            "token",
            "credential",
        ]
        .iter()
        .any(|word| name.contains(word))
}

/// ` OPTIONS (name 'value', ...)` for generic options stored as `name=value`: sorted by
/// name, secrets left out; empty when none is left.
pub(super) fn generic_options(list: &[String]) -> String {
    let mut items: Vec<String> = list
        .iter()
        .map(|option| option.split_once('=').unwrap_or((option, "")))
        .filter(|(name, _)| !is_secret(name))
        .map(|(name, value)| format!("{} {}", quote_ident(name), literal(value)))
        .collect();
    items.sort();
    match items.is_empty() {
        true => String::new(),
        false => format!(" OPTIONS ({})", items.join(", ")),
    }
}

pub(super) fn foreign_data(model: &Model, blocks: &mut Blocks) {
    wrappers(model, blocks);
    let servers = servers(model, blocks);
    user_mappings(model, blocks, &servers);
}

fn wrappers(model: &Model, blocks: &mut Blocks) {
    for wrapper in &model.foreign_data_wrappers {
        if wrapper.member || !wrapper.usable {
            continue;
        }
        let name = quote_ident(&wrapper.name);
        let mut body = format!("CREATE FOREIGN DATA WRAPPER {name}");
        if let Some(handler) = &wrapper.handler {
            body.push_str(&format!(" HANDLER {handler}"));
        }
        if let Some(validator) = &wrapper.validator {
            body.push_str(&format!(" VALIDATOR {validator}"));
        }
        body.push_str(&generic_options(&wrapper.options));
        body.push_str(";\n");
        let label = format!("foreign-data wrapper {}", display(&wrapper.name));
        let block = blocks.add(
            Kind::ForeignDataWrapper,
            ["", &wrapper.name, ""],
            label,
            body,
        );
        let target = format!("FOREIGN DATA WRAPPER {name}");
        let key = (Catalog::ForeignDataWrapper, wrapper.oid);
        blocks.own(block, key, Some(target.clone()), Some(target), None);
    }
}

/// Writes the servers of usable wrappers; returns their oids.
fn servers(model: &Model, blocks: &mut Blocks) -> HashSet<u32> {
    let usable: HashSet<u32> = model
        .foreign_data_wrappers
        .iter()
        .filter(|w| w.usable)
        .map(|w| w.oid)
        .collect();
    let mut written = HashSet::new();
    for server in &model.foreign_servers {
        if !usable.contains(&server.wrapper_oid) {
            continue;
        }
        written.insert(server.oid);
        let name = quote_ident(&server.name);
        let mut body = format!("CREATE SERVER {name}");
        if let Some(kind) = &server.server_type {
            body.push_str(&format!(" TYPE {}", literal(kind)));
        }
        if let Some(version) = &server.version {
            body.push_str(&format!(" VERSION {}", literal(version)));
        }
        body.push_str(&format!(
            " FOREIGN DATA WRAPPER {}{};\n",
            quote_ident(&server.wrapper),
            generic_options(&server.options)
        ));
        let label = format!("foreign server {}", display(&server.name));
        let block = blocks.add(Kind::ForeignServer, ["", &server.name, ""], label, body);
        let target = format!("SERVER {name}");
        let key = (Catalog::ForeignServer, server.oid);
        let grant_on = format!("FOREIGN SERVER {name}");
        blocks.own(block, key, Some(target), Some(grant_on), None);
    }
    written
}

fn user_mappings(model: &Model, blocks: &mut Blocks, servers: &HashSet<u32>) {
    for mapping in &model.user_mappings {
        if !servers.contains(&mapping.server_oid) {
            continue;
        }
        // The server's owner is whoever loads the snapshot: named CURRENT_USER, as the
        // owner's own privileges are.
        let (who, shown) = match mapping.role.as_str() {
            _ if mapping.for_owner => ("CURRENT_USER".to_string(), "CURRENT_USER".to_string()),
            "" => ("PUBLIC".to_string(), "PUBLIC".to_string()),
            role => (quote_ident(role), display(role)),
        };
        let body = format!(
            "CREATE USER MAPPING FOR {who} SERVER {}{};\n",
            quote_ident(&mapping.server),
            generic_options(&mapping.options)
        );
        let label = format!(
            "user mapping for {shown} server {}",
            display(&mapping.server)
        );
        let block = blocks.add(
            Kind::UserMapping,
            [&mapping.server, &shown, ""],
            label,
            body,
        );
        blocks.after((Catalog::ForeignServer, mapping.server_oid), block);
    }
}

pub(super) fn publications(model: &Model, blocks: &mut Blocks) {
    for publication in &model.publications {
        let name = quote_ident(&publication.name);
        let publish: Vec<&str> = [
            (publication.insert, "insert"),
            (publication.update, "update"),
            (publication.delete, "delete"),
            (publication.truncate, "truncate"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, what)| *what)
        .collect();
        let mut with = vec![format!("publish = {}", literal(&publish.join(", ")))];
        if publication.via_root {
            with.push("publish_via_partition_root = true".to_string());
        }
        let all = if publication.all_tables {
            " FOR ALL TABLES"
        } else {
            ""
        };
        let mut body = format!(
            "CREATE PUBLICATION {name}{all} WITH ({});\n",
            with.join(", ")
        );
        body.push_str(&publication_members(model, publication.oid, &name));
        let label = format!("publication {}", display(&publication.name));
        let block = blocks.add(Kind::Publication, ["", &publication.name, ""], label, body);
        let key = (Catalog::Publication, publication.oid);
        blocks.own(block, key, Some(format!("PUBLICATION {name}")), None, None);
    }
}

/// The `ALTER PUBLICATION ... ADD` lines of a publication: schemas first, then tables, each
/// sorted by name.
fn publication_members(model: &Model, publication: u32, name: &str) -> String {
    let mut members: Vec<(bool, &str, &str, String)> = Vec::new();
    for member in &model.publication_members {
        if member.publication_oid != publication {
            continue;
        }
        let Some(table) = &member.table_name else {
            let sql = format!(
                "ALTER PUBLICATION {name} ADD TABLES IN SCHEMA {};\n",
                quote_ident(&member.schema)
            );
            members.push((false, &member.schema, "", sql));
            continue;
        };
        let mut sql = format!(
            "ALTER PUBLICATION {name} ADD TABLE ONLY {}",
            qualified(&member.schema, table)
        );
        if let Some(columns) = &member.columns {
            // A column list is a set: by name, not by position.
            let mut columns: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
            columns.sort();
            sql.push_str(&format!(" ({})", columns.join(", ")));
        }
        if let Some(filter) = &member.row_filter {
            sql.push_str(&format!(" WHERE ({filter})"));
        }
        sql.push_str(";\n");
        members.push((true, &member.schema, table, sql));
    }
    members.sort();
    members.into_iter().map(|(_, _, _, sql)| sql).collect()
}

/// The SQL word for the objects a default-privileges entry is about, and the header's.
fn objects(object_type: &str) -> (&'static str, &'static str) {
    match object_type {
        "S" => ("SEQUENCES", "sequences"),
        "f" => ("FUNCTIONS", "functions"),
        "T" => ("TYPES", "types"),
        "n" => ("SCHEMAS", "schemas"),
        _ => ("TABLES", "tables"),
    }
}

pub(super) fn default_privileges(model: &Model, blocks: &mut Blocks) {
    // One block per entry: (schema, role, object type).
    let mut entries: BTreeMap<(String, String, String), Vec<&DefaultPrivilege>> = BTreeMap::new();
    for privilege in &model.default_privileges {
        let role = match privilege.role_is_current {
            true => String::new(),
            false => privilege.role.clone(),
        };
        let schema = privilege.schema.clone().unwrap_or_default();
        let key = (schema, role, privilege.object_type.clone());
        entries.entry(key).or_default().push(privilege);
    }
    for ((schema, role, object_type), privileges) in entries {
        let (sql_objects, shown_objects) = objects(&object_type);
        let mut prefix = String::from("ALTER DEFAULT PRIVILEGES");
        let mut label = String::from("default privileges");
        if !role.is_empty() {
            prefix.push_str(&format!(" FOR ROLE {}", quote_ident(&role)));
            label.push_str(&format!(" for role {}", display(&role)));
        }
        if !schema.is_empty() {
            prefix.push_str(&format!(" IN SCHEMA {}", quote_ident(&schema)));
            label.push_str(&format!(" in schema {}", display(&schema)));
        }
        label.push_str(&format!(" on {shown_objects}"));
        let mut lines: Vec<(bool, String)> = privileges
            .iter()
            .map(|p| {
                let grantee = match p.grantee.as_str() {
                    _ if p.grantee_is_current => "CURRENT_USER".to_string(),
                    "" => "PUBLIC".to_string(),
                    role => quote_ident(role),
                };
                let what = &p.privilege;
                match p.grant {
                    true => {
                        let option = if p.grantable {
                            " WITH GRANT OPTION"
                        } else {
                            ""
                        };
                        let sql = format!(
                            "{prefix} GRANT {what} ON {sql_objects} TO {grantee}{option};\n"
                        );
                        (true, sql)
                    }
                    false => {
                        let sql =
                            format!("{prefix} REVOKE {what} ON {sql_objects} FROM {grantee};\n");
                        (false, sql)
                    }
                }
            })
            .collect();
        // Revokes first: a right given back with grant option is revoked, then granted.
        lines.sort();
        let body: String = lines.into_iter().map(|(_, sql)| sql).collect();
        let sort = [&*schema, &role, shown_objects];
        blocks.add(Kind::DefaultPrivileges, sort, label, body);
    }
}

pub(super) fn event_triggers(model: &Model, blocks: &mut Blocks) {
    for trigger in &model.event_triggers {
        let name = quote_ident(&trigger.name);
        let mut body = format!("CREATE EVENT TRIGGER {name} ON {}", display(&trigger.event));
        if !trigger.tags.is_empty() {
            // A set: sorted, whatever order it was given in.
            let mut tags: Vec<String> = trigger.tags.iter().map(|t| literal(t)).collect();
            tags.sort();
            body.push_str(&format!(" WHEN TAG IN ({})", tags.join(", ")));
        }
        body.push_str(&format!(" EXECUTE FUNCTION {}();\n", trigger.function));
        let state = match trigger.enabled.as_str() {
            "D" => Some("DISABLE"),
            "R" => Some("ENABLE REPLICA"),
            "A" => Some("ENABLE ALWAYS"),
            _ => None,
        };
        if let Some(state) = state {
            body.push_str(&format!("ALTER EVENT TRIGGER {name} {state};\n"));
        }
        let label = format!("event trigger {}", display(&trigger.name));
        let block = blocks.add(Kind::EventTrigger, ["", &trigger.name, ""], label, body);
        let key = (Catalog::EventTrigger, trigger.oid);
        blocks.own(
            block,
            key,
            Some(format!("EVENT TRIGGER {name}")),
            None,
            None,
        );
    }
}

/// `SECURITY LABEL FOR provider ON ... IS ...`, in the block of the object it is on, after
/// its comments and privileges; named as COMMENT ON names the object.
pub(super) fn attach_security_labels(model: &Model, blocks: &mut Blocks) {
    for label in &model.security_labels {
        let Some(owner) = blocks.owners.get(&label.object) else {
            continue;
        };
        let target = match (&label.column, &owner.columns_of) {
            (Some(column), Some(relation)) if label.position > 0 => {
                format!("COLUMN {relation}.{}", quote_ident(column))
            }
            _ if label.position == 0 => match &owner.comment_on {
                Some(target) => target.clone(),
                None => continue,
            },
            _ => continue,
        };
        let statement = format!(
            "SECURITY LABEL FOR {} ON {target} IS {};\n",
            quote_ident(&label.provider),
            literal(&label.label)
        );
        let group = if label.position == 0 { 4 } else { 5 };
        let column = label.column.clone().unwrap_or_default();
        blocks.list[owner.block]
            .extras
            .push((group, column, statement));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::model::{Schema, SecurityLabel};

    #[test]
    fn secrets_are_known_by_name_and_left_out() {
        for secret in [
            "password",
            "PASSWORD",
            "sslpassword",
            "passfile",
            "sslkey",
            "api_token",
        ] {
            assert!(is_secret(secret), "{secret}");
        }
        for plain in ["password_required", "user", "host", "sslcert", "dbname"] {
            assert!(!is_secret(plain), "{plain}");
        }
        let list = [
            "user=app".to_string(),
            "password=x'y".to_string(),
            "host=h".to_string(),
        ];
        assert_eq!(
            generic_options(&list),
            " OPTIONS (\"host\" 'h', \"user\" 'app')"
        );
        assert_eq!(generic_options(&list[1..2]), "");
    }

    /// No label provider is loaded on a stock server, so the rendering is tested here.
    #[test]
    fn security_labels_go_into_their_objects_block() {
        let model = Model {
            schemas: vec![Schema {
                oid: 900_001,
                name: "app".into(),
            }],
            security_labels: vec![SecurityLabel {
                object: (Catalog::Namespace, 900_001),
                position: 0,
                column: None,
                provider: "selinux".into(),
                label: "system_u:object_r:sepgsql_schema_t:s0".into(),
            }],
            ..Model::default()
        };
        let text = super::super::render(&model);
        assert!(
            text.contains(
                "\n-- schema app\nCREATE SCHEMA IF NOT EXISTS \"app\";\nSECURITY LABEL FOR \"selinux\" ON SCHEMA \"app\" IS 'system_u:object_r:sepgsql_schema_t:s0';\n"
            ),
            "{text}"
        );
    }
}
