//! Objects of the whole database (issue 13: not read): default privileges, event triggers,
//! publications, foreign-data wrappers, foreign servers, user mappings and foreign tables. One property
//! changed at a time on the every-kind fixture, as in `mutations`: the snapshot must change in
//! exactly the objects named, and load back the same; no-op rebuilds must change nothing.

use pgstrata::snapshot::{compare, take};

use super::mutations::{assert_changes, assert_unchanged, before_and_after, changes, unchanged};
use super::{assert_round_trip, every_kind_sql, options, role, run_sql, snapshot};
use crate::harness::TestDb;

// Default privileges, relative to the built-in ones.
changes! {
    default_privileges_granted: "ALTER DEFAULT PRIVILEGES IN SCHEMA later GRANT INSERT ON TABLES TO __ROLE__" => ["~ default privileges in schema later on tables"];
    default_privileges_grant_option: "ALTER DEFAULT PRIVILEGES IN SCHEMA later GRANT SELECT ON TABLES TO __ROLE__ WITH GRANT OPTION" => ["~ default privileges in schema later on tables"];
    default_privileges_grant_option_revoked: "ALTER DEFAULT PRIVILEGES IN SCHEMA later REVOKE GRANT OPTION FOR USAGE ON SEQUENCES FROM __ROLE__" => ["~ default privileges in schema later on sequences"];
    default_privileges_back_to_none: "ALTER DEFAULT PRIVILEGES IN SCHEMA later REVOKE USAGE ON SEQUENCES FROM __ROLE__" => ["- default privileges in schema later on sequences"];
    default_privileges_back_to_built_in: "ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO PUBLIC" => ["- default privileges on functions"];
    default_privileges_of_the_owner_revoked: "ALTER DEFAULT PRIVILEGES REVOKE DELETE ON TABLES FROM CURRENT_USER" => ["+ default privileges on tables"];
    default_privileges_on_schemas: "ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO __ROLE__" => ["+ default privileges on schemas"];
    default_privileges_to_public: "ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT USAGE ON TYPES TO PUBLIC" => ["+ default privileges in schema app on types"];
    // What default privileges give a new object is that object's grant.
    default_privileges_reach_a_new_table: "CREATE TABLE later.t (x integer)" => ["+ table later.t"];
}

unchanged! {
    default_privileges_granted_and_revoked: "ALTER DEFAULT PRIVILEGES IN SCHEMA later GRANT DELETE ON TABLES TO __ROLE__; ALTER DEFAULT PRIVILEGES IN SCHEMA later REVOKE DELETE ON TABLES FROM __ROLE__";
    default_privileges_set_again: "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC; ALTER DEFAULT PRIVILEGES IN SCHEMA later GRANT SELECT ON TABLES TO __ROLE__";
}

#[test]
fn default_privileges_for_another_role_name_it() {
    let (before, after) = before_and_after(
        "ALTER DEFAULT PRIVILEGES FOR ROLE __ROLE__ GRANT USAGE ON TYPES TO PUBLIC",
    );
    let comparison = compare(&before, &after, "before", "after");
    let summary: Vec<String> = comparison.changes.iter().map(|c| c.to_string()).collect();
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert!(
        summary[0].starts_with("- default privileges for role r_")
            && summary[0].ends_with(" on types"),
        "{summary:?}"
    );
    assert!(
        before.contains("ALTER DEFAULT PRIVILEGES FOR ROLE \"r_"),
        "{before}"
    );
}

#[test]
fn default_privileges_of_the_role_taking_the_snapshot_do_not_name_it() {
    // The same entry made by the server's superuser and by another role, each snapshotted
    // by the role that made it, as whoever runs the migrations takes the snapshots.
    const SQL: &str = "ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO PUBLIC";
    let by_superuser = TestDb::new();
    run_sql(&by_superuser, &format!("CREATE SCHEMA s; {SQL}"));
    let by_role = TestDb::new();
    let role = role(&by_role);
    run_sql(
        &by_role,
        &format!("CREATE SCHEMA s; SET ROLE {role}; {SQL}"),
    );
    let mut as_role = by_role.connect();
    as_role.batch_execute(&format!("SET ROLE {role}")).unwrap();
    let theirs = take(&mut as_role, &options()).unwrap().render();
    let ours = snapshot(&by_superuser);
    let comparison = compare(&ours, &theirs, "superuser's", "role's");
    assert!(comparison.is_same(), "{}", comparison.unified);
    assert!(
        ours.contains("\n-- default privileges in schema s on tables\nALTER DEFAULT PRIVILEGES IN SCHEMA \"s\" GRANT SELECT ON TABLES TO PUBLIC;\n"),
        "{ours}"
    );
    // Taken by another role, the entry names its role.
    let named = snapshot(&by_role);
    assert!(
        named.contains(&format!("FOR ROLE {role} IN SCHEMA")),
        "{named}"
    );
    assert_round_trip(&ours);
}

