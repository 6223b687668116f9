//! The scratch server: it starts, serves, and leaves nothing behind.

use pgstrata::scratch::ScratchServer;

#[test]
fn scratch_server_serves_queries_on_a_private_socket_and_is_removed_on_drop() {
    let server = ScratchServer::start().expect("starting");
    let dir = server.dir().to_path_buf();
    assert!(
        dir.join(".s.PGSQL.5432").exists(),
        "socket in the private directory"
    );
    let mut client = server.connect("postgres").expect("connecting");
    let fsync: String = client.query_one("SHOW fsync", &[]).unwrap().get(0);
    assert_eq!(fsync, "off");
    let listen: String = client
        .query_one("SHOW listen_addresses", &[])
        .unwrap()
        .get(0);
    assert_eq!(listen, "", "no TCP listener");
    let app: String = client
        .query_one(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(app, "pgstrata");
    drop(client);
    drop(server);
    assert!(!dir.exists(), "directory {} deleted", dir.display());
}
