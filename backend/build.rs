//! Rebuilds the server when the SPA in `frontend/dist` changes. rust-embed includes the files
//! it finds at compile time, but cargo does not know that folder is an input: without this, a
//! server built before `trunk build` keeps serving "not built" forever.
fn main() {
    println!("cargo:rerun-if-changed=../frontend/dist");
}