// Event triggers.
changes! {
    event_trigger_disabled: "ALTER EVENT TRIGGER app_ddl DISABLE" => ["~ event trigger app_ddl"];
    event_trigger_enabled: "ALTER EVENT TRIGGER app_drops ENABLE" => ["~ event trigger app_drops"];
    event_trigger_replica: "ALTER EVENT TRIGGER app_drops ENABLE REPLICA" => ["~ event trigger app_drops"];
    event_trigger_tags: "DROP EVENT TRIGGER app_ddl; CREATE EVENT TRIGGER app_ddl ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION app.note_ddl(); ALTER EVENT TRIGGER app_ddl ENABLE ALWAYS; COMMENT ON EVENT TRIGGER app_ddl IS 'watches tables'" => ["~ event trigger app_ddl"];
    event_trigger_event: "DROP EVENT TRIGGER app_drops; CREATE EVENT TRIGGER app_drops ON ddl_command_start EXECUTE FUNCTION app.note_ddl(); ALTER EVENT TRIGGER app_drops DISABLE" => ["~ event trigger app_drops"];
    event_trigger_function: "CREATE FUNCTION app.other_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN NULL; END $$; DROP EVENT TRIGGER app_drops; CREATE EVENT TRIGGER app_drops ON sql_drop EXECUTE FUNCTION app.other_ddl(); ALTER EVENT TRIGGER app_drops DISABLE" => ["~ event trigger app_drops", "+ function app.other_ddl()"];
    event_trigger_added: "CREATE EVENT TRIGGER app_rewrites ON table_rewrite EXECUTE FUNCTION app.note_ddl()" => ["+ event trigger app_rewrites"];
    event_trigger_dropped: "DROP EVENT TRIGGER app_drops" => ["- event trigger app_drops"];
    comment_on_event_trigger: "COMMENT ON EVENT TRIGGER app_ddl IS NULL" => ["~ event trigger app_ddl"];
}

unchanged! {
    event_trigger_tags_in_another_order: "DROP EVENT TRIGGER app_ddl; CREATE EVENT TRIGGER app_ddl ON ddl_command_end WHEN TAG IN ('alter table', 'CREATE TABLE') EXECUTE FUNCTION app.note_ddl(); ALTER EVENT TRIGGER app_ddl ENABLE ALWAYS; COMMENT ON EVENT TRIGGER app_ddl IS 'watches tables'";
    event_trigger_toggled: "ALTER EVENT TRIGGER app_drops ENABLE; ALTER EVENT TRIGGER app_drops DISABLE";
}

// Publications.
changes! {
    publication_publish: "ALTER PUBLICATION everything SET (publish = 'insert')" => ["~ publication everything"];
    publication_via_root: "ALTER PUBLICATION some_images SET (publish_via_partition_root = false)" => ["~ publication some_images"];
    publication_column_list: "ALTER PUBLICATION some_images SET TABLE app.images (id, url) WHERE (NOT explicit), app.offerings" => ["~ publication some_images"];
    publication_column_list_dropped: "ALTER PUBLICATION some_images SET TABLE app.images WHERE (NOT explicit), app.offerings" => ["~ publication some_images"];
    publication_row_filter: "ALTER PUBLICATION some_images SET TABLE app.images (id, url, title) WHERE (url <> ''), app.offerings" => ["~ publication some_images"];
    publication_row_filter_dropped: "ALTER PUBLICATION some_images SET TABLE app.images (id, url, title), app.offerings" => ["~ publication some_images"];
    publication_table_dropped: "ALTER PUBLICATION some_images DROP TABLE app.offerings" => ["~ publication some_images"];
    publication_table_added: "ALTER PUBLICATION some_images ADD TABLE app.bookings" => ["~ publication some_images"];
    publication_schema_dropped: "ALTER PUBLICATION app_schema DROP TABLES IN SCHEMA app" => ["~ publication app_schema"];
    publication_schema_added: "ALTER PUBLICATION app_schema ADD TABLES IN SCHEMA later" => ["~ publication app_schema"];
    publication_added: "CREATE PUBLICATION more FOR TABLE app.bookings" => ["+ publication more"];
    publication_dropped: "DROP PUBLICATION everything" => ["- publication everything"];
    comment_on_publication: "COMMENT ON PUBLICATION some_images IS NULL" => ["~ publication some_images"];
}

unchanged! {
    publication_rebuilt_in_another_order: "DROP PUBLICATION some_images; CREATE PUBLICATION some_images FOR TABLE app.offerings, app.images (title, url, id) WHERE (NOT explicit) WITH (publish_via_partition_root = true, publish = 'insert'); COMMENT ON PUBLICATION some_images IS 'safe images'";
}

