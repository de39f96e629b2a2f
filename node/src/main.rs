//! credx node daemon. The command line arrives with the sync layer; for now the binary only
//! proves the library links.

fn main() {
    println!(
        "credx-node {} (transport {})",
        env!("CARGO_PKG_VERSION"),
        credx_node::transport::ALPN_NAME
    );
}