// Foreign-data wrappers, servers and user mappings.
changes! {
    wrapper_options: "ALTER FOREIGN DATA WRAPPER dummy OPTIONS (DROP debug)" => ["~ foreign-data wrapper dummy"];
    wrapper_handler: "ALTER FOREIGN DATA WRAPPER dummy HANDLER public.postgres_fdw_handler" => ["~ foreign-data wrapper dummy"];
    wrapper_validator: "ALTER FOREIGN DATA WRAPPER dummy OPTIONS (DROP debug); ALTER FOREIGN DATA WRAPPER dummy VALIDATOR postgresql_fdw_validator" => ["~ foreign-data wrapper dummy"];
    wrapper_added: "CREATE FOREIGN DATA WRAPPER other" => ["+ foreign-data wrapper other"];
    comment_on_wrapper: "COMMENT ON FOREIGN DATA WRAPPER dummy IS NULL" => ["~ foreign-data wrapper dummy"];
    wrapper_granted: "GRANT USAGE ON FOREIGN DATA WRAPPER dummy TO __ROLE__" => ["~ foreign-data wrapper dummy"];
    extension_wrapper_grant_revoked: "REVOKE USAGE ON FOREIGN DATA WRAPPER postgres_fdw FROM __ROLE__" => ["~ extension postgres_fdw"];
    server_option_changed: "ALTER SERVER loopback OPTIONS (SET port '5433')" => ["~ foreign server loopback"];
    server_option_added: "ALTER SERVER loopback OPTIONS (ADD fetch_size '500')" => ["~ foreign server loopback"];
    server_option_dropped: "ALTER SERVER loopback OPTIONS (DROP dbname)" => ["~ foreign server loopback"];
    server_version: "ALTER SERVER elsewhere VERSION '3'" => ["~ foreign server elsewhere"];
    server_type: "DROP USER MAPPING FOR __ROLE__ SERVER elsewhere; DROP SERVER elsewhere; CREATE SERVER elsewhere VERSION '2' FOREIGN DATA WRAPPER dummy; CREATE USER MAPPING FOR __ROLE__ SERVER elsewhere" => ["~ foreign server elsewhere"];
    server_granted: "GRANT USAGE ON FOREIGN SERVER elsewhere TO PUBLIC" => ["~ foreign server elsewhere"];
    server_usage_revoked_from_owner: "REVOKE USAGE ON FOREIGN SERVER loopback FROM CURRENT_USER" => ["~ foreign server loopback"];
    server_added: "CREATE SERVER third FOREIGN DATA WRAPPER dummy" => ["+ foreign server third"];
    comment_on_server: "COMMENT ON SERVER loopback IS 'other'" => ["~ foreign server loopback"];
    user_mapping_options: "ALTER USER MAPPING FOR PUBLIC SERVER loopback OPTIONS (SET user 'other')" => ["~ user mapping for PUBLIC server loopback"];
    user_mapping_added: "CREATE USER MAPPING FOR PUBLIC SERVER elsewhere" => ["+ user mapping for PUBLIC server elsewhere"];
    user_mapping_dropped: "DROP USER MAPPING FOR PUBLIC SERVER loopback" => ["- user mapping for PUBLIC server loopback"];
}

unchanged! {
    // Passwords are left out: never printed, and they differ between environments.
    user_mapping_password_changed: "ALTER USER MAPPING FOR CURRENT_USER SERVER loopback OPTIONS (SET password 'another')";
    server_options_in_another_order: "ALTER SERVER loopback OPTIONS (DROP host); ALTER SERVER loopback OPTIONS (ADD host 'localhost')";
}

// Foreign tables.
changes! {
    foreign_table_option: "ALTER FOREIGN TABLE app.remote_images OPTIONS (SET table_name 'other')" => ["~ foreign table app.remote_images"];
    foreign_table_option_dropped: "ALTER FOREIGN TABLE app.remote_images OPTIONS (DROP schema_name)" => ["~ foreign table app.remote_images"];
    foreign_table_server: "DROP FOREIGN TABLE app.readings_old; CREATE FOREIGN TABLE app.readings_old PARTITION OF app.readings FOR VALUES FROM ('2000-01-01') TO ('2020-01-01') SERVER loopback OPTIONS (table_name 'old')" => ["~ foreign table app.readings_old"];
    foreign_partition_bounds: "DROP FOREIGN TABLE app.readings_old; CREATE FOREIGN TABLE app.readings_old PARTITION OF app.readings FOR VALUES FROM ('2001-01-01') TO ('2020-01-01') SERVER files OPTIONS (filename '/dev/null')" => ["~ foreign table app.readings_old"];
    foreign_column_option: "ALTER FOREIGN TABLE app.remote_images ALTER COLUMN id OPTIONS (SET column_name 'other')" => ["~ foreign table app.remote_images"];
    foreign_column_option_added: "ALTER FOREIGN TABLE app.remote_images ALTER COLUMN seen OPTIONS (ADD column_name 'visible')" => ["~ foreign table app.remote_images"];
    foreign_column_added: "ALTER FOREIGN TABLE app.remote_images ADD COLUMN extra integer" => ["~ foreign table app.remote_images"];
    foreign_column_not_null: "ALTER FOREIGN TABLE app.remote_images ALTER COLUMN seen SET NOT NULL" => ["~ foreign table app.remote_images"];
    foreign_column_default: "ALTER FOREIGN TABLE app.remote_images ALTER COLUMN url DROP DEFAULT" => ["~ foreign table app.remote_images"];
    foreign_column_statistics: "ALTER FOREIGN TABLE app.remote_images ALTER COLUMN url SET STATISTICS -1" => ["~ foreign table app.remote_images"];
    foreign_table_check: "ALTER FOREIGN TABLE app.remote_images DROP CONSTRAINT remote_images_id_check" => ["- constraint app.remote_images remote_images_id_check"];
    foreign_table_granted: "GRANT UPDATE ON app.remote_images TO __ROLE__" => ["~ foreign table app.remote_images"];
    comment_on_foreign_table: "COMMENT ON FOREIGN TABLE app.remote_images IS NULL" => ["~ foreign table app.remote_images"];
    foreign_table_added: "CREATE FOREIGN TABLE app.more (x integer) SERVER elsewhere" => ["+ foreign table app.more"];
    foreign_table_inheriting: "CREATE FOREIGN TABLE app.remote_items (extra text) INHERITS (app.items) SERVER elsewhere" => ["+ foreign table app.remote_items"];
    foreign_table_dropped: "DROP FOREIGN TABLE app.remote_images" => ["- foreign table app.remote_images", "- constraint app.remote_images remote_images_id_check"];
}

unchanged! {
    foreign_table_options_in_another_order: "ALTER FOREIGN TABLE app.remote_images OPTIONS (DROP schema_name); ALTER FOREIGN TABLE app.remote_images OPTIONS (ADD schema_name 'app')";
}

#[test]
fn a_user_mapping_password_never_reaches_the_snapshot() {
    let db = TestDb::new();
    run_sql(&db, &every_kind_sql(&db));
    run_sql(
        &db,
        "CREATE SERVER keyed FOREIGN DATA WRAPPER postgres_fdw \
            OPTIONS (host 'h', sslkey '/secret/key', passfile '/secret/path'); \
         CREATE USER MAPPING FOR PUBLIC SERVER keyed \
            OPTIONS (user 'u', password 'public-secret', password_required 'false', \
                sslpassword 'ssl-secret')",
    );
    let text = snapshot(&db);
    assert!(
        text.contains("\n-- user mapping for CURRENT_USER server loopback\nCREATE USER MAPPING FOR CURRENT_USER SERVER \"loopback\" OPTIONS (\"user\" 'app');\n"),
        "{text}"
    );
    // A switch named like a password is not a secret.
    assert!(
        text.contains("OPTIONS (\"password_required\" 'false', \"user\" 'u');"),
        "{text}"
    );
    for secret in [
        "never-shown",
        "server-secret",
        "public-secret",
        "/secret/path",
    ] {
        assert!(!text.contains(secret), "{secret} in:\n{text}");
    }
    assert_round_trip(&text);
}

// Replica identity and CLUSTER ON were read before issue 13; the cases `mutations` lacks.
changes! {
    replica_identity_nothing: "ALTER TABLE app.images REPLICA IDENTITY NOTHING" => ["~ table app.images"];
    replica_identity_full: "ALTER TABLE app.images REPLICA IDENTITY FULL" => ["~ table app.images"];
    replica_identity_unique_index: "CREATE UNIQUE INDEX offerings_name_key ON app.offerings (name); ALTER TABLE app.offerings REPLICA IDENTITY USING INDEX offerings_name_key" => ["+ index app.offerings_name_key"];
    replica_identity_moved_off_an_index: "ALTER TABLE app.cache REPLICA IDENTITY USING INDEX cache_pkey; ALTER TABLE app.cache REPLICA IDENTITY NOTHING" => ["~ table app.cache"];
    cluster_on_an_exclusion_constraint_index: "ALTER TABLE app.bookings CLUSTER ON bookings_no_overlap" => ["~ constraint app.bookings bookings_no_overlap"];
}

unchanged! {
    cluster_on_and_off: "ALTER TABLE app.images CLUSTER ON images_lower_url; ALTER TABLE app.images SET WITHOUT CLUSTER";
}
